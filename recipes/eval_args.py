"""The arguments of recipes/eval.py: what to evaluate on (``EvalScriptArguments``), how to run and
where the results go (``EvalArguments``), and the model (``EvalModelConfig``: TRL's ModelConfig plus
the adapter). Each validates itself when parsed, so bad input fails before any data or model is read:
an unknown language or malformed direction (with the registry's suggestions), a missing adapter, a
push without an org/name repo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trl import ModelConfig

from builder import languages as registry
from recipes.device import DEVICE_PROFILES
from recipes.eval_data import TED_TESTSET
from recipes.tasks import MC_TASK, parse_direction
from ted2025 import is_repo_id


@dataclass
class EvalScriptArguments:
    """What to evaluate on."""

    dataset_name: str = field(default="ted2025", metadata={"help": "TED2025 corpus: a folder, a Hub repo id or hf:// path."})
    dataset_test_split: str = field(default="test", metadata={"help": "Split of held-out talks to evaluate on."})
    directions: list[str] = field(
        default_factory=list, metadata={"help": "Translation directions, source-target in registry codes: en-de de-en en-zh-cn."}
    )
    max_segments: int | None = field(
        default=500,
        metadata={"help": "Segments per direction and test set, and ted2025_mc documents per direction (a seeded sample; None: all)."},
    )
    flores_dir: str | None = field(
        default=None, metadata={"help": "Local FLORES-200 folder (flores200_dataset/); see the module docstring."}
    )
    flores_split: str = field(default="devtest", metadata={"help": "FLORES-200 split: dev or devtest."})
    flores_directions: list[str] | None = field(default=None, metadata={"help": "Directions on FLORES (default: directions)."})
    lm_eval_tasks: list[str] = field(
        default_factory=list, metadata={"help": "lm-evaluation-harness tasks or groups: xnli xcopa belebele ..., or ted2025_mc (local)."}
    )
    mc_num_choices: int = field(default=4, metadata={"help": "Choices per ted2025_mc document."})
    probe_languages: str | None = field(
        default=None, metadata={"help": "Languages of the alignment probe, e.g. 'en-de-fr-ja-zh-cn' (default: the directions')."}
    )
    probe_segments: int = field(default=200, metadata={"help": "Multi-way segments in the probe (0: no probe)."})
    device_profile: str = field(
        default="gpu", metadata={"help": "gpu: 4-bit and 8-bit weights need CUDA. cpu: the smoke profile.", "choices": list(DEVICE_PROFILES)}
    )

    def __post_init__(self):
        # Unknown languages and malformed directions raise here, with the registry's suggestions.
        self.directions = [_canonical_direction(spec) for spec in self.directions]
        if self.flores_directions is not None:
            self.flores_directions = [_canonical_direction(spec) for spec in self.flores_directions]
        if self.probe_languages is not None:
            self.probe_languages = registry.subset_name(registry.parse_subset(self.probe_languages))
        if self.probe_segments and len(self.probe_codes()) < 2:
            raise ValueError("the alignment probe needs two languages: give probe_languages or directions, or probe_segments 0")
        if self.device_profile not in DEVICE_PROFILES:
            raise ValueError(f"device_profile must be one of {DEVICE_PROFILES}, got {self.device_profile!r}")
        if self.flores_split not in ("dev", "devtest"):
            raise ValueError(f"flores_split must be dev or devtest, got {self.flores_split!r}")
        if self.max_segments is not None and self.max_segments < 1:
            raise ValueError(f"max_segments must be positive, got {self.max_segments}")
        if self.mc_num_choices < 2:
            raise ValueError(f"mc_num_choices must be at least 2, got {self.mc_num_choices}")
        if not (self.directions or self.lm_eval_tasks or self.probe_segments):
            raise ValueError("nothing to evaluate: give directions, lm_eval_tasks or a probe")
        if MC_TASK in self.lm_eval_tasks and not self.directions:
            raise ValueError(f"{MC_TASK} is built for the translation directions: give directions")

    def direction_pairs(self, testset: str = TED_TESTSET) -> list[tuple[str, str]]:
        specs = self.directions if testset == TED_TESTSET or self.flores_directions is None else self.flores_directions
        return [parse_direction(spec) for spec in specs]

    def probe_codes(self) -> list[str]:
        if self.probe_languages is not None:
            return [lang.code for lang in registry.parse_subset(self.probe_languages)]
        return list(dict.fromkeys(code for pair in self.direction_pairs() for code in pair))


@dataclass
class EvalArguments:
    """How to run the evaluation, and where its results go."""

    output_dir: str = field(default="runs/eval", metadata={"help": "Where results.json, results.md and probe.png go."})
    batch_size: int = field(default=8, metadata={"help": "Batch size for generation, the probe and the harness."})
    max_new_tokens: int = field(default=256, metadata={"help": "Generated tokens per translation."})
    probe_max_tokens: int = field(default=512, metadata={"help": "Probe inputs longer than this are cut (TED segments rarely are)."})
    lm_eval_limit: float | None = field(default=None, metadata={"help": "Documents per harness task (<1: a fraction); for tests."})
    num_fewshot: int | None = field(default=None, metadata={"help": "Few-shot examples for the harness tasks (default: each task's)."})
    lm_eval_apply_chat_template: bool = field(default=False, metadata={"help": "Render harness prompts with the chat template."})
    bootstrap_iters: int = field(default=1000, metadata={"help": "The harness's bootstrap iterations for standard errors."})
    chat_template_path: str | None = field(
        default=None, metadata={"help": "A .jinja chat template for a model without one (default: recipes/default_chat_template.jinja)."}
    )
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom model code from the Hub."})
    device_map: str | None = field(default=None, metadata={"help": "'auto' to shard a large model over GPUs (default: one device)."})
    seed: int = field(default=42, metadata={"help": "Seed of the segment samples and the ted2025_mc choices."})
    push_to_hub: bool = field(default=False, metadata={"help": "Push the scores to hub_model_id."})
    hub_model_id: str | None = field(default=None, metadata={"help": "Model repo that gets the scores (org/name)."})
    hub_private_repo: bool = field(default=True, metadata={"help": "Create hub_model_id private if it does not exist."})
    eval_dataset_id: str = field(
        default="ted2025/TED2025", metadata={"help": "Dataset id the TED2025 scores are reported under on the Hub."}
    )

    def __post_init__(self):
        if self.push_to_hub and not (self.hub_model_id and is_repo_id(self.hub_model_id)):
            raise ValueError(f"push_to_hub needs hub_model_id as org/name, got {self.hub_model_id!r}")
        if self.batch_size < 1 or self.max_new_tokens < 1:
            raise ValueError("batch_size and max_new_tokens must be positive")


@dataclass
class EvalModelConfig(ModelConfig):
    """TRL's ModelConfig (model, dtype, 4/8-bit loading) plus the adapter to evaluate on it."""

    adapter: str | None = field(
        default=None, metadata={"help": "PEFT adapter: a folder (e.g. an SFT output_dir) or Hub repo id; none: the model itself."}
    )

    def __post_init__(self):
        super().__post_init__()
        if self.adapter is not None and self.adapter.lower() in ("", "none", "null"):
            self.adapter = None  # so that a config's adapter can be switched off on the command line
        if self.adapter is not None:
            check_adapter(self.adapter)
        if self.model_name_or_path is None and self.adapter is None:
            raise ValueError("give model_name_or_path (a base or merged model), an adapter, or both")


def _canonical_direction(spec: str) -> str:
    return "-".join(parse_direction(spec))


def check_adapter(adapter: str) -> None:
    """A local adapter folder must hold adapter_config.json; a path that is not there and is not a
    Hub repo id (org/name) is an error now, not after the base model has loaded."""
    path = Path(adapter).expanduser()
    if path.exists():
        if not (path / "adapter_config.json").is_file():
            raise ValueError(f"adapter {adapter!r} is not a PEFT adapter folder: it has no adapter_config.json")
        return
    if not is_repo_id(adapter) or adapter.startswith((".", "/", "~")):
        raise FileNotFoundError(f"adapter {adapter!r} not found: no such folder, and not a Hub repo id (org/name)")
