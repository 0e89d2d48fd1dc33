"""The plan, printed: each arm's steps, what is done, and an estimate of the GPU time still to run."""

from __future__ import annotations

from recipes.runner.arguments import ExperimentArguments
from recipes.runner.state import last_checkpoint, state
from recipes.runner.steps import Arm, Step


def estimated_hours(step: Step, estimate: dict) -> float | None:
    config = step.config
    epochs = float(config.get("num_train_epochs") or 1)
    if step.kind == "cpt" and estimate["tokens_per_second"] and config.get("token_budget"):
        return config["token_budget"] * epochs / estimate["tokens_per_second"] / 3600
    if step.kind == "sft" and estimate["tokens_per_second"] and config.get("num_train_examples"):
        tokens = config["num_train_examples"] * estimate["sft_tokens_per_example"] * epochs
        return tokens / estimate["tokens_per_second"] / 3600
    if step.kind == "eval" and estimate["eval_minutes"] is not None:
        return estimate["eval_minutes"] / 60
    if step.kind == "merge" and estimate["merge_minutes"] is not None:
        return estimate["merge_minutes"] / 60
    return None


def _hours(hours: float | None) -> str:
    if hours is None:
        return "?"
    if hours < 1 / 60:
        return "<1 min"
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.1f} h"


def describe_step(step: Step) -> str:
    config = step.config
    if step.kind == "cpt":
        budget = config.get("token_budget")
        return f"{config.get('cpt_format', 'multiway')}, {config.get('dataset_config')}, " + (
            f"{budget:,} tokens" if budget else "no token budget")
    if step.kind == "sft":
        return (f"{config.get('num_train_examples') or 'one per window'} instructions, "
                f"multi_target_fraction {config.get('multi_target_fraction', 0.25)}, on {config.get('model_name_or_path')}")
    if step.kind == "merge":
        return f"{config['adapter']} into {config['model_name_or_path']}"
    return f"{config.get('model_name_or_path')}" + (f" + {config['adapter']}" if config.get("adapter") else " (no adapter)")


def print_plan(arms: list[Arm], control: str, args: ExperimentArguments, deliberate: dict) -> None:
    print(f"Experiment {args.name}: {len(arms)} arms, control {control}, output {args.output_dir}")
    total, unknown, seen = 0.0, False, set()
    for arm in arms:
        print(f"\narm {arm.name}" + (" (control)" if arm.name == control else "") + (f": {arm.description}" if arm.description else ""))
        for step in arm.steps:
            first = id(step) not in seen
            seen.add(id(step))
            status = {"done": "done, skipped", "resume": f"resumes from {last_checkpoint(step)}", "rerun": "unfinished, runs again",
                      "changed": "config changed: cleared and rerun", "new": "to run"}[state(step)]
            if step.arm != arm.name or not first:
                print(f"  {step.kind:5}  shared with arm {step.arm}: one run, {status}")
                if not first:
                    continue
            hours = estimated_hours(step, args.estimate)
            if status != "done, skipped":
                if hours is None:
                    unknown = True
                else:
                    total += hours
            print(f"  {step.kind:5}  {status:32}  ~{_hours(hours):>8}  {describe_step(step)}\n         {step.shown(args)}")
        for difference in deliberate.get(arm.name, []):
            print(f"  differs from the control: {difference['step']} {difference['key']} = "
                  f"{difference['value']!r} (control: {difference['control']!r})")
    tps = args.estimate["tokens_per_second"]
    print(f"\nEstimated GPU time still to run: ~{_hours(total)}" + (" (some steps have no estimate)" if unknown else "")
          + (f", at {tps:,.0f} training tokens/s" if tps else "") + ". An estimate from the configs' token budgets, not a measurement.")
