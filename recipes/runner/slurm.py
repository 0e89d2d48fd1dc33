"""Slurm: sbatch scripts and a submit script with dependencies (no scheduler of our own)."""

from __future__ import annotations

import math
import os
import shlex
from dataclasses import asdict
from pathlib import Path

import yaml

from recipes.runner.arguments import ExperimentArguments
from recipes.runner.dry_run import estimated_hours
from recipes.runner.state import write_config
from recipes.runner.steps import RECIPES_DIR, Arm, unique_steps

NOT_RESOLVED = ("dry_run", "emit", "only", "steps", "compare_only", "fail_fast")  # how to run, not what


def emit_slurm(arms: list[Arm], args: ExperimentArguments, directory: Path) -> list[Path]:
    """One sbatch script per step, each running that step through this runner (so its run record,
    skip and checks apply, and a rerun of submit.sh redoes only what is not done), a compare.sbatch
    for the table, and submit.sh, which queues them with Slurm's dependencies."""
    directory.mkdir(parents=True, exist_ok=True)
    root = Path(args.output_dir)
    root.mkdir(parents=True, exist_ok=True)
    experiment_file = (root / "experiment.yaml").resolve()  # this experiment with its command-line overrides
    spec = {key: value for key, value in asdict(args).items() if key not in NOT_RESOLVED}
    experiment_file.write_text("# Written by recipes/experiment.py --emit slurm: the experiment as resolved.\n"
                               + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    runner = ["python", str(RECIPES_DIR / "experiment.py"), "--config", str(experiment_file)]
    header = ["#!/bin/bash", *(f"#SBATCH {option}" for option in args.slurm_options)]
    body = ["set -euo pipefail", f"cd {shlex.quote(os.getcwd())}"]
    steps = unique_steps(arms)
    job = {id(step): f"job_{i}" for i, step in enumerate(steps)}
    submit = ["#!/bin/bash", f"# Queue experiment {args.name}: each step waits for the steps it builds on.",
              "set -euo pipefail", 'cd "$(dirname "$0")"',
              'queue() { local id; id=$(sbatch --parsable "$@"); echo "${id%%;*}"; }  # "id;cluster" -> id', ""]
    scripts = []
    for step in steps:
        write_config(step)
        step.log_file.parent.mkdir(parents=True, exist_ok=True)  # Slurm opens --output before the script runs
        hours = estimated_hours(step, args.estimate)
        limit = max(1, math.ceil((hours or 4) * 1.5))  # 1.5x the estimate, at least an hour
        gpu = step.kind != "merge" and step.config.get("device_profile", "gpu") == "gpu"
        resources = ["#SBATCH --gres=gpu:1"] if gpu else (["#SBATCH --mem=48G"] if step.kind == "merge" else [])
        lines = [header[0], f"#SBATCH --job-name={args.name}-{step.arm}-{step.kind}",
                 f"#SBATCH --output={step.log_file.parent.resolve()}/{step.kind}-slurm-%j.log",
                 f"#SBATCH --time={limit}:00:00", *resources, *header[1:], *body,
                 "# The step, run through the experiment runner so that its run record, skip and checks apply:",
                 f"#   {step.shown(args)}", shlex.join([*runner, "--only", step.arm, "--steps", step.kind]), ""]
        path = directory / f"{step.arm}-{step.kind}.sbatch"
        path.write_text("\n".join(lines), encoding="utf-8")
        scripts.append(path)
        after = ":".join(f"${job[id(up)]}" for up in step.needs)
        dependency = f"--dependency=afterok:{after} --kill-on-invalid-dep=yes " if after else ""
        submit.append(f"{job[id(step)]}=$(queue {dependency}{shlex.quote(path.name)})")
    evals = ":".join(f"${job[id(step)]}" for step in steps if step.kind == "eval")
    compare = directory / "compare.sbatch"
    compare.write_text("\n".join([header[0], f"#SBATCH --job-name={args.name}-compare", "#SBATCH --time=0:30:00",
                                  f"#SBATCH --output={root.resolve()}/compare-slurm-%j.log", *header[1:], *body,
                                  shlex.join([*runner, "--compare_only", "true"]), ""]), encoding="utf-8")
    scripts.append(compare)
    submit += [f"queue --dependency=afterany:{evals} compare.sbatch >/dev/null",
               f'echo "queued {len(steps)} steps of {args.name}, and the comparison after them"']
    submit_path = directory / "submit.sh"
    submit_path.write_text("\n".join(submit) + "\n", encoding="utf-8")
    submit_path.chmod(0o755)
    print(f"Wrote {len(scripts)} sbatch scripts and {submit_path}: run `bash {submit_path}` to queue them.")
    return [*scripts, submit_path]
