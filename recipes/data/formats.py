"""Continued-pretraining texts in the paper's four formats, as language blocks with their provenance.

See :mod:`recipes.data` for what each format holds, and why the unaligned control gives every
talk to one language.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from recipes.data.corpus import Window

FORMATS = ("multiway", "pairwise", "unaligned", "monolingual")
LANGUAGE_TAG = "[{code}] "


class BudgetError(ValueError):
    """A format cannot supply the token budget from the data it is given."""


@dataclass(frozen=True)
class CPTSettings:
    format: str = "multiway"
    token_budget: int | None = None  # None: every text the data gives (formats are then not comparable)
    languages_per_example: int | None = None  # multiway/unaligned; None: all present
    talk_window: int = 1

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"cpt format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.token_budget is not None and self.token_budget < 1:
            raise ValueError(f"token_budget must be positive, got {self.token_budget}")
        if self.languages_per_example is not None and self.languages_per_example < 2:
            raise ValueError(f"languages_per_example must be at least 2, got {self.languages_per_example}")
        if self.talk_window < 1:
            raise ValueError(f"talk_window must be at least 1, got {self.talk_window}")


@dataclass(frozen=True)
class Block:
    language: str
    talk_id: int
    segment_keys: tuple[int, ...]
    text: str


def _block(language: str, window: Window) -> Block:
    return Block(language, window.talk_id, tuple(window.segment_keys), window.texts[language])


def format_blocks(blocks: Sequence[Block]) -> str:
    return "\n".join(LANGUAGE_TAG.format(code=block.language) + block.text for block in blocks)


def cpt_examples(
    windows: Sequence[Window], languages: Sequence[str], settings: CPTSettings, rng: random.Random, counts: Counter
) -> Iterator[list[Block]]:
    """The texts of one format, as language blocks, in random order (lazily: the budget stops it)."""
    if settings.format in ("multiway", "pairwise"):
        k = 2 if settings.format == "pairwise" else settings.languages_per_example
        return _aligned(windows, k, rng, counts)
    own_windows = _own_windows(windows, assign_talks(windows, languages, rng, counts), rng)
    if settings.format == "unaligned":
        return _unaligned(own_windows, settings.languages_per_example, rng)
    return _monolingual(own_windows, rng)


def _aligned(windows: Sequence[Window], k: int | None, rng: random.Random, counts: Counter) -> Iterator[list[Block]]:
    for window in rng.sample(list(windows), len(windows)):
        present = list(window.texts)
        if len(present) < max(2, k or 2):
            counts["windows_with_too_few_languages"] += 1
            continue
        # rng.sample also shuffles: the language order is random per text
        yield [_block(language, window) for language in rng.sample(present, k or len(present))]


def assign_talks(windows: Sequence[Window], languages: Sequence[str], rng: random.Random, counts: Counter) -> dict[int, str]:
    """Give every talk to one language of the subset, balancing characters across languages.

    The unaligned control and the monolingual format read a language only from its own talks, so
    the same segment never appears in two languages, in any text or packed sequence; whole talks
    (not just segments) are kept apart so that neighbouring sentences cannot align either. Talks
    with the fewest candidate languages are placed first, larger talks before smaller ones.
    """
    characters: dict[int, Counter] = defaultdict(Counter)
    for window in windows:
        for language, text in window.texts.items():
            characters[window.talk_id][language] += len(text)
    talks = sorted(characters)
    rng.shuffle(talks)  # ties are broken at random, then the sort below is stable
    talks.sort(key=lambda talk: (len(characters[talk]), -sum(characters[talk].values())))
    load = dict.fromkeys(languages, 0)
    owner = {}
    for talk in talks:
        language = min(characters[talk], key=load.__getitem__)
        owner[talk] = language
        load[language] += characters[talk][language]
    starved = [language for language in languages if not load[language]]
    if starved:
        raise BudgetError(
            f"the unaligned and monolingual formats give each talk to one language, and {', '.join(starved)} "
            f"got no talk of its own ({len(talks)} talks for {len(languages)} languages); use fewer languages "
            "or a larger split"
        )
    for language in owner.values():
        counts[f"talks_of_{language}"] += 1
    return owner


def _own_windows(windows: Sequence[Window], owner: dict[int, str], rng: random.Random) -> dict[str, list[Window]]:
    own: dict[str, list[Window]] = defaultdict(list)
    for window in windows:
        language = owner[window.talk_id]
        if language in window.texts:
            own[language].append(window)
    for language_windows in own.values():
        rng.shuffle(language_windows)
    return dict(sorted(own.items()))


def _unaligned(own: dict[str, list[Window]], k: int | None, rng: random.Random) -> Iterator[list[Block]]:
    while True:
        available = [language for language, queue in own.items() if queue]
        if len(available) < 2:
            return
        chosen = rng.sample(available, min(k or len(available), len(available)))
        yield [_block(language, own[language].pop()) for language in chosen]


def _monolingual(own: dict[str, list[Window]], rng: random.Random) -> Iterator[list[Block]]:
    pool = [(language, window) for language, queue in own.items() for window in queue]
    rng.shuffle(pool)
    for language, window in pool:
        yield [_block(language, window)]
