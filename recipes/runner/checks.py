"""Checks of a fair comparison, made before anything runs: the arms share what they must with the
control, every config key is one its recipe knows, every config parses and the data fills its budget."""

from __future__ import annotations

from trl import TrlParser

from recipes.device import check_device
from recipes.runner.arguments import CONFIGURED, ExperimentError
from recipes.runner.steps import Arm, Step, unique_steps

# What every arm must share with the control unless it sets the key itself on purpose.
SHARED = {
    "cpt": ("token_budget", "num_train_epochs", "seed", "dataset_name", "dataset_config", "dataset_train_split",
            "max_length", "eval_token_budget", "eval_cpt_format"),
    "sft": ("num_train_examples", "num_train_epochs", "seed", "dataset_name", "dataset_config", "dataset_train_split",
            "max_length"),
}
# What every arm's evaluation must share with the control's, without exception.
EVAL_SHARED = ("dataset_name", "dataset_test_split", "directions", "max_segments", "flores_dir", "flores_split",
               "flores_directions", "lm_eval_tasks", "mc_num_choices", "probe_languages", "probe_segments", "seed",
               "max_new_tokens", "probe_max_tokens", "lm_eval_limit", "num_fewshot", "lm_eval_apply_chat_template",
               "bootstrap_iters", "chat_template_path", "batch_size", "dtype", "model_revision", "load_in_4bit",
               "load_in_8bit", "bnb_4bit_quant_type", "use_bnb_nested_quant")


def differences(arms: list[Arm]) -> dict[str, list[dict]]:
    """Per arm, the shared keys it sets differently from the control, on purpose. A difference the
    arm did not ask for (another base config), or any difference in the evaluation, is an error."""
    problems, deliberate = [], {}
    # Each step is compared with the control's, or, where the control skips it, the first arm's that runs it.
    reference = {kind: next((arm for arm in arms if arm.step(kind)), None) for kind in CONFIGURED}
    for arm in arms:
        deliberate[arm.name] = []
        for kind, keys in [*SHARED.items(), ("eval", EVAL_SHARED)]:
            mine, other = arm.step(kind), reference[kind]
            if mine is None or other is None or other is arm:
                continue
            theirs = other.step(kind)
            for key in keys:
                value, expected = mine.config.get(key), theirs.config.get(key)
                if value == expected:
                    continue
                if kind == "eval":
                    problems.append(f"arm {arm.name}: eval {key} is {value!r}, arm {other.name}'s is {expected!r}; "
                                    "every arm is evaluated on the same test segments, tasks and decoding settings")
                elif key in arm.overrides.get(kind, {}):
                    deliberate[arm.name].append({"step": kind, "key": key, "value": value, "control": expected})
                else:
                    problems.append(f"arm {arm.name}: {kind} {key} is {value!r}, arm {other.name}'s is {expected!r}, "
                                    f"and the arm does not set it; set it in the arm to make the difference deliberate")
        for kind, overrides in arm.overrides.items():  # what else the arm sets differently, for the table
            mine, other = arm.step(kind), reference.get(kind)
            if other is None or other is arm or kind == "eval":
                continue
            for key in overrides:
                listed = any(d["step"] == kind and d["key"] == key for d in deliberate[arm.name])
                if not listed and mine.config.get(key) != other.step(kind).config.get(key):
                    deliberate[arm.name].append({"step": kind, "key": key, "value": mine.config.get(key),
                                                 "control": other.step(kind).config.get(key)})
        cpt = arm.step("cpt")
        if cpt is not None and cpt.config.get("token_budget") is None:
            problems.append(f"arm {arm.name}: cpt has no token_budget; the arms are compared at one token budget")
    if problems:
        raise ExperimentError("the arms cannot be compared:\n  " + "\n  ".join(problems))
    return deliberate


def check_keys(arms: list[Arm]) -> None:
    """Every key of every resolved config is an argument of its recipe (a misspelt key fails now)."""
    known = {}
    problems = []
    for step in unique_steps(arms):
        if step.kind not in known:
            known[step.kind] = {action.dest for action in recipe_parser(step.kind)._actions}
        unknown = sorted(set(step.config) - known[step.kind])
        if unknown:
            problems.append(f"arm {step.arm}: {step.kind} has keys its recipe does not know: {unknown}")
    if problems:
        raise ExperimentError("\n".join(problems))


def recipe_parser(kind: str):
    if kind == "merge":
        from recipes.merge_adapter import MergeArguments

        return TrlParser((MergeArguments,))
    if kind == "eval":
        from recipes import eval as recipe
    else:
        import importlib

        recipe = importlib.import_module(f"recipes.{kind}")
    return recipe.make_parser()


def check_data(steps: list[Step], cache: set[int] | None = None) -> None:
    """Parse each step's config with its recipe's parser, and build each CPT step's texts with the
    recipe's own code into the step's output folder (the training reads them back from there), so
    that a budget the data cannot fill fails before any training starts. Only the steps in
    ``cache`` (ids) keep their texts; the others' folders are still an older run's."""
    from recipes import cpt, sft
    from recipes.training import load_tokenizer

    problems = []
    for step in steps:
        if step.kind == "merge":
            continue
        extra = ["--adapter", "none"] if step.kind == "eval" else []  # the adapter is made by an earlier step
        try:
            script_args, training_args, model_args = recipe_parser(step.kind).parse_args_and_config(
                ["--config", str(step.config_file), *extra]
            )
            if step.kind == "eval":
                check_device(script_args.device_profile, model_args)  # the rule eval.py itself applies
                continue
            if step.kind == "cpt":
                tokenizer = load_tokenizer(training_args, model_args)
                _, summary = cpt.texts(script_args, training_args, tokenizer, cache=cache is None or id(step) in cache)
                print(f"  {step.arm}/cpt: {summary['tokens']:,} training tokens of {script_args.cpt_format} text "
                      f"(budget {script_args.token_budget:,})")
            else:
                _, summary = sft.instructions(script_args, training_args)
                print(f"  {step.arm}/sft: {summary['examples']:,} instructions from {summary['windows']:,} windows")
        except (ValueError, RuntimeError, OSError) as error:
            problems.append(f"arm {step.arm}: {step.kind}: {type(error).__name__}: {error}")
    if problems:
        raise ExperimentError("before training:\n  " + "\n  ".join(problems))
