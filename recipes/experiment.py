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

import copy
import fcntl
import hashlib
import json
import logging
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from trl import TrlParser

from builder.rawstore import write_atomic
from ted2025 import is_repo_id

logger = logging.getLogger(__name__)

RECIPES_DIR = Path(__file__).resolve().parent
CONFIGURED = ("cpt", "sft", "eval")  # the steps an experiment file configures
STEPS = ("cpt", "merge", "sft", "eval")  # in order; merge joins a CPT adapter to its base for SFT
TRAINING = ("cpt", "sft")
SCRIPTS = {step: RECIPES_DIR / f"{step}.py" for step in CONFIGURED} | {"merge": RECIPES_DIR / "merge_adapter.py"}
ACCELERATE = [sys.executable, "-m", "accelerate.commands.launch"]  # `accelerate launch` of this environment
STEP_RECORD = "_ted2025_step.json"  # "_*" is never pushed to the Hub by the trainer
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ARM_KEYS = {"name", "description", "configs", *CONFIGURED}
# Set by the runner, per arm: not part of what makes a run, so not hashed.
RUNNER_KEYS = ("output_dir", "hub_model_id", "push_to_hub", "hub_private_repo")
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


# --------------------------------------------------------------------------------------------
# The plan: arms, steps and their resolved configs
# --------------------------------------------------------------------------------------------


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


def read_yaml(path: str | Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ExperimentError(f"cannot read config {path}: {error.strerror or error}") from None
    config = yaml.safe_load(text) or {}
    if not isinstance(config, dict):
        raise ExperimentError(f"config {path} must be a YAML mapping")
    return config


def upstream_of(needs: list[Step]) -> list[Step]:
    """Every step these build on, directly or not."""
    found = []
    for step in needs:
        for up in [*upstream_of(step.needs), step]:
            if all(up is not seen for seen in found):
                found.append(up)
    return found


def digest_of(kind: str, config: dict, needs: list[Step]) -> str:
    made_of = {key: value for key, value in config.items() if key not in RUNNER_KEYS}
    for upstream in upstream_of(needs):  # an upstream step is named by its hash, not by its folder
        for key, value in made_of.items():
            if value == str(upstream.output_dir):
                made_of[key] = f"step:{upstream.digest}"
    payload = json.dumps({"step": kind, "config": made_of, "needs": [step.digest for step in needs]}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan(args: ExperimentArguments) -> list[Arm]:
    """Every arm with its steps, resolved. Bad experiment files fail here, before anything runs."""
    if not args.arms:
        raise ExperimentError("the experiment has no arms")
    unknown = set(args.configs) - set(CONFIGURED)
    if unknown or "eval" not in args.configs:
        raise ExperimentError(f"configs names one base config per step, {'/'.join(CONFIGURED)}, eval at least; got {sorted(args.configs)}")
    bases = {kind: read_yaml(path) for kind, path in args.configs.items() if path}
    names = [arm.get("name") if isinstance(arm, dict) else None for arm in args.arms]
    for name, arm in zip(names, args.arms):
        if not isinstance(name, str) or not ARM_NAME.fullmatch(name):
            raise ExperimentError(f"arm {name!r}: every arm needs a name of letters, digits, '.', '_' and '-' (it becomes a folder)")
        extra = set(arm) - ARM_KEYS
        if extra:
            raise ExperimentError(f"arm {name}: unknown keys {sorted(extra)}; an arm has {sorted(ARM_KEYS)}")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ExperimentError(f"arm names must be unique: {duplicates}")
    control = args.control or names[0]
    if control not in names:
        raise ExperimentError(f"control {control!r} is not an arm: {names}")
    if args.only and set(args.only) - set(names):
        raise ExperimentError(f"--only: no arms {sorted(set(args.only) - set(names))}; the arms are {names}")

    root = Path(args.output_dir)
    by_digest: dict[str, Step] = {}
    arms = []
    for spec in args.arms:
        arms.append(_resolve_arm(spec, bases, args, root, by_digest))
    arms.sort(key=lambda arm: arm.name != control)  # the control first: the others are read against it
    return arms


def _resolve_arm(spec: dict, bases: dict, args: ExperimentArguments, root: Path, by_digest: dict) -> Arm:
    name = spec["name"]
    own_bases = spec.get("configs") or {}
    if not isinstance(own_bases, dict) or set(own_bases) - set(CONFIGURED):
        raise ExperimentError(f"arm {name}: configs names base configs per step, {'/'.join(CONFIGURED)}")
    overrides, configs = {}, {}
    for kind in CONFIGURED:
        value = spec.get(kind, {})
        base = read_yaml(own_bases[kind]) if own_bases.get(kind) else bases.get(kind)
        if value is False:
            continue
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ExperimentError(f"arm {name}: {kind} is a mapping of overrides, or false to skip the step")
        if base is None:
            if value:
                raise ExperimentError(f"arm {name}: overrides {kind}, but the experiment has no {kind} config")
            continue
        common = args.common.get(kind) or {}
        overrides[kind] = value
        configs[kind] = {**copy.deepcopy(base), **copy.deepcopy(common), **copy.deepcopy(value)}
    if "eval" not in configs:
        raise ExperimentError(f"arm {name}: every arm is evaluated (the table is made of its scores); do not skip eval")

    steps: list[Step] = []

    def add(kind: str, config: dict, needs: list[Step]) -> Step:
        if args.dataset_name and kind != "merge":
            config.update(dataset_name=args.dataset_name, build_smoke_corpus=False)
        digest = digest_of(kind, config, needs)
        if digest in by_digest:  # the same run as another arm's: share it
            step = by_digest[digest]
        else:
            step = Step(kind, name, config, digest, root, needs, overrides.get(kind, {}))
            config["output_dir"] = str(step.output_dir)
            by_digest[digest] = step
        steps.append(step)
        return step

    def base_model(config: dict) -> str | None:
        return args.model_name_or_path or config.get("model_name_or_path")

    cpt = sft = merge = None
    if "cpt" in configs:
        config = configs["cpt"]
        config["model_name_or_path"] = base_model(config)
        _push_settings(config, args, name, "cpt")
        cpt = add("cpt", config, [])
    if "sft" in configs:
        config = configs["sft"]
        config["model_name_or_path"] = base_model(config)
        needs = []
        if cpt is not None:
            dtype = cpt.config.get("dtype")
            merge = add("merge", {
                "adapter": str(cpt.output_dir), "model_name_or_path": cpt.config["model_name_or_path"],
                "dtype": dtype if dtype in ("bfloat16", "float16", "float32") else "bfloat16",
                "trust_remote_code": bool(cpt.config.get("trust_remote_code", False)),
            }, [cpt])
            config["model_name_or_path"] = str(merge.output_dir)
            needs = [merge]
        _push_settings(config, args, name, "sft")
        sft = add("sft", config, needs)
    config = configs["eval"]
    trained = sft or cpt
    if trained is not None:
        config.update(adapter=str(trained.output_dir), model_name_or_path=trained.config["model_name_or_path"])
        hub_model_id = trained.config.get("hub_model_id") if args.push_to_hub else None
    else:
        config.update(adapter=None, model_name_or_path=base_model(config))
        hub_model_id = None  # the base model's scores go to the comparison only
    config.update(push_to_hub=hub_model_id is not None, hub_model_id=hub_model_id, hub_private_repo=args.hub_private_repo)
    add("eval", config, [trained] if trained else [])
    return Arm(name, spec.get("description") or "", steps, overrides)


def _push_settings(config: dict, args: ExperimentArguments, arm: str, kind: str) -> None:
    """Training steps push where their recipe pushes, to a repo per arm; nothing without push_to_hub."""
    if args.push_to_hub:
        config["push_to_hub"] = True
        config["hub_model_id"] = f"{args.hub_namespace}/{args.name}-{arm}-{kind}"
        config["hub_private_repo"] = args.hub_private_repo
    else:
        config["push_to_hub"] = False
        config.pop("hub_model_id", None)


def selected(arms: list[Arm], args: ExperimentArguments) -> list[Arm]:
    return [arm for arm in arms if not args.only or arm.name in args.only]


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


# --------------------------------------------------------------------------------------------
# Checks: a fair comparison, before anything runs
# --------------------------------------------------------------------------------------------


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
                from recipes.device import check_device

                check_device(script_args.device_profile)
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


# --------------------------------------------------------------------------------------------
# State: what is done, what resumes, what changed
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The plan, printed; the GPU-time estimate
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Slurm: sbatch scripts and a submit script with dependencies (no scheduler of our own)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


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
        to_run = []  # what is not done, and what builds on it (it will be redone after)
        for step in unique_steps(chosen):
            if (state(step) != "done" or any(up in to_run for up in step.needs)) and (not args.steps or step.kind in args.steps):
                to_run.append(step)
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


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM and SIGHUP stop the running step as Ctrl-C does, and are recorded


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)  # a closed terminal: the step is in its own session, stop it too
    try:
        (experiment_args,) = make_parser().parse_args_and_config()
        result = main(experiment_args)
    except ExperimentError as error:
        sys.exit(f"experiment: {error}")
    except KeyboardInterrupt:
        print("experiment: interrupted; rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
    sys.exit(1 if result and result.get("failed") else 0)
