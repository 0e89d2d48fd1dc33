"""Make a tiny random-weight causal LM for the smoke recipes: nothing is downloaded.

    python recipes/smoke/make_tiny_model.py OUT [--vocab-size 4096] [--hidden-size 64] [--layers 2]

OUT gets a Qwen2 model (hidden 64, 2 layers, ~0.3 M parameters) and a byte-level BPE tokenizer
trained here on Unicode CLDR text shipped in Babel (names of languages, countries, months...,
human-translated into every locale Babel has for a registry language), with the ChatML special
tokens and a ChatML chat template that marks the assistant turns (``{% generation %}``) for
assistant-only loss. The weights are random: the model exists to run the recipes end to end on a
CPU, with 4-bit QLoRA, in seconds. ``tiny_model.json`` in OUT records what made it.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Iterable, Iterator
from pathlib import Path

EOS_TOKEN = "<|endoftext|>"
CHATML_TOKENS = ("<|im_start|>", "<|im_end|>")

# ChatML as Qwen2.5 writes it, without the default system prompt, with generation markers.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def cldr_texts(registry_only: bool = True) -> Iterator[str]:
    """Every string of Babel's CLDR locale data: of the registry's languages, or of every locale.

    The registry-only text (~100 locales) is enough for a tiny vocabulary; the benchmark's
    real-sized tokenizer reads every locale (~1,100 locales, ~37 M characters).
    """
    from babel import localedata

    from builder import languages
    from builder.fixtures.cldr import babel_locale

    if registry_only:
        locales = dict.fromkeys(filter(None, (babel_locale(lang) for lang in languages.LANGUAGES)))
    else:
        locales = localedata.locale_identifiers()
    for locale in locales:
        yield from _strings(localedata.load(locale))


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif hasattr(value, "values"):  # dicts and Babel's lazy LocaleDataDict
        for item in value.values():
            yield from _strings(item)


def train_tokenizer(texts: Iterable[str], vocab_size: int, chat_template: str | None = CHATML_TEMPLATE):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts``, Qwen-style special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS_TOKEN, *CHATML_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        additional_special_tokens=list(CHATML_TOKENS),
        chat_template=chat_template,
        model_max_length=32768,
    )


def make_tiny_model(out: Path, vocab_size: int = 4096, hidden_size: int = 64, layers: int = 2, seed: int = 0) -> dict:
    import torch
    import transformers
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out = Path(out)
    tokenizer = train_tokenizer(cldr_texts(), vocab_size)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    record = {
        "what": "tiny random-weight Qwen2 causal LM for the TED2025 smoke recipes (not a trained model)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab_size": len(tokenizer),
        "hidden_size": hidden_size,
        "layers": layers,
        "seed": seed,
        "tokenizer": "byte-level BPE trained on Babel's CLDR text of the registry's languages",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "python": platform.python_version()},
    }
    (out / "tiny_model.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the model and tokenizer to")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    record = make_tiny_model(args.out, args.vocab_size, args.hidden_size, args.layers, args.seed)
    print(f"wrote {args.out}: {record['parameters']:,} parameters, vocabulary {record['vocab_size']:,}")


if __name__ == "__main__":
    main()
