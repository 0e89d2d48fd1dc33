"""Machine translation in recipes/eval.py: the SFT instruction as the prompt, batched greedy
generation that stops where an SFT answer ends, and sacrebleu's corpus chrF++ and BLEU (BLEU
tokenised per target script), each with its signature."""

from __future__ import annotations

import json
from pathlib import Path

from builder import languages as registry
from recipes import data
from recipes.eval_args import EvalArguments
from recipes.eval_data import TranslationSet

TRANSLATION_TEMPLATE = data.TRANSLATION_TEMPLATES[0]
# BLEU needs words: Chinese has sacrebleu's own tokenizer, other scripts without spaces are scored on
# characters. chrF++ needs no tokenizer.
BLEU_TOKENIZE_BY_SCRIPT = {script: "char" for script in registry.UNSPACED_WORD_SCRIPTS} | {"Hans": "zh", "Hant": "zh"}


def translation_prompt(tokenizer, source: str, target: str, text: str) -> str:
    """The SFT instruction (first phrasing) as a user turn, rendered for generation."""
    names = {code: registry.get(code).name for code in (source, target)}
    content = TRANSLATION_TEMPLATE.format(source=names[source], target=names[target], text=text)
    return tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True)


def stop_token_ids(tokenizer, model) -> list[int]:
    """EOS ids, and the special token that closes an assistant turn in the chat template
    (``<|im_end|>`` in ChatML), which is where an SFT model stops."""
    ids = [tokenizer.eos_token_id, *_as_list(model.generation_config.eos_token_id)]
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "u"}, {"role": "assistant", "content": "ANSWER"}], tokenize=False
    )
    after_answer = rendered.split("ANSWER", 1)[-1].strip()
    if after_answer:
        first = tokenizer(after_answer, add_special_tokens=False)["input_ids"][:1]
        ids += [token for token in first if token in tokenizer.all_special_ids]
    return list(dict.fromkeys(token for token in ids if token is not None))


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def translate(model, tokenizer, test_set: TranslationSet, eval_args: EvalArguments) -> list[str]:
    """Greedy, batched; longest prompts first so that a batch pads little. The hypothesis is the
    first line of the answer (TED segments and FLORES sentences are single lines)."""
    import torch

    prompts = [translation_prompt(tokenizer, test_set.source, test_set.target, text) for text in test_set.sources]
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    stop = stop_token_ids(tokenizer, model)
    hypotheses: list[str] = [""] * len(prompts)
    for start in range(0, len(order), eval_args.batch_size):
        batch = order[start : start + eval_args.batch_size]
        # The template already holds any BOS; prompts are not cut, so the generation prompt stays.
        inputs = tokenizer(
            [prompts[i] for i in batch], return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        ).to(model.device)
        with torch.inference_mode():
            output = model.generate(
                **inputs, do_sample=False, num_beams=1, max_new_tokens=eval_args.max_new_tokens,
                eos_token_id=stop, pad_token_id=tokenizer.pad_token_id,
            )
        answers = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        for i, answer in zip(batch, answers):
            hypotheses[i] = first_line(answer)
    return hypotheses


def first_line(answer: str) -> str:
    return answer.strip().split("\n", 1)[0].strip()


def bleu_tokenizer(target: str) -> str:
    return BLEU_TOKENIZE_BY_SCRIPT.get(registry.get(target).script, "13a")


def score_translations(test_set: TranslationSet, hypotheses: list[str]) -> dict:
    """Corpus chrF++ and BLEU with sacrebleu, each with its signature."""
    from sacrebleu.metrics import BLEU, CHRF

    chrf, bleu = CHRF(word_order=2), BLEU(tokenize=bleu_tokenizer(test_set.target))
    references = [test_set.references]
    chrf_score, bleu_score = chrf.corpus_score(hypotheses, references), bleu.corpus_score(hypotheses, references)
    return {
        "chrf++": round(chrf_score.score, 2),
        "bleu": round(bleu_score.score, 2),
        "segments": len(hypotheses),
        "available_segments": test_set.available,
        "signatures": {"chrf++": str(chrf.get_signature()), "bleu": str(bleu.get_signature())},
        "examples": [
            {"id": i, "source": s, "reference": r, "hypothesis": h}
            for i, s, r, h in list(zip(test_set.ids, test_set.sources, test_set.references, hypotheses))[:3]
        ],
    }


def write_translations(output_dir: Path, test_set: TranslationSet, hypotheses: list[str]) -> None:
    path = output_dir / "translations" / f"{test_set.testset}.{test_set.direction}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in zip(test_set.ids, test_set.sources, test_set.references, hypotheses):
            f.write(json.dumps(dict(zip(("id", "source", "reference", "hypothesis"), row)), ensure_ascii=False) + "\n")
