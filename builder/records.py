"""Typed records passed between the pipeline stages.

Positions on a track are in an *alignment coordinate*: milliseconds for timed sources
(TED transcript JSON, WebVTT) and character offsets in the English pivot for untimed
sources (WIT3 XML). The aligner only compares positions; it never needs to know which.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle cue (or one WIT3 segment) as the source gave it."""

    start: float
    end: float
    text: str
    paragraph: int = 0


@dataclass(slots=True)
class Track:
    """All cues of one talk in one language, in source order."""

    talk_id: int
    language: str  # registry code, e.g. "zh-cn"
    cues: list[Cue]
    source: str  # "json" | "vtt" | "wit3"
    timed: bool = True  # False: positions are pivot character offsets, not ms
    malformed: list[str] = field(default_factory=list)  # cue texts that did not parse (drops.parquet)


@dataclass(slots=True)
class Talk:
    talk_id: int
    tracks: dict[str, Track]
    meta: dict = field(default_factory=dict)
    source: str = "raw"


@dataclass(frozen=True, slots=True)
class Skip:
    """Something the build could not use, and why. Goes into build_report.json."""

    level: str  # "talk" | "track"
    reason: str  # short machine-readable reason, e.g. "malformed_json"
    talk_id: int | str | None = None
    language: str | None = None
    path: str | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


class Drop(enum.StrEnum):
    """Why a cell was dropped: the key in ``build_report.json`` (``cells.dropped``) and in
    ``reports/drops.parquet``, and what the dataset card says about it (``what``, which may name
    a build setting as ``{length_ratio}``). The clean stage and the pipeline drop cells only with
    these reasons."""

    what: str

    def __new__(cls, value: str, what: str):
        reason = str.__new__(cls, value)
        reason._value_ = value
        reason.what = what
        return reason

    # the per-cell filters (builder.clean.CellFilter)
    EMPTY = "empty", "nothing left after normalisation"
    DUPLICATE_IN_TALK = "duplicate_in_talk", "the same text already appeared in this talk and language"
    LANGID_MISMATCH = "langid_mismatch", "pycld2 is confident it is another language and py3langid agrees"
    LENGTH_RATIO = "length_ratio", "length vs the pivot (English) off by more than {length_ratio}x after a per-script prior"
    # the pipeline (builder.pipeline.build_talk)
    ALIGNMENT_CONFLICT = "alignment_conflict", "outvoted by the other languages on where sentences merge (--merge-quorum)"
    BELOW_MIN_LANGUAGES = "below_min_languages", "the row kept fewer than {min_languages} languages"
    MALFORMED_CUE = ("malformed_cue",
                     "a WebVTT cue block whose timing line does not parse (kept whole in drops.parquet, no segment)")


class InputError(ValueError):
    """A transcript that cannot be used. ``reason`` is the report key."""

    def __init__(self, reason: str, detail: str = "", chunk: int | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.chunk = chunk  # which file of a multi-file track (WebVTT chunks) it is about
