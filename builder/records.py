"""Typed records passed between the pipeline stages.

Positions on a track are in an *alignment coordinate*: milliseconds for timed sources
(TED transcript JSON, WebVTT) and character offsets in the English pivot for untimed
sources (WIT3 XML). The aligner only compares positions; it never needs to know which.
"""

from __future__ import annotations

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


class InputError(ValueError):
    """A transcript that cannot be used. ``reason`` is the report key."""

    def __init__(self, reason: str, detail: str = "", chunk: int | None = None):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.chunk = chunk  # which file of a multi-file track (WebVTT chunks) it is about
