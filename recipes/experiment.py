"""Run one of the paper's comparisons end to end: every arm's continued pretraining, instruction
tuning and evaluation, checked to be comparable before any training starts, and one table at the
end.

```bash
# the plan: arms, steps, command lines, token budgets, what is done, an estimate of GPU time
python recipes/experiment.py --config recipes/experiments/rq1_formats.yaml --dry-run

# run it (a rerun skips every finished step and resumes an interrupted one)
python recipes/experiment.py --config recipes/experiments/rq1_formats.yaml

# a few arms only; stop at the first failure
python recipes/experiment.py --config recipes/experiments/rq1_formats.yaml --only multiway unaligned --fail-fast

# on a cluster: one sbatch script per arm and step, and submit.sh to queue them with dependencies
python recipes/experiment.py --config recipes/experiments/rq1_formats.yaml --emit slurm slurm/rq1

# on the CPU, with the tiny local model: the machinery in a few minutes
python recipes/experiment.py --config recipes/experiments/smoke.yaml
```

The experiment file
-------------------
``configs`` names the base config of each step: ``cpt`` and ``sft`` (recipes/cpt.py and
recipes/sft.py configs, both optional) and ``eval`` (recipes/eval.py). ``common`` holds overrides for
every arm, and ``arms`` lists the arms; each has a ``name`` (it becomes a folder) and, per step,
``cpt:`` / ``sft:`` / ``eval:`` overrides of that step's config, or ``false`` to skip the step. An
arm whose ``cpt`` and ``sft`` both run trains SFT on its CPT model merged (recipes/merge_adapter.py).
``control`` names the arm the others are compared with. Each step of each arm runs in its own
process (``accelerate launch`` for training, ``python recipes/eval.py`` for the evaluation, argument
lists, no shell), with its output in ``EXP/<arm>/<step>``, its resolved config in
``EXP/<arm>/configs/<step>.yaml`` and its log in ``EXP/<arm>/logs/<step>.log``.

Two arms whose step resolves to the same config (say, one CPT run under two SFT arms) share it: it
runs once, under the first arm, and the plan says so.

Reruns
------
A step's run record (``EXP/<arm>/<step>/_ted2025_step.json``) holds a hash of its resolved config
(without output and Hub names) and of the steps it builds on. A finished step with the same hash is
skipped; an unfinished one is run again and resumes from its last checkpoint; a step whose config
changed, or that builds on a step run again since, is cleared and run from scratch (after the
checks below pass). One runner at a time holds a step (a lock beside its folder). The hash covers
the configs, not the corpus: after rebuilding the corpus at the same path, delete ``EXP`` (or the
steps) to rerun. Nor does it cover ``push_to_hub``: a finished step is not pushed again when the
experiment is rerun with it on (push its folder with ``huggingface-cli upload``).

On a cluster, ``--emit slurm DIR`` writes one sbatch script per step, each running
``experiment.py --only ARM --steps STEP`` on the experiment as resolved (``EXP/experiment.yaml``),
so that records, skips and checks are the same as here; ``DIR/submit.sh`` queues them with
``--dependency=afterok`` and a ``compare.sbatch`` that writes the table when the evaluations end.

Checked before any training starts
----------------------------------
* every CPT arm has the control's token budget, epochs, seed, corpus, subset, split, max_length
  and evaluation texts, unless the arm sets that key itself: then the table shows the difference;
  the same holds for the SFT arms' example count, seed, corpus and subset;
* every arm is evaluated on the same test segments, tasks and decoding settings (no exceptions);
* each step's config parses with its recipe's own parser (so a GPU profile on a CPU machine, or a
  misspelt key, fails now), and each CPT arm's texts fill its token budget: they are built here,
  with the recipe's own code, into the step's output folder, where the training reads them back.

A dry run makes the first two checks and that every key of every config is one its recipe knows:
it needs neither a GPU, nor the tokenizer, nor the corpus.

Output
------
``EXP/comparison.json``, ``EXP/comparison.md`` and ``EXP/comparison.png`` (see
:mod:`recipes.comparison`): one row per arm, one column per benchmark, translation direction
(chrF++) and probe summary, each cell read from that arm's ``results.json`` and shown with its
stderr and its delta against the control. With ``push_to_hub``, each step pushes where its recipe
does (private by default) and the comparison goes to the dataset repo ``comparison_repo``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from trl import TrlParser

from recipes.runner.arguments import CONFIGURED, STEPS, TRAINING, ExperimentArguments, ExperimentError
from recipes.runner.checks import check_data, check_keys, differences
from recipes.runner.dry_run import print_plan
from recipes.runner.execute import ensure_tiny_model, run_process, run_steps, stop_on_signals
from recipes.runner.plan import plan, selected
from recipes.runner.slurm import emit_slurm
from recipes.runner.state import evaluated, prepare, read_record, steps_to_run
from recipes.runner.steps import STEP_RECORD, Arm, Step, unique_steps

# The runner's names that its callers and tests use. A step's command line (the scripts and the
# `accelerate launch` it runs) is recipes.runner.steps.SCRIPTS and ACCELERATE.
__all__ = ["CONFIGURED", "STEPS", "STEP_RECORD", "TRAINING", "Arm", "ExperimentArguments", "ExperimentError", "Step",
           "main", "make_parser", "plan", "run_process", "unique_steps"]


def make_parser() -> TrlParser:
    return TrlParser((ExperimentArguments,), description=__doc__.split("\n\n")[0])


def main(args: ExperimentArguments, runner=run_process) -> dict | None:
    arms = plan(args)
    check_keys(arms)
    deliberate = differences(arms)
    chosen = selected(arms, args)
    if args.dry_run:
        print_plan(chosen, arms[0].name, args, deliberate)
        print("\nDry run: nothing was run. Checked: the arms' comparability and every config key. Not checked in a "
              "dry run: that the configs parse on this machine and each CPT arm's data fills its budget (needs the "
              "tokenizer and the corpus).")
        return None
    if args.emit:
        emit_slurm(chosen, args, Path(args.emit[1]))
        return None
    from recipes import comparison

    failures = {}
    if not args.compare_only:
        ensure_tiny_model(args)
        to_run = steps_to_run(chosen, args.steps)
        # The steps whose folders may take the checked texts: a changed one is cleared only after the checks.
        keep = {id(step) for step in to_run if prepare(step, clear=False) != "changed"}
        print(f"== checking {len(to_run)} steps before any training starts")
        check_data(to_run, cache=keep)
        failures = run_steps(chosen, args, runner)
        if args.steps:  # one step of a cluster run: compare.sbatch writes the table
            return {"failed": failures}
    # The table: the arms run now, and any other arm whose evaluation is done with its current config.
    scored = {arm.name for arm in arms if evaluated(arm)}
    shown = [arm for arm in arms if arm in chosen or arm.name in scored]
    table = comparison.write_comparison(shown, arms[0].name, args, deliberate, failures, scored, read_record)
    print("\n" + (Path(args.output_dir) / comparison.COMPARISON_MD).read_text(encoding="utf-8"))
    if args.push_to_hub and args.comparison_repo:
        url = comparison.push_comparison(Path(args.output_dir), args)
        print(f"Comparison pushed to {url}.")
    if failures:
        print(f"{len(failures)} arm(s) failed: " + "; ".join(f"{arm}: {why}" for arm, why in failures.items()))
    return table


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    stop_on_signals()
    try:
        (experiment_args,) = make_parser().parse_args_and_config()
        result = main(experiment_args)
    except ExperimentError as error:
        sys.exit(f"experiment: {error}")
    except KeyboardInterrupt:
        print("experiment: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
    sys.exit(1 if result and result.get("failed") else 0)
