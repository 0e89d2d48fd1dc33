"""Units: the pieces of one track that the aligner moves as a whole.

A unit keeps the cue boundaries inside it (``Unit.breaks``), with their times. The aligner
may cut a unit there, and only there, when that resolves a merge (see align.py): translators
of Korean, Japanese, Thai and Chinese often drop the full stop at the end of a cue, so one
"sentence" of theirs spans several English ones, cue by cue. Cuts fall on the space that
joined two cues, so each language's output texts, in order, are still consecutive pieces of
its cleaned cue stream, and joining them gives the stream back: the text-preservation
invariant.

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
from dataclasses import dataclass, replace
from typing import NamedTuple

from .languages import NO_SPACE_SCRIPTS
from .records import Cue

GRANULARITIES = ("cue", "sentence", "paragraph", "talk")

# Sentence end: terminal punctuation, optional closing quotes/brackets, then whitespace.
# Scripts that do not put a space after the full stop end a sentence right after it.
# French spaces its closing guillemet (". » Bien"); German opens with » and does not (". »Ich"),
# and closes with « and “ (".« Gut", ".“ Dann").
_SENTENCE_END = re.compile(
    r"(?:[.!?…]+(?: »)?[\"'”’“»«)\]]*(?=\s))"
    r"|(?:[。！？｡؟۔।॥။።፧։។།!?]+[\"'”’」』)）\]]*)"
)
# Greek asks questions with ";" (U+037E, which NFC turns into U+003B).
_GREEK_SENTENCE_END = re.compile(_SENTENCE_END.pattern + r"|(?:;[\"'”’»)\]]*(?=\s))")
# Abbreviations after which a full stop does not end a sentence (English pivot mostly).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st vs etc e.g i.e u.s u.k jr sr no inc ltd co mt ft approx dept z.b d.h bzw usw".split()
)
MIN_SENTENCES_PER_CUE = 0.2


class Break(NamedTuple):  # a tuple: there is one per cue, and it is built fast
    """A cue boundary inside a unit: the next cue's text starts at ``offset`` in the track's
    joined text (after the joining space), the previous cue ends at ``end`` and the next starts
    at ``start`` (on the axis), in ``paragraph``."""

    offset: int
    end: float
    start: float
    paragraph: int


@dataclass(frozen=True, slots=True)
class Unit:
    """A piece of one track. ``start``/``end`` are its position on the axis; ``core_start``/
    ``core_end`` bound the part that is certain. A sentence that begins or ends inside a cue
    has an interpolated edge, which may be off by up to the cue's length; its core stops at
    the edges of that cue (and is empty, core_start > core_end, for a sentence inside one cue).
    ``breaks`` are the cue boundaries inside it, where :meth:`cut` may split it."""

    start: float
    end: float
    text: str
    paragraph: int
    core_start: float
    core_end: float
    breaks: tuple[Break, ...] = ()
    offset: int = 0  # where ``text`` starts in the track's joined text (what breaks count from)
    quantum: float = 0.0  # its cue times may be off by this much against the pivot's (coarser_timing)

    def cut(self, at: list[Break]) -> list[Unit]:
        """The pieces of this unit cut at some of its breaks. Cue edges are certain, so every
        cut edge is part of its piece's core. The pieces' texts joined by a space (or
        squeezed, for scripts without spaces) are this unit's text."""
        pieces: list[Unit] = []
        chosen = sorted(set(at), key=lambda b: b.offset)
        edges = [None, *chosen, None]
        for left, right in zip(edges, edges[1:]):
            begin = left.offset if left else self.offset
            stop = right.offset if right else self.offset + len(self.text)
            pieces.append(Unit(
                left.start if left else self.start,
                right.end if right else self.end,
                self.text[begin - self.offset:stop - self.offset].strip(),
                left.paragraph if left else self.paragraph,
                left.start if left else self.core_start,
                right.end if right else self.core_end,
                tuple(b for b in self.breaks if begin < b.offset < stop),
                begin,
                self.quantum,
            ))
        return pieces


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
    # Units of spaced scripts are joined with a space, so they may only end at one: "?" then
    # "," inside a cue ("...to?", to...") is not a cut there.
    spaced = script not in NO_SPACE_SCRIPTS
    size = len(stream)
    cuts = []
    for m in pattern.finditer(stream):
        end = m.end()
        if not (spaced and end < size and not stream[end].isspace()) and not _is_abbreviation(stream, m.start()):
            cuts.append(end)
    if len(cuts) < MIN_SENTENCES_PER_CUE * len(cues):
        return cue_units(cues)
    # edges[i - 1]: the boundary before cue i; a unit over cues a..b has edges[a:b] inside it
    edges = tuple(Break(offsets[i], cues[i - 1].end, cues[i].start, cues[i].paragraph) for i in range(1, len(cues)))

    def locate(char: int) -> tuple[int, int]:
        i = bisect.bisect_right(offsets, char) - 1
        return i, min(char - offsets[i], len(cues[i].text))

    def position(cue: Cue, inside: int) -> float:
        return cue.start + (cue.end - cue.start) * inside / max(1, len(cue.text))

    units = []
    begin = 0
    for cut in [*cuts, len(stream)]:
        piece = stream[begin:cut]
        text = piece.strip()
        if text:
            first = begin + len(piece) - len(piece.lstrip())
            first_index, first_inside = locate(first)
            last_index, last_inside = locate(begin + len(piece.rstrip()) - 1)
            last_inside += 1
            first_cue, last_cue = cues[first_index], cues[last_index]
            units.append(Unit(
                position(first_cue, first_inside),
                position(last_cue, last_inside),
                text,
                first_cue.paragraph,
                first_cue.start if first_inside == 0 else first_cue.end,
                last_cue.end if last_inside >= len(last_cue.text) else last_cue.start,
                edges[first_index:last_index],
                first,
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


def timing_quantum(cues: list[Cue]) -> float:
    """1000 ms for a track timed in whole seconds, else 0."""
    timed = [c for c in cues if c.end > c.start]
    if len(timed) >= 3 and all(c.start % 1000 == 0 and c.end % 1000 == 0 for c in timed):
        return 1000.0
    return 0.0


def coarser_timing(units: list[Unit], quantum: float) -> list[Unit]:
    """``units`` of a track whose times are only known to ``quantum`` relative to the pivot's:
    less of each unit is certain, and its cue boundaries may lie that much further away.

    Old TED tracks are timed in whole seconds. In talk 1500 every language but English starts
    its cues at 00:00:01.000, 00:00:04.000, ... while English has the sentence boundary at
    1.9 s. Tracks on the pivot's own grid share its timing (in talk 1300 all but Georgian
    share English's whole-second cues), so the pipeline passes no quantum for those."""
    return [replace(u, quantum=quantum) for u in units] if quantum else units
