"""Units: the pieces of one track that the aligner moves as a whole.

A unit never splits across output segments, so the aligner can only merge, never cut. That is
what keeps the text-preservation invariant simple: each language's output texts, in order,
are its units, which are consecutive pieces of its cleaned cue stream.

Granularities:

- ``cue``: each cue is a unit;
- ``sentence`` (default): the cue stream is joined and cut after sentence-final punctuation;
  a unit's start/end are interpolated by character position inside the cues it spans;
- ``paragraph`` and ``talk`` use sentence units and coarsen after alignment (see align.py).

A track whose text has almost no sentence punctuation (Thai, some badly punctuated
subtitles) falls back to cue units: one unpunctuated "sentence" spanning the whole talk would
force every segment of every language to merge.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .records import Cue

GRANULARITIES = ("cue", "sentence", "paragraph", "talk")

# Sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
# Scripts that do not put a space after the full stop end a sentence right after it.
_SENTENCE_END = re.compile(
    r"(?:[.!?…]+[\"'”’»)\]]*(?=\s))"
    r"|(?:[。！？｡؟۔।॥။።፧։។།!?]+[\"'”’」』)）\]]*)"
)
# Greek asks questions with ";" (U+037E, which NFC turns into U+003B).
_GREEK_SENTENCE_END = re.compile(_SENTENCE_END.pattern + r"|(?:;[\"'”’»)\]]*(?=\s))")
# Abbreviations after which a full stop does not end a sentence (English pivot mostly).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st vs etc e.g i.e u.s u.k jr sr no inc ltd co mt ft approx dept".split()
)
MIN_SENTENCES_PER_CUE = 0.2


@dataclass(frozen=True, slots=True)
class Unit:
    """A piece of one track. ``start``/``end`` are its position on the axis; ``core_start``/
    ``core_end`` bound the part that is certain. A sentence that begins or ends inside a cue
    has an interpolated edge, which may be off by up to the cue's length; its core stops at
    the edges of that cue (and is empty, core_start > core_end, for a sentence inside one cue)."""

    start: float
    end: float
    text: str
    paragraph: int
    core_start: float
    core_end: float


def cue_units(cues: list[Cue]) -> list[Unit]:
    return [Unit(c.start, c.end, c.text, c.paragraph, c.start, c.end) for c in cues if c.text]


def sentence_units(cues: list[Cue], script: str = "Latn") -> list[Unit]:
    cues = [c for c in cues if c.text]
    if not cues:
        return []
    stream = " ".join(c.text for c in cues)
    offsets = [0]  # offsets[i]: where cue i starts in the stream
    for cue in cues[:-1]:
        offsets.append(offsets[-1] + len(cue.text) + 1)

    pattern = _GREEK_SENTENCE_END if script == "Grek" else _SENTENCE_END
    cuts = [m.end() for m in pattern.finditer(stream) if not _is_abbreviation(stream, m.start())]
    if len(cuts) < MIN_SENTENCES_PER_CUE * len(cues):
        return cue_units(cues)

    def locate(char: int) -> tuple[Cue, int]:
        i = bisect.bisect_right(offsets, char) - 1
        return cues[i], min(char - offsets[i], len(cues[i].text))

    def position(cue: Cue, inside: int) -> float:
        return cue.start + (cue.end - cue.start) * inside / max(1, len(cue.text))

    units = []
    begin = 0
    for cut in [*cuts, len(stream)]:
        piece = stream[begin:cut]
        text = piece.strip()
        if text:
            first = begin + len(piece) - len(piece.lstrip())
            first_cue, first_inside = locate(first)
            last_cue, last_inside = locate(begin + len(piece.rstrip()) - 1)
            last_inside += 1
            units.append(Unit(
                position(first_cue, first_inside),
                position(last_cue, last_inside),
                text,
                first_cue.paragraph,
                first_cue.start if first_inside == 0 else first_cue.end,
                last_cue.end if last_inside >= len(last_cue.text) else last_cue.start,
            ))
        begin = cut
    return units


def _is_abbreviation(stream: str, dot: int) -> bool:
    if stream[dot] != ".":
        return False
    word_start = dot
    while word_start > 0 and not stream[word_start - 1].isspace():
        word_start -= 1
    word = stream[word_start:dot].lstrip("(\"'“")
    # "Dr." and "U.S." are abbreviations; a single capital is an initial ("John F. Kennedy");
    # one or two digits are an ordinal ("am 5. März", "15. století").
    return (
        word.lower() in _ABBREVIATIONS
        or (len(word) == 1 and word.isupper())
        or (len(word) <= 2 and word.isdigit())
    )


def units_for(cues: list[Cue], granularity: str, script: str = "Latn") -> list[Unit]:
    if granularity == "cue":
        return cue_units(cues)
    if granularity in GRANULARITIES:
        return sentence_units(cues, script)
    raise ValueError(f"unknown granularity {granularity!r}; choose one of {', '.join(GRANULARITIES)}")
