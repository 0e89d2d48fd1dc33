"""The model of recipes/eval.py: the base (or merged) model, quantized as its ModelConfig says, with
the adapter on top, and the tokenizer that goes with it (the adapter's, where SFT saved its chat
template there)."""

from __future__ import annotations

from pathlib import Path

from trl import get_quantization_config

from recipes import data
from recipes.eval_args import EvalArguments, EvalModelConfig


def load_tokenizer(model_args: EvalModelConfig, eval_args: EvalArguments):
    """The adapter's tokenizer where it saved one (SFT saves its chat template there), else the
    model's; a model without a chat template gets the recipes' default, as in SFT."""
    from transformers import AutoTokenizer

    source = model_args.model_name_or_path or base_model_of(model_args.adapter)
    if model_args.adapter and _has_tokenizer(model_args.adapter):
        source = model_args.adapter
    tokenizer = AutoTokenizer.from_pretrained(
        source, revision=None if source == model_args.adapter else model_args.model_revision,
        trust_remote_code=eval_args.trust_remote_code,
    )
    data.ensure_chat_template(tokenizer, assistant_only_loss=False, chat_template_path=eval_args.chat_template_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, source


def _has_tokenizer(adapter: str) -> bool:
    path = Path(adapter).expanduser()
    if path.is_dir():
        return (path / "tokenizer_config.json").is_file()
    from huggingface_hub import file_exists

    return file_exists(adapter, "tokenizer_config.json")


def base_model_of(adapter: str) -> str:
    from peft import PeftConfig

    return PeftConfig.from_pretrained(adapter).base_model_name_or_path


def load_model(model_args: EvalModelConfig, eval_args: EvalArguments):
    """The base (or merged) model, quantized as ModelConfig says, with the adapter on top; eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    name = model_args.model_name_or_path or base_model_of(model_args.adapter)
    device = 0 if torch.cuda.is_available() else "cpu"
    dtype = model_args.dtype if model_args.dtype in (None, "auto") else getattr(torch, model_args.dtype)
    model = AutoModelForCausalLM.from_pretrained(
        name,
        revision=model_args.model_revision,
        dtype=dtype,
        attn_implementation=model_args.attn_implementation,
        quantization_config=get_quantization_config(model_args),
        device_map=eval_args.device_map or {"": device},
        trust_remote_code=eval_args.trust_remote_code,
    )
    if model_args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, model_args.adapter)
    return model.eval()
