"""What the two recipes share besides their data: script arguments, the checks made before any heavy
work, the run record, the model card and resuming.

Bad input fails here, before a model or a corpus is read: an unknown language or an empty subset
(when the arguments are parsed), a GPU profile asking for bf16 or 4-bit on a machine without CUDA
(:func:`recipes.device.check_device`, the rule evaluation shares; before SFTConfig is even built,
since transformers would reject bf16 there with a message that names neither the config nor the
fix), and 4-bit weights without LoRA.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from trl import ScriptArguments, SFTTrainer, TrlParser, get_peft_config, get_quantization_config

from recipes import data
from recipes.device import DEVICE_PROFILES, DeviceProfileError, check_device  # noqa: F401 (DeviceProfileError: re-exported)
from ted2025 import is_repo_id

logger = logging.getLogger(__name__)

RUN_RECORD = "ted2025_run.json"
DATA_CACHE = "_ted2025_data"  # in output_dir; "_*" is never pushed to the Hub
VERSIONED = ("ted2025", "torch", "transformers", "trl", "peft", "accelerate", "bitsandbytes", "datasets", "tokenizers")


@dataclass
class Ted2025ScriptArguments(ScriptArguments):
    """Where the TED2025 data comes from. ``dataset_name`` is a built corpus folder, a Hub repo id or
    an ``hf://`` path, as for :func:`ted2025.load_dataset`; ``dataset_config`` is the language subset."""

    dataset_name: str = field(default="ted2025", metadata={"help": "TED2025 corpus: a folder, a Hub repo id or hf:// path."})
    dataset_config: str | None = field(default=None, metadata={"help": "Language subset, e.g. 'en-de-zh-cn', or 'all'."})
    dataset_test_split: str = field(default="validation", metadata={"help": "Split to evaluate on."})
    min_languages: int | None = field(
        default=None, metadata={"help": "Minimum parallelism: keep rows with at least this many subset languages (default: all)."}
    )
    talk_window: int = field(default=1, metadata={"help": "Consecutive segments of one talk per text."})
    device_profile: str = field(
        default="gpu",
        metadata={"help": "gpu: bf16 and 4-bit need CUDA. cpu: the smoke profile.", "choices": list(DEVICE_PROFILES)},
    )

    def __post_init__(self):
        if self.dataset_config is None:
            raise ValueError("dataset_config: give the language subset to train on, e.g. 'en-de-zh-cn' or 'all'")
        languages = data.subset_languages(self.dataset_config)  # unknown or empty subsets raise here
        if self.min_languages is not None and (
            self.min_languages < 1 or (languages is not None and self.min_languages > len(languages))
        ):
            raise ValueError(f"min_languages={self.min_languages} does not fit the subset {self.dataset_config!r}")
        if self.talk_window < 1:
            raise ValueError(f"talk_window must be at least 1, got {self.talk_window}")
        if self.device_profile not in DEVICE_PROFILES:
            raise ValueError(f"device_profile must be one of {DEVICE_PROFILES}, got {self.device_profile!r}")
        if self.dataset_streaming:
            raise ValueError("the recipes build their texts in memory: dataset_streaming is not supported")


@dataclass
class CPTScriptArguments(Ted2025ScriptArguments):
    cpt_format: str = field(default="multiway", metadata={"help": "Text format.", "choices": list(data.FORMATS)})
    token_budget: int | None = field(
        default=None, metadata={"help": "Training tokens, equal across formats (default: all the data gives)."}
    )
    eval_token_budget: int | None = field(default=1_000_000, metadata={"help": "Evaluation tokens."})
    eval_cpt_format: str | None = field(
        default=None,
        metadata={"help": "Format of the evaluation texts (default: cpt_format). One format for every run makes the eval losses comparable."},
    )
    languages_per_example: int | None = field(
        default=None, metadata={"help": "Languages per multiway/unaligned text (default: all present)."}
    )

    def cpt_settings(self, eval: bool = False) -> data.CPTSettings:
        budget = self.eval_token_budget if eval else self.token_budget
        text_format = (self.eval_cpt_format or self.cpt_format) if eval else self.cpt_format
        return data.CPTSettings(text_format, budget, self.languages_per_example, self.talk_window)

    def __post_init__(self):
        super().__post_init__()
        self.cpt_settings(), self.cpt_settings(eval=True)  # validate


@dataclass
class SFTScriptArguments(Ted2025ScriptArguments):
    num_train_examples: int | None = field(default=None, metadata={"help": "Instructions to train on (default: one per window)."})
    num_eval_examples: int | None = field(default=1000, metadata={"help": "Instructions to evaluate on."})
    multi_target_fraction: float = field(default=0.25, metadata={"help": "Share of X -> Y and Z instructions."})

    def sft_settings(self, eval: bool = False) -> data.SFTSettings:
        count = self.num_eval_examples if eval else self.num_train_examples
        return data.SFTSettings(count, self.multi_target_fraction, self.talk_window)

    def __post_init__(self):
        super().__post_init__()
        self.sft_settings()  # validates


class RecipeParser(TrlParser):
    """``TrlParser`` that checks the device profile on the raw YAML + CLI values first, and makes
    Hub repos private unless a config says ``hub_private_repo: false``."""

    def __init__(self, dataclass_types, **kwargs):
        super().__init__(dataclass_types, **kwargs)
        self.set_defaults(hub_private_repo=True)

    def parse_args_into_dataclasses(self, args=None, **kwargs):
        values, _ = self.parse_known_args(args=args)
        check_quantized_training(values)
        check_device(values.device_profile, values)
        return super().parse_args_into_dataclasses(args=args, **kwargs)


def check_quantized_training(model_args) -> None:
    if (model_args.load_in_4bit or model_args.load_in_8bit) and not model_args.use_peft:
        raise ValueError("quantized weights cannot be trained directly: use QLoRA (use_peft: true) or drop load_in_4bit/8bit")


def check_before_loading(script_args, training_args, model_args) -> None:
    """The parser's checks, for callers that build the dataclasses themselves (tests, notebooks)."""
    check_quantized_training(model_args)
    check_device(script_args.device_profile, training_args, model_args)


def set_model_init_kwargs(training_args, model_args) -> None:
    """As in TRL's sft.py: the model is loaded by SFTTrainer from these."""
    model_init_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=training_args.trust_remote_code,
        attn_implementation=model_args.attn_implementation,
        dtype=model_args.dtype,
    )
    model_init_kwargs.update(training_args.model_init_kwargs or {})
    training_args.model_init_kwargs = model_init_kwargs


def load_tokenizer(training_args, model_args):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        model_args.model_name_or_path, revision=model_args.model_revision, trust_remote_code=training_args.trust_remote_code
    )


def last_checkpoint(training_args) -> str | None:
    """The checkpoint to resume from: the one asked for, else the newest in output_dir."""
    from transformers.trainer_utils import get_last_checkpoint

    if training_args.resume_from_checkpoint:
        return training_args.resume_from_checkpoint
    if os.path.isdir(training_args.output_dir):
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint is not None:
            logger.warning("resuming from %s", checkpoint)
        return checkpoint
    return None


def training_mode(model_args) -> str:
    if not model_args.use_peft:
        return "full fine-tuning"
    target = model_args.lora_target_modules or "the PEFT defaults"
    lora = f"LoRA r={model_args.lora_r}, alpha={model_args.lora_alpha} on {target}"
    if model_args.load_in_4bit:
        return f"QLoRA: 4-bit {model_args.bnb_4bit_quant_type.upper()} base, {lora}"
    if model_args.load_in_8bit:
        return f"8-bit base, {lora}"
    return lora


def package_versions(packages) -> dict:
    """Installed versions of ``packages`` (None when absent), and Python's."""
    versions = {}
    for package in packages:
        try:
            versions[package] = version(package.replace("_", "-"))
        except PackageNotFoundError:
            versions[package] = None
    versions["python"] = platform.python_version()
    return versions


def run_record(recipe: str, script_args, training_args, model_args, train_summary: dict, eval_summary: dict | None) -> dict:
    """What produced this run: data, model, mode, versions. Written next to the weights."""
    versions = package_versions(VERSIONED)
    return {
        "recipe": recipe,
        "corpus": script_args.dataset_name,
        "subset": script_args.dataset_config,
        "min_languages": script_args.min_languages,
        "train_split": script_args.dataset_train_split,
        "model": model_args.model_name_or_path,
        "training_mode": training_mode(model_args),
        "max_length": training_args.max_length,
        "seed": training_args.seed,
        "train": train_summary,
        "eval": eval_summary,
        "script_args": asdict(script_args),
        "training_args": training_args.to_dict(),  # TrainingArguments.to_dict() masks *_token fields
        "model_args": asdict(model_args),
        "versions": versions,
    }


def hub_dataset_id(dataset_name: str) -> str | None:
    """The Hub dataset a model card can link to, when the corpus is one."""
    name = dataset_name.removeprefix("hf://datasets/").split("@")[0]
    return name if is_repo_id(name) and not Path(dataset_name).exists() else None


class Ted2025Trainer(SFTTrainer):
    """``SFTTrainer`` that writes the run record next to the weights and names the TED2025 data
    (subset, format, token budget) in the model card, including the cards pushed at every save."""

    def __init__(self, *args, run_record: dict, **kwargs):
        self.run_record = run_record
        super().__init__(*args, **kwargs)
        if self.is_world_process_zero():
            os.makedirs(self.args.output_dir, exist_ok=True)
            record_path = Path(self.args.output_dir) / RUN_RECORD
            if record_path.is_file():
                before = json.loads(record_path.read_text(encoding="utf-8")).get("train", {}).get("fingerprint")
                if before and before != run_record["train"].get("fingerprint"):
                    logger.warning("the training data differs from the run recorded in %s: resuming mixes data", record_path)
            record_path.write_text(json.dumps(run_record, indent=2, default=str) + "\n", encoding="utf-8")
            self.create_model_card()

    @classmethod
    def for_recipe(cls, recipe: str, script_args, training_args, model_args, tokenizer, train, eval, callbacks=None):
        """The trainer of recipe ``cpt`` or ``sft``: its (Q)LoRA set up from ``model_args`` with TRL's
        own helpers, ``train`` and ``eval`` as (dataset, summary) pairs (eval's may be None)."""
        (train_dataset, train_summary), (eval_dataset, eval_summary) = train, eval
        return cls(
            model=model_args.model_name_or_path,
            args=training_args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=tokenizer,
            peft_config=get_peft_config(model_args),
            quantization_config=get_quantization_config(model_args),
            callbacks=callbacks,
            run_record=run_record(recipe, script_args, training_args, model_args, train_summary, eval_summary),
        )

    def run(self) -> None:
        """Train (resuming from the last checkpoint in output_dir), save, and push when asked."""
        self.train(resume_from_checkpoint=last_checkpoint(self.args))
        self.save_model(self.args.output_dir)
        self.accelerator.print(f"Model saved to {self.args.output_dir}.")
        if self.args.push_to_hub:
            self.push_to_hub()
            self.accelerator.print(f"Model pushed to https://huggingface.co/{self.hub_model_id}.")
        self.end()

    def create_model_card(self, model_name=None, dataset_name=None, tags=None):
        dataset_name = dataset_name or hub_dataset_id(self.run_record["corpus"])
        tags = ["ted2025", f"ted2025-{self.run_record['recipe']}", *([tags] if isinstance(tags, str) else tags or [])]
        super().create_model_card(model_name=model_name, dataset_name=dataset_name, tags=tags)
        if self.is_world_process_zero():
            card = Path(self.args.output_dir) / "README.md"
            card.write_text(card.read_text(encoding="utf-8").rstrip() + "\n\n" + model_card_section(self.run_record), encoding="utf-8")


def model_card_section(record: dict) -> str:
    train = record["train"]
    lines = [
        "## TED2025 training data",
        "",
        f"- Recipe: `recipes/{record['recipe']}.py` ({record['training_mode']})",
        f"- Corpus: `{record['corpus']}`, split `{record['train_split']}`",
        f"- Language subset: `{record['subset']}` (min_languages: {record['min_languages'] or 'all'})",
    ]
    if record["recipe"] == "cpt":
        budget = train["token_budget"]
        lines += [
            f"- Format: `{train['format']}` (talk window {train['talk_window']}, "
            f"{train['mean_languages_per_text']} languages per text on average)",
            f"- Token budget: {budget:,}" if budget else "- Token budget: none (all the data gives)",
            f"- Trained tokens: {train['tokens']:,} in {train['examples']:,} texts, max_length {record['max_length']}",
        ]
    else:
        lines += [
            f"- Format: translation instructions (`messages`), {train['examples']:,} examples, "
            f"{train['multi_target_examples']:,} with two targets, {train['directions']} directions",
            f"- Max length: {record['max_length']}",
        ]
    lines += ["", f"The full record, with package versions, is `{RUN_RECORD}` beside the weights.", ""]
    return "\n".join(lines)
