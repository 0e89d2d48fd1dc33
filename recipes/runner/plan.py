"""The plan: every arm resolved into its steps, each step's config and the hash that names its run."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import yaml

from recipes.runner.arguments import ARM_NAME, CONFIGURED, ExperimentArguments, ExperimentError
from recipes.runner.steps import Arm, Step

ARM_KEYS = {"name", "description", "configs", *CONFIGURED}
# Set by the runner, per arm: not part of what makes a run, so not hashed.
RUNNER_KEYS = ("output_dir", "hub_model_id", "push_to_hub", "hub_private_repo")


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
            config.update(dataset_name=args.dataset_name)
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
