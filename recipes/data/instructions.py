"""Instruction tuning: translation instructions (X -> Y, or X -> Y and Z) from multi-way windows."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import datasets

from builder import languages as registry
from recipes.data.corpus import Window, load_windows

# Several phrasings, so the model learns the task rather than one prompt.
TRANSLATION_TEMPLATES = (
    "Translate the following {source} text into {target}.\n\n{text}",
    "{text}\n\nTranslate this from {source} to {target}.",
    "What is the {target} translation of this {source} text?\n{text}",
    "Render this {source} passage in {target}, keeping its meaning and tone:\n\n{text}",
    "{source}: {text}\n{target}:",
    "Please give the {target} version of the {source} text below.\n\n{text}",
)
MULTI_TARGET_TEMPLATES = (
    "Translate the following {source} text into {targets}. Label each translation with its language.\n\n{text}",
    "{text}\n\nTranslate this {source} text into {targets}, one labelled line per language.",
    "Give the {targets} versions of this {source} passage, each on its own line after the language name:\n\n{text}",
)
MULTI_TARGETS = 2  # X -> Y and Z


@dataclass(frozen=True)
class SFTSettings:
    num_examples: int | None = None  # None: one instruction per window
    multi_target_fraction: float = 0.25
    talk_window: int = 1

    def __post_init__(self):
        if not 0 <= self.multi_target_fraction <= 1:
            raise ValueError(f"multi_target_fraction must be in [0, 1], got {self.multi_target_fraction}")
        if self.num_examples is not None and self.num_examples < 1:
            raise ValueError(f"num_examples must be positive, got {self.num_examples}")
        if self.talk_window < 1:
            raise ValueError(f"talk_window must be at least 1, got {self.talk_window}")


def translation_messages(window: Window, rng: random.Random, multi_target_fraction: float) -> dict | None:
    """One user/assistant exchange: X -> Y, or X -> Y and Z, with a random direction and phrasing."""
    present = list(window.texts)
    if len(present) < 2:
        return None
    multi = len(present) > MULTI_TARGETS and rng.random() < multi_target_fraction
    source, *targets = rng.sample(present, 1 + (MULTI_TARGETS if multi else 1))
    name = {code: registry.get(code).name for code in (source, *targets)}
    if multi:
        template = rng.randrange(len(MULTI_TARGET_TEMPLATES))
        prompt = MULTI_TARGET_TEMPLATES[template].format(
            source=name[source], targets=" and ".join(name[t] for t in targets), text=window.texts[source]
        )
        answer = "\n".join(f"{name[t]}: {window.texts[t]}" for t in targets)
    else:
        template = rng.randrange(len(TRANSLATION_TEMPLATES))
        prompt = TRANSLATION_TEMPLATES[template].format(
            source=name[source], target=name[targets[0]], text=window.texts[source]
        )
        answer = window.texts[targets[0]]
    return {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "source": source,
        "targets": targets,
        "template": f"{'multi' if multi else 'single'}-{template}",
        "talk_id": window.talk_id,
        "segment_keys": window.segment_keys,
    }


def build_sft_dataset(windows: Sequence[Window], settings: SFTSettings, seed: int) -> tuple[datasets.Dataset, dict]:
    """Conversational ``messages`` examples; past one per window, windows recur with new directions."""
    rng = random.Random(seed)
    usable = [window for window in windows if len(window.texts) >= 2]
    if not usable:
        raise ValueError("no window of this split has two languages: nothing to translate")
    wanted = settings.num_examples or len(usable)
    examples = []
    while len(examples) < wanted:
        for window in rng.sample(usable, len(usable)):
            examples.append(translation_messages(window, rng, settings.multi_target_fraction))
            if len(examples) == wanted:
                break
    dataset = datasets.Dataset.from_list(examples)
    directions = Counter(f"{e['source']}->{'+'.join(e['targets'])}" for e in examples)
    summary = {
        **asdict(settings),
        "examples": len(examples),
        "windows": len(usable),
        "multi_target_examples": sum(len(e["targets"]) > 1 for e in examples),
        "directions": len(directions),
        "top_directions": dict(directions.most_common(10)),
    }
    return dataset, summary


def sft_dataset(
    corpus: str, split: str, subset: str, min_languages: int | None, settings: SFTSettings, seed: int
) -> tuple[datasets.Dataset, dict]:
    """Load a split's windows and build its instructions (see :func:`build_sft_dataset`)."""
    windows, _ = load_windows(corpus, subset, split, min_languages, settings.talk_window)
    dataset, summary = build_sft_dataset(windows, settings, seed)
    return dataset, {"split": split, **summary}
