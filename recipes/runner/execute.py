"""Running the steps: each in its own process and log, recorded, and stopped with the runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from recipes.runner.arguments import TRAINING, ExperimentArguments
from recipes.runner.state import last_checkpoint, prepare, state, step_lock, upstream_runs, write_record
from recipes.runner.steps import Arm, Step


def run_process(argv: list[str], log_file: Path) -> int:
    """Run one step in its own process group; its output goes to the terminal and to log_file.
    Interrupted (Ctrl-C, SIGTERM), the step's whole process group is stopped with it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while chunk := process.stdout.read1(65536):
                log.write(chunk)
                sys.stdout.buffer.write(chunk)
                sys.stdout.flush()
            return process.wait()
        except BaseException:
            _stop(process)
            raise


def _stop(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def run_steps(arms: list[Arm], args: ExperimentArguments, runner=run_process) -> dict[str, str]:
    """Run every step that is not done (of ``args.steps``, if given); returns the failed arms, each with why."""
    failed_steps: dict[int, str] = {}
    failures: dict[str, str] = {}
    for arm in arms:
        steps = arm.steps
        if args.steps:  # up to the last step asked for; those before it that are not asked for must be done
            asked = [i for i, step in enumerate(steps) if step.kind in args.steps]
            steps = steps[: asked[-1] + 1] if asked else []
        for step in steps:
            if id(step) in failed_steps:  # a shared step that failed under another arm
                failures[arm.name] = failed_steps[id(step)]
                break
            why = next((failed_steps[id(up)] for up in step.needs if id(up) in failed_steps), None)
            if why is not None:
                failures[arm.name] = why
                break
            current = state(step)
            where = f"{arm.name}/{step.kind}" + (f" (shared with arm {step.arm})" if step.arm != arm.name else "")
            if current == "done":
                print(f"== {where}: done, skipped")
                continue
            if args.steps and step.kind not in args.steps:
                failures[arm.name] = f"{step.kind} is not done, and --steps leaves it out"
                break
            with step_lock(step):
                outcome = _run_step(step, where, args, runner)
            if outcome is None:
                continue
            failed_steps[id(step)] = outcome
            failures[arm.name] = outcome
            if args.fail_fast:
                return failures
            break
    return failures


def _run_step(step: Step, where: str, args: ExperimentArguments, runner) -> str | None:
    """Run one step, recording it; None when it finished, else why it failed."""
    prepare(step)
    resume = last_checkpoint(step) if step.kind in TRAINING else None
    print(f"== {where}: " + (f"resuming from {resume}" if resume else "running") + f"\n   {step.shown(args)}")
    run_id = uuid.uuid4().hex[:12]
    started = time.time()
    write_record(step, status="running", run_id=run_id, inputs=upstream_runs(step), started=started, resumed_from=resume,
                 command=step.argv(args), log_file=str(step.log_file))
    try:
        returncode = runner(step.argv(args), step.log_file)
    except BaseException:
        write_record(step, status="interrupted", elapsed_s=round(time.time() - started, 1))
        raise
    elapsed = round(time.time() - started, 1)
    if returncode == 0:
        write_record(step, status="finished", returncode=0, finished=time.time(), elapsed_s=elapsed)
        return None
    why = f"{step.kind} failed (exit {returncode}); see {step.log_file}"
    write_record(step, status="failed", returncode=returncode, elapsed_s=elapsed)
    print(f"!! {where}: {why}")
    return why


def ensure_tiny_model(args: ExperimentArguments) -> None:
    if args.build_tiny_model and args.model_name_or_path and not Path(args.model_name_or_path).is_dir():
        from recipes.smoke import make_tiny_model

        print(f"== making the tiny smoke model in {args.model_name_or_path}")
        make_tiny_model.main([args.model_name_or_path])


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM and SIGHUP stop the running step as Ctrl-C does, and are recorded


def stop_on_signals() -> None:
    """Make SIGTERM, and SIGHUP (a closed terminal: the step is in its own session), stop the runner
    and its running step as Ctrl-C does."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
