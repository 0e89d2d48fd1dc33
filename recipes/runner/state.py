"""Run records and locks: what is done, what resumes, what changed since the last run."""

from __future__ import annotations

import fcntl
import json
import shutil
from contextlib import contextmanager

import yaml

from builder.rawstore import write_atomic
from recipes.runner.arguments import ExperimentError
from recipes.runner.steps import Arm, Step, unique_steps


def read_record(step: Step) -> dict | None:
    try:
        return json.loads(step.record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def state(step: Step) -> str:
    """done, resume (unfinished, has a checkpoint), rerun (unfinished), changed (other config) or new."""
    record = read_record(step)
    if record is None:
        if step.output_dir.exists() and any(step.output_dir.iterdir()):
            raise ExperimentError(
                f"{step.output_dir} holds files but no run record of this runner: move them away, or pick another output_dir"
            )
        return "new"
    if record.get("digest") != step.digest:
        return "changed"
    if record.get("status") not in (None, "prepared") and record.get("inputs", {}) != upstream_runs(step):
        return "changed"  # built on a run of an earlier step that has since been redone
    if record.get("status") == "finished":
        return "done"
    return "resume" if last_checkpoint(step) else "rerun"


def evaluated(arm: Arm) -> bool:
    """The arm's evaluation is done with its current config, on its current training runs."""
    try:
        return state(arm.step("eval")) == "done" and arm.step("eval").results_file.is_file()
    except ExperimentError:  # a folder the runner did not write
        return False


def upstream_runs(step: Step) -> dict:
    """The run ids of the steps this one builds on, as they are now."""
    return {up.kind: (read_record(up) or {}).get("run_id") for up in step.needs}


def last_checkpoint(step: Step) -> str | None:
    checkpoints = [p for p in step.output_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(checkpoints, key=lambda p: int(p.name.split("-")[-1])).name if checkpoints else None


def write_record(step: Step, **fields) -> dict:
    record = {**(read_record(step) or {}), "step": step.kind, "arm": step.arm, "digest": step.digest,
              "config_file": str(step.config_file), **fields}
    write_atomic(step.record_file, (json.dumps(record, indent=2, default=str) + "\n").encode("utf-8"))
    return record


def write_config(step: Step) -> None:
    step.config_file.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Written by recipes/experiment.py for arm {step.arm}, step {step.kind} (hash {step.digest}). Do not edit: edit the experiment.\n"
    step.config_file.write_text(header + yaml.safe_dump(step.config, sort_keys=False, allow_unicode=True), encoding="utf-8")


def prepare(step: Step, clear: bool = True) -> str:
    """Make the step's folder ready to run: cleared when its config changed (unless not ``clear``
    yet), kept to resume. Returns the step's state before."""
    current = state(step)
    if current == "changed" and clear:
        print(f"  {step.arm}/{step.kind}: the config changed since the last run: cleared, runs from scratch")
        shutil.rmtree(step.output_dir)
    write_config(step)
    if current == "new" or (current == "changed" and clear):
        write_record(step, status="prepared")  # claims the folder before anything is written in it
    return current


def steps_to_run(arms: list[Arm], kinds: list[str] | None = None) -> list[Step]:
    """Each step that is not done, and each that builds on one of them (it is redone after), in run
    order; of ``kinds`` only, if given."""
    to_run = []
    for step in unique_steps(arms):
        if (state(step) != "done" or any(up in to_run for up in step.needs)) and (not kinds or step.kind in kinds):
            to_run.append(step)
    return to_run


@contextmanager
def step_lock(step: Step):
    """One runner per step: a second (another terminal, a Slurm job) fails at once, not beside it."""
    step.output_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(step.output_dir.parent / f".{step.kind}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExperimentError(f"{step.output_dir} is being run by another runner; wait for it, or stop it") from None
        yield
