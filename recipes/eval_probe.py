"""The cross-lingual alignment probe of recipes/eval.py (the paper's RQ1): multi-way segments
encoded one language at a time, their hidden states mean-pooled at every layer, and per layer and
language pair the retrieval accuracy and the cosines of translations and non-translations."""

from __future__ import annotations

import logging

from recipes.eval_args import EvalArguments

logger = logging.getLogger(__name__)


def mean_pooled_states(model, tokenizer, texts: list[str], batch_size: int, max_length: int):
    """Mean over each text's tokens of the hidden states at every layer: ``[layers + 1, N, hidden]``
    float32 on the CPU (index 0: the embeddings)."""
    import torch

    pooled = []
    for start in range(0, len(texts), batch_size):
        inputs = tokenizer(
            texts[start : start + batch_size], return_tensors="pt", padding=True, padding_side="right",
            truncation=True, max_length=max_length,
        ).to(model.device)
        with torch.inference_mode():
            output = model(**inputs, output_hidden_states=True, logits_to_keep=1)
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        states = torch.stack([layer.float() for layer in output.hidden_states])  # [L+1, B, T, H]
        pooled.append(((states * mask).sum(dim=2) / mask.sum(dim=1)).cpu())
    return torch.cat(pooled, dim=1)


def cosine_matrix(a, b):
    import torch.nn.functional as F

    return F.normalize(a.float(), dim=-1) @ F.normalize(b.float(), dim=-1).T


def retrieval_accuracy(a, b) -> float:
    """Share of rows i of ``a`` whose most similar row of ``b`` (cosine) is row i; chance is 1/N."""
    import torch

    similarity = cosine_matrix(a, b)
    return (similarity.argmax(dim=1) == torch.arange(len(a))).float().mean().item()


def translation_cosines(a, b) -> tuple[float, float]:
    """Mean cosine of translations (row i with row i) and of non-translations (i with j != i)."""
    import torch

    similarity = cosine_matrix(a, b)
    diagonal = torch.eye(len(a), dtype=torch.bool)
    return similarity[diagonal].mean().item(), similarity[~diagonal].mean().item()


def probe_by_layer(states_by_language: dict) -> list[dict]:
    """Per layer: per language pair the retrieval accuracy (mean of both directions) and the
    cosines, and their means over the pairs."""
    codes = list(states_by_language)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    layers = []
    for layer in range(next(iter(states_by_language.values())).shape[0]):
        by_pair = {}
        for a, b in pairs:
            x, y = states_by_language[a][layer], states_by_language[b][layer]
            translations, others = translation_cosines(x, y)
            by_pair[f"{a}-{b}"] = {
                "retrieval_accuracy": round((retrieval_accuracy(x, y) + retrieval_accuracy(y, x)) / 2, 4),
                "cosine_translations": round(translations, 4),
                "cosine_non_translations": round(others, 4),
            }
        layers.append({
            "layer": layer,
            **{key: round(sum(p[key] for p in by_pair.values()) / len(by_pair), 4)
               for key in ("retrieval_accuracy", "cosine_translations", "cosine_non_translations")},
            "pairs": by_pair,
        })
    return layers


def probe_alignment(model, tokenizer, texts_by_language: dict[str, list[str]], eval_args: EvalArguments) -> dict:
    logger.info("alignment probe: %d segments in %s", len(next(iter(texts_by_language.values()))), ", ".join(texts_by_language))
    states = {
        code: mean_pooled_states(model, tokenizer, texts, eval_args.batch_size, eval_args.probe_max_tokens)
        for code, texts in texts_by_language.items()
    }
    segments = len(next(iter(texts_by_language.values())))
    return {
        "languages": list(texts_by_language),
        "segments": segments,
        "chance": round(1 / segments, 4),
        "pooling": "mean over tokens, every layer (0: embeddings), raw text without template",
        "layers": probe_by_layer(states),
    }
