"""The chat template fallback for a tokenizer without one, and the check that assistant-only loss can use it."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

# The documented default for a tokenizer without a chat template: "### User:" / "### Assistant:"
# turns, each assistant turn ended by the tokenizer's EOS inside its {% generation %} span.
DEFAULT_CHAT_TEMPLATE_PATH = Path(__file__).parent.with_name("default_chat_template.jinja")
DEFAULT_CHAT_TEMPLATE = DEFAULT_CHAT_TEMPLATE_PATH.read_text(encoding="utf-8")


def ensure_chat_template(tokenizer, assistant_only_loss: bool, chat_template_path: str | None = None) -> str:
    """Give a tokenizer without a chat template the default one, and check that assistant-only loss
    can mask the template, before any model is loaded. Returns which template is used."""
    from trl.chat_template_utils import get_training_chat_template

    if chat_template_path is not None:
        if not chat_template_path.endswith((".jinja", ".j2")):
            return chat_template_path  # a model's template that SFTTrainer clones, special tokens and all
        tokenizer.chat_template = Path(chat_template_path).read_text(encoding="utf-8")
        used = chat_template_path
    elif not tokenizer.chat_template:
        if tokenizer.eos_token is None:
            raise ValueError("the model has neither a chat template nor an EOS token; give --chat_template_path")
        logger.warning("the model has no chat template: using the recipes' default, %s", DEFAULT_CHAT_TEMPLATE_PATH)
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
        return "default"
    else:
        used = "model"
    if assistant_only_loss:
        try:
            get_training_chat_template(tokenizer)
        except ValueError as error:
            raise ValueError(
                "assistant_only_loss needs a chat template with {% generation %} markers, and TRL cannot patch "
                "this model's template. Give --chat_template_path with such a template (e.g. "
                "recipes/default_chat_template.jinja), or set --assistant_only_loss false"
            ) from error
    return used
