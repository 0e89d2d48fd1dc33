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


class _Reason(enum.StrEnum):
    """A reason: its key, as the reports spell it, and what it means (``what``)."""

    what: str

    def __new__(cls, value: str, what: str):
        reason = str.__new__(cls, value)
        reason._value_ = value
        reason.what = what
        return reason


class SkipReason(_Reason):
    """Why an input file, track or talk could not be used: the key in ``build_report.json``
    (``skips``) and ``reports/skips.parquet``, and in the crawl manifest. :class:`Skip` and
    :class:`InputError` take only these, so a reason is defined here once."""

    # a talk folder of the raw store (builder.store) or the talk as a whole (builder.pipeline)
    NOT_A_TALK_FOLDER = "not_a_talk_folder", "an entry of the raw store that is not RAW/<numeric talk id>/"
    OUTSIDE_STORE = "outside_store", "a link that leads out of the store"
    SINGLE_LANGUAGE = "single_language", "only one usable language: nothing to align"
    NO_USABLE_TRACK = "no_usable_track", "no transcript could be used"
    NO_ROWS_AFTER_CLEANING = "no_rows_after_cleaning", "every row lost its languages to the cleaning filters"
    # a file or a track (builder.store, builder.parse, builder.wit3, builder.pipeline)
    UNRECOGNISED_FILE = "unrecognised_file", "a file name that is no transcript"
    UNKNOWN_LANGUAGE = "unknown_language", "a language code the registry does not know"
    DUPLICATE_TRACK = "duplicate_track", "a second spelling of a language already read"
    CHUNK_GAP = "chunk_gap", "WebVTT chunks missing in the middle of a track"
    NOT_A_REGULAR_FILE = "not_a_regular_file", "a FIFO, device or folder where a file belongs"
    UNREADABLE_FILE = "unreadable_file", "the file could not be read"
    TOO_LARGE = "too_large", "larger than the size limit (decided before reading)"
    EMPTY_FILE = "empty_file", "a file with nothing in it"
    EMPTY_CHUNK = "empty_chunk", "a WebVTT chunk with no cue"
    EMPTY_TRACK = "empty_track", "a transcript with no text"
    EMPTY_AFTER_CLEANING = "empty_after_cleaning", "no text left after cleaning"
    MALFORMED_JSON = "malformed_json", "a TED transcript JSON that does not parse"
    MALFORMED_VTT = "malformed_vtt", "a WebVTT file that does not parse"
    MALFORMED_XML = "malformed_xml", "a WIT3 XML file that does not parse"
    MALFORMED_META = "malformed_meta", "meta.json, or one of its fields, that does not parse"
    SEGMENT_COUNT_MISMATCH = "segment_count_mismatch", "a WIT3 pair whose sides have different segment counts"
    UNPAIRED_WIT3_FILE = "unpaired_wit3_file", "a WIT3 file without its other side"
    # TED's API, as the crawler reads it (builder.ted_api)
    GRAPHQL_ERROR = "graphql_error", "TED's API answered with an error"
    MALFORMED_METADATA = "malformed_metadata", "TED's talk metadata is not in the expected shape"
    MALFORMED_RSS = "malformed_rss", "TED's RSS feed does not parse"
    NO_VIDEO_METADATA = "no_video_metadata", "TED's API knows no such talk"


@dataclass(frozen=True, slots=True)
class Skip:
    """Something the build could not use, and why. Goes into build_report.json."""

    level: str  # "talk" | "track"
    reason: SkipReason  # a SkipReason or its key, e.g. "malformed_json"; another is a ValueError
    talk_id: int | str | None = None
    language: str | None = None
    path: str | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", SkipReason(self.reason))

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


class Drop(_Reason):
    """Why a cell was dropped: the key in ``build_report.json`` (``cells.dropped``) and in
    ``reports/drops.parquet``, and what the dataset card says about it (``what``, which may name
    a build setting as ``{length_ratio}``). The clean stage and the pipeline drop cells only with
    these reasons."""

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

    def __init__(self, reason: SkipReason | str, detail: str = "", chunk: int | None = None):
        reason = SkipReason(reason)
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.chunk = chunk  # which file of a multi-file track (WebVTT chunks) it is about
