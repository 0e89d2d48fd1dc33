"""The experiment file: its fields, checked as they are parsed (see recipes/experiment.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ted2025 import is_repo_id

CONFIGURED = ("cpt", "sft", "eval")  # the steps an experiment file configures
STEPS = ("cpt", "merge", "sft", "eval")  # in order; merge joins a CPT adapter to its base for SFT
TRAINING = ("cpt", "sft")
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_ESTIMATE = {"tokens_per_second": None, "sft_tokens_per_example": 300, "eval_minutes": None, "merge_minutes": 10}


class ExperimentError(ValueError):
    """The experiment file, or what it would run, cannot make a fair comparison."""


@dataclass
class ExperimentArguments:
    """An experiment: base configs, arms, and how to run and report them."""

    name: str = field(default="experiment", metadata={"help": "Name of the experiment (table title, Hub repo names)."})
    output_dir: str = field(default="runs/experiment", metadata={"help": "EXP: every arm's steps go under it."})
    configs: dict = field(default_factory=dict, metadata={"help": "In the YAML: base config per step, {cpt: ..., sft: ..., eval: ...}."})
    common: dict = field(default_factory=dict, metadata={"help": "In the YAML: overrides for every arm, per step."})
    arms: list[dict] = field(default_factory=list, metadata={"help": "In the YAML: the arms, each a name, a description and per-step overrides (false: skip)."})
    control: str | None = field(default=None, metadata={"help": "The arm the others are compared with (default: the first)."})
    note: str | None = field(default=None, metadata={"help": "A line printed above the table."})
    model_name_or_path: str | None = field(default=None, metadata={"help": "Base model of every step (overrides the configs)."})
    dataset_name: str | None = field(default=None, metadata={"help": "A built corpus for every step (overrides the configs)."})
    build_tiny_model: bool = field(
        default=False, metadata={"help": "Smoke profile: make model_name_or_path with recipes/smoke/make_tiny_model.py if absent."}
    )
    accelerate_config: str | None = field(default=None, metadata={"help": "accelerate config file for the training steps."})
    launch_args: list[str] = field(default_factory=list, metadata={"help": "More `accelerate launch` arguments."})
    estimate: dict = field(
        default_factory=dict,
        metadata={"help": "For the GPU-time estimate: tokens_per_second, sft_tokens_per_example, eval_minutes, merge_minutes."},
    )
    slurm_options: list[str] = field(default_factory=list, metadata={"help": "#SBATCH options for --emit slurm, e.g. --partition=gpu."})
    push_to_hub: bool = field(default=False, metadata={"help": "Push every arm's adapter and scores, and the comparison."})
    hub_namespace: str | None = field(default=None, metadata={"help": "Org or user of the arms' repos: NS/NAME-ARM-STEP."})
    comparison_repo: str | None = field(default=None, metadata={"help": "Dataset repo (org/name) for the comparison table."})
    hub_private_repo: bool = field(default=True, metadata={"help": "Create the repos private."})
    dry_run: bool = field(default=False, metadata={"help": "Print the plan and check the configs; run nothing."})
    only: list[str] | None = field(default=None, metadata={"help": "Run these arms only (and the steps they share)."})
    fail_fast: bool = field(default=False, metadata={"help": "Stop at the first failed step (default: report it, go on)."})
    emit: list[str] | None = field(default=None, metadata={"help": "`--emit slurm DIR`: write sbatch scripts, run nothing."})
    compare_only: bool = field(default=False, metadata={"help": "Write the comparison from the finished evaluations; run nothing."})
    steps: list[str] | None = field(
        default=None, metadata={"help": "Run only these steps of the chosen arms (cpt merge sft eval); what they build on must be done."}
    )

    def __post_init__(self):
        if not ARM_NAME.fullmatch(self.name):
            raise ExperimentError(f"name {self.name!r}: use letters, digits, '.', '_' and '-'")
        if self.emit is not None and (len(self.emit) != 2 or self.emit[0] != "slurm"):
            raise ExperimentError(f"--emit takes 'slurm DIR', got {' '.join(self.emit)!r}")
        unknown = set(self.estimate) - set(DEFAULT_ESTIMATE)
        if unknown:
            raise ExperimentError(f"estimate: unknown keys {sorted(unknown)}; known: {sorted(DEFAULT_ESTIMATE)}")
        self.estimate = {**DEFAULT_ESTIMATE, **self.estimate}
        if self.push_to_hub and not self.hub_namespace:
            raise ExperimentError("push_to_hub needs hub_namespace: the org or user the arms' repos go to")
        if self.hub_namespace is not None and not re.fullmatch(r"[\w.-]+", self.hub_namespace):
            raise ExperimentError(f"hub_namespace must be an org or user name, got {self.hub_namespace!r}")
        if not isinstance(self.common, dict) or set(self.common) - set(CONFIGURED):
            raise ExperimentError(f"common holds overrides per step, {'/'.join(CONFIGURED)}; got {self.common!r}")
        if self.comparison_repo is not None and not is_repo_id(self.comparison_repo):
            raise ExperimentError(f"comparison_repo must be org/name, got {self.comparison_repo!r}")
        if self.steps is not None and set(self.steps) - set(STEPS):
            raise ExperimentError(f"--steps: unknown steps {sorted(set(self.steps) - set(STEPS))}; the steps are {list(STEPS)}")
        for option in self.slurm_options:
            if not option.startswith("-") or any(c in option for c in "\n\r"):
                raise ExperimentError(f"slurm_options: {option!r} is not one #SBATCH option")
