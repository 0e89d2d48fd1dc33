"""What the runner runs: an arm, its steps, and each step's folders and command line."""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from recipes.runner.arguments import CONFIGURED, TRAINING, ExperimentArguments

RECIPES_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = {step: RECIPES_DIR / f"{step}.py" for step in CONFIGURED} | {"merge": RECIPES_DIR / "merge_adapter.py"}
ACCELERATE = [sys.executable, "-m", "accelerate.commands.launch"]  # `accelerate launch` of this environment
STEP_RECORD = "_ted2025_step.json"  # "_*" is never pushed to the Hub by the trainer


@dataclass(eq=False)  # a step is itself: two arms share one by holding the same object
class Step:
    kind: str  # cpt, merge, sft or eval
    arm: str  # the arm that owns it (runs it; others may share it)
    config: dict  # resolved: what goes into its config file
    digest: str  # hash of what makes the run
    root: Path  # EXP
    needs: list[Step] = field(default_factory=list)
    overrides: dict = field(default_factory=dict)  # the arm's own overrides of the base config

    @property
    def output_dir(self) -> Path:
        return self.root / self.arm / self.kind

    @property
    def config_file(self) -> Path:
        return self.root / self.arm / "configs" / f"{self.kind}.yaml"

    @property
    def log_file(self) -> Path:
        return self.root / self.arm / "logs" / f"{self.kind}.log"

    @property
    def record_file(self) -> Path:
        return self.output_dir / STEP_RECORD

    @property
    def results_file(self) -> Path:
        return self.output_dir / "results.json"

    def argv(self, args: ExperimentArguments, launcher: list[str] | None = None) -> list[str]:
        """The step's command line. Training goes through ``accelerate launch`` (``launcher``, by
        default this Python's accelerate); eval and merge are plain scripts."""
        if self.kind in TRAINING:
            launch = launcher or ACCELERATE
            config = ["--config_file", args.accelerate_config] if args.accelerate_config else []
            return [*launch, *config, *args.launch_args, str(SCRIPTS[self.kind]), "--config", str(self.config_file)]
        return [sys.executable, str(SCRIPTS[self.kind]), "--config", str(self.config_file)]

    def shown(self, args: ExperimentArguments) -> str:
        """The command line as a person would type it: ``accelerate launch``, ``python``, paths relative to here."""
        argv = self.argv(args, launcher=["accelerate", "launch"])
        return shlex.join("python" if arg == sys.executable else _relative(arg) for arg in argv)


@dataclass(eq=False)
class Arm:
    name: str
    description: str
    steps: list[Step]
    overrides: dict  # per configured step: the arm's own overrides

    def step(self, kind: str) -> Step | None:
        return next((step for step in self.steps if step.kind == kind), None)


def _relative(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd())) if Path(path).is_absolute() else path
    except ValueError:
        return path


def unique_steps(arms: list[Arm]) -> list[Step]:
    """Each step once, in run order: an arm's steps in order, a shared step where it is first needed."""
    seen, steps = set(), []
    for arm in arms:
        for step in arm.steps:
            for needed in [*step.needs, step]:
                if id(needed) not in seen:
                    seen.add(id(needed))
                    steps.append(needed)
    return steps
