"""The corpus the recipes read, and its rows cut into windows of consecutive segments of a talk.

A window's text in language L joins L's segments; L counts as present only where it is present in
every row of the window, so the blocks of a multiway text are translations of each other as a whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from builder import languages as registry

KEY_COLUMNS = ("talk_id", "segment_id")


def subset_languages(subset: str) -> list[str] | None:
    """Registry codes of a subset name (``None`` for ``all``). Unknown codes and empty names raise."""
    if subset.strip().lower() == "all":
        return None
    return [lang.code for lang in registry.parse_subset(subset)]


def segment_key(talk_id: int, segment_id: int) -> int:
    """One int64 per (talk, segment): the unit of alignment, shared by all its languages."""
    return (int(talk_id) << 32) | int(segment_id)


@dataclass(frozen=True)
class Window:
    talk_id: int
    segment_ids: tuple[int, ...]
    texts: dict[str, str]  # language -> the window's text, for the languages present in all its rows

    @property
    def segment_keys(self) -> list[int]:
        return [segment_key(self.talk_id, segment_id) for segment_id in self.segment_ids]


def load_windows(
    corpus: str, subset: str, split: str, min_languages: int | None, talk_window: int
) -> tuple[list[Window], list[str]]:
    """The windows of a split of a subset, in talk and segment order, and the subset's languages."""
    import ted2025

    rows = ted2025.load_dataset(corpus, subset, split=split, min_languages=min_languages, format="wide")
    languages = [column for column in rows.column_names if registry.is_known(column) and column not in KEY_COLUMNS]
    return talk_windows(rows.select_columns([*KEY_COLUMNS, *languages]).to_dict(), languages, talk_window), languages


def talk_windows(columns: dict[str, list], languages: Sequence[str], talk_window: int) -> list[Window]:
    rows_by_talk: dict[int, list[int]] = defaultdict(list)
    for row, talk_id in enumerate(columns["talk_id"]):
        rows_by_talk[talk_id].append(row)
    joiners = {language: registry.joiner(language) for language in languages}
    windows = []
    for talk_id in sorted(rows_by_talk):
        rows = sorted(rows_by_talk[talk_id], key=columns["segment_id"].__getitem__)
        for start in range(0, len(rows), talk_window):
            chunk = rows[start : start + talk_window]
            texts = {}
            for language in languages:
                cells = [columns[language][row] for row in chunk]
                if all(cells):
                    texts[language] = joiners[language].join(cells)
            if texts:
                windows.append(Window(talk_id, tuple(columns["segment_id"][row] for row in chunk), texts))
    return windows
