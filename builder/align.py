"""Align stage: units of every language -> multi-way segments, by overlap on a shared axis.

Why overlap and not timestamps: TED re-times every language separately. In talk 10 the English
track starts at 00:00:01.404 and the German one at 00:00:01.428, the cue cuts differ, and German
moves clauses across cues. Identical timestamps match only a fraction of cues (see
benchmarks/README.md), so we compare *intervals*.

The method, for one talk:

1. One language is the pivot (English when present). Its units, in order, are the initial
   segments.
2. Every unit of every other language is laid on the pivot axis, and forces a merge of pivot
   units (a 1-n or n-1 merge) when it certainly holds content of more than one of them:

   - it covers at least half of each of two or more pivot units (a translator joined
     sentences), or
   - it straddles a pivot boundary nearly evenly: at least ``even_split`` of its length on
     each side (a translator cut sentences elsewhere).

   Sentence edges inside a cue are interpolated, so only a unit's *certain* part counts
   (``Unit.core_*``), and a pivot boundary is the whole span it may lie in. A unit that hangs
   over a boundary by less is timing noise or a translator's shift: TED's Korean track of talk
   10 runs one cue late for a minute, and merging on every overhang would fuse that minute
   into one segment in every language.
3. **Split before merge.** A unit that would force a merge is first cut at its own cue
   boundaries (``Unit.breaks``) that lie within a requested pivot boundary's window, plus
   ``cut_margin``: the nearest one to each such boundary. Translators of Korean, Japanese, Thai
   and Chinese often drop the full stop at the end of a cue, so their "sentence" runs over
   several English ones, but their cue cuts still line up with the English sentence ends. The
   pieces are checked again; only what no cue boundary resolves is merged. Cuts follow cue
   boundaries only, never a character inside a cue. A track timed on a coarser grid than the
   pivot's (whole seconds) is that much less certain (``Unit.quantum``).
4. By default any one language's request merges (nothing is lost, every row is as parallel as
   it can be). With ``merge_quorum`` q > 0, a merge needs requests from a share q of the other
   languages: one language that joined two sentences then no longer fuses them in fifty
   languages; instead its cells in the segments that unit spans are dropped, counted as
   ``alignment_conflict``. Finer rows, fewer full rows: benchmarks/README.md has the numbers.
5. **Anchor after merging.** A unit whose merge was granted goes to the merged segment; any
   other unit goes to the segment of the pivot unit it overlaps most, never moving backwards.
   Anchors depend only on the unit and the pivot, so the alignment of any language subset is
   composed from the same anchors and that subset's merge requests (``Alignment.requests``).

Each unit or piece goes to exactly one segment, in order, and the pieces of a unit joined are
the unit, so every language's output is its cue stream: nothing is lost or duplicated.
Merging absorbs the disagreement that cuts cannot, so a segment carries the same content in
every language it has.

The same procedure serves untimed sources (WIT3): there the axis is the character offset in
the English pivot, and offsets are exact, so the margin is one character.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from .segment import Break, Unit


@dataclass(frozen=True)
class Tolerance:
    margin: float  # in axis units: ms (timed) or characters (untimed)
    even_split: float = 0.4  # of the unit's length, on each side of a boundary
    covered: float = 0.5  # of a pivot unit's length
    merge_quorum: float = 0.0  # share of the non-pivot languages that must ask for a merge
    cut_margin: float = 0.0  # how far a cue boundary may lie outside a pivot boundary's window


TIMED = Tolerance(margin=250.0, cut_margin=750.0)
UNTIMED = Tolerance(margin=1.0)
PARAGRAPH_PAUSE_MS = 1500.0  # timed sources without paragraphs: a pause this long starts one


@dataclass(slots=True)
class Segment:
    start: float
    end: float
    units: dict[str, list[str]]  # language -> unit texts, in order
    conflicts: set[str]  # languages whose cell here is incomplete (an outvoted merge)


class Placement(NamedTuple):
    """Where one unit (or piece of a cut unit) of a non-pivot language went: it asked to merge
    pivot units ``first``..``last`` (first == last: no merge) and landed in ``segment``."""

    text: str
    first: int
    last: int
    segment: int
    anchor: int  # the pivot unit it is anchored to: ``segment`` is that unit's segment


@dataclass(slots=True)
class Alignment:
    """The segments, and what composes them: ``requests[language]`` are the boundaries k
    (between pivot units k and k+1) that the language asks to merge, ``base_merges[k]`` those
    the granularity merges; each placement's ``anchor`` is where its text sits in the finest
    alignment (one row per pivot unit). Merging the requests of any set of languages and
    keeping every anchor gives that set's own alignment (builder.contract.compose)."""

    segments: list[Segment]
    segment_of: list[int]  # pivot unit -> its segment
    placements: dict[str, list[Placement]]  # non-pivot language -> its units, in order
    cuts: Counter  # language -> cuts made at its cue boundaries (pieces added)
    requests: dict[str, set[int]]
    base_merges: list[bool]


def align(
    units_by_language: dict[str, list[Unit]],
    pivot: str,
    tolerance: Tolerance = TIMED,
    granularity: str = "sentence",
    timed: bool = True,
) -> Alignment:
    pivot_units = units_by_language.get(pivot, [])
    if not pivot_units:
        return Alignment([], [], {}, Counter(), {}, [])
    axis = _PivotAxis(pivot_units, tolerance)
    others = [language for language in units_by_language if language != pivot]
    placed: dict[str, list[tuple[Unit, int, int]]] = {}  # language -> (piece, first, last pivot unit)
    cuts: Counter = Counter()
    requests: dict[str, set[int]] = {}  # language -> boundaries k it asks to merge
    for language in others:
        placed[language] = []
        requests[language] = set()
        for unit in units_by_language[language]:
            pieces = axis.split(unit)
            cuts[language] += len(pieces) - 1
            for piece, (first, last) in pieces:
                placed[language].append((piece, first, last))
                requests[language].update(range(first, last))
    votes = Counter(k for asked in requests.values() for k in asked)  # boundary k: languages asking
    quorum = max(1, math.ceil(tolerance.merge_quorum * len(others)))
    base_merges = [False] * (len(pivot_units) - 1)
    if granularity == "talk":
        base_merges = [True] * len(base_merges)
    elif granularity == "paragraph":
        # TED JSON has paragraphs; WebVTT does not, so a long pause stands in for one there.
        # Untimed sources without paragraphs come out as one segment per talk.
        has_paragraphs = any(u.paragraph != pivot_units[0].paragraph for u in pivot_units)
        for k in range(len(base_merges)):
            a, b = pivot_units[k], pivot_units[k + 1]
            if has_paragraphs:
                paragraph_break = a.paragraph != b.paragraph
            else:
                paragraph_break = timed and b.start - a.end >= PARAGRAPH_PAUSE_MS
            base_merges[k] = not paragraph_break
    # pivot unit k+1 joins k's segment
    merge_next = [base or votes[k] >= quorum for k, base in enumerate(base_merges)]

    segment_of = [0] * len(pivot_units)
    for k, merge in enumerate(merge_next):
        segment_of[k + 1] = segment_of[k] + (0 if merge else 1)

    segments: list[Segment] = []
    for unit, index in zip(pivot_units, segment_of):
        if index == len(segments):
            segments.append(Segment(unit.start, unit.end, {pivot: []}, set()))
        segment = segments[index]
        segment.start, segment.end = min(segment.start, unit.start), max(segment.end, unit.end)
        segment.units[pivot].append(unit.text)

    # Anchor after merging. A unit that asked for a merge belongs to the merged segment, so it
    # is anchored to the first pivot unit of its range; any other unit to the pivot unit it
    # overlaps most. The anchor is chosen from the unit's own request and the pivot alone, never
    # from what other languages merged, so every subset of languages can be composed from the
    # same anchors (builder.contract). Measured against the merged segments' spans instead, the
    # choice was the same for all 110,665 placements of the real talks and of 30 synthetic ones.
    pivot_spans = _Spans(pivot_units)
    placements: dict[str, list[Placement]] = {}
    for language in others:
        previous = 0
        placements[language] = []
        for piece, first, last in placed[language]:
            anchor = first if last > first else pivot_spans.most_overlapped(piece)
            anchor = max(previous, anchor)  # monotone: a unit never goes backwards
            index = segment_of[anchor]
            segments[index].units.setdefault(language, []).append(piece.text)
            placements[language].append(Placement(piece.text, first, last, index, anchor))
            if last > first and segment_of[first] != segment_of[last]:
                # An outvoted merge: the unit cannot sit in one segment, so its language's
                # cells in every segment it spans are incomplete and are dropped as a conflict.
                for k in range(segment_of[first], segment_of[last] + 1):
                    segments[k].conflicts.add(language)
            previous = anchor
    return Alignment(segments, segment_of, placements, cuts, requests, base_merges)


class _PivotAxis:
    """Pivot units on their axis, with the look-ups the aligner needs."""

    def __init__(self, units: list[Unit], tolerance: Tolerance):
        self.units = units
        self.tol = tolerance
        self.starts = [u.start for u in units]
        self.max_ends = list(itertools.accumulate((u.end for u in units), max))  # overlapping cues exist
        # Boundary k lies between pivot units k and k+1, somewhere in [lows[k], highs[k]].
        self.windows = [
            (min(a.core_end, b.core_start), max(a.core_end, b.core_start)) for a, b in zip(units, units[1:])
        ]
        self.lows = list(itertools.accumulate((w[0] for w in self.windows), max))
        self.highs = list(itertools.accumulate((w[1] for w in self.windows), max))

    def split(self, unit: Unit) -> list[tuple[Unit, tuple[int, int]]]:
        """``unit``, or its pieces when it would force a merge that a cut resolves: it is cut at
        its own cue boundary nearest to each pivot boundary it straddles, if that cue boundary
        lies within the boundary's window plus ``cut_margin``. Each piece comes with the range
        of pivot boundaries it still asks to merge. Recursive: a piece is checked again."""
        requested = self.requested(unit)
        # Where to cut is judged on the cue times as given: a coarse track's doubt about its
        # times widens the reach of a cut, but must not hide that the unit straddles.
        first, last = self.requested(unit, exact=True) if unit.quantum else requested
        if last == first or not unit.breaks or self.tol.cut_margin <= 0:
            return [(unit, requested)]
        q = unit.quantum
        chosen = []
        for low, high in self.windows[first:last]:
            def distance(b: Break, low=low, high=high) -> float:  # a coarse track's cue edge may be q off
                return _distance(b.end - q, b.start + q, low, high)

            middle = (low + high) / 2
            best = min(unit.breaks, key=lambda b: (distance(b), abs((b.end + b.start) / 2 - middle)))
            if distance(best) <= self.tol.cut_margin:
                chosen.append(best)
        if not chosen:
            return [(unit, requested)]
        return [placed for piece in unit.cut(chosen) for placed in self.split(piece)]

    def requested(self, unit: Unit, exact: bool = False) -> tuple[int, int]:
        """The half-open range of pivot boundaries (``merge_next`` indices) that ``unit``
        certainly straddles: empty unless it covers at least ``covered`` of two or more pivot
        units, or lies at least ``even_split`` of its length beyond a boundary on each side.
        Its certain part shrinks by its ``quantum`` unless ``exact``."""
        tol = self.tol
        start, end = unit.start, unit.end
        lo = bisect.bisect_right(self.max_ends, start)
        hi = bisect.bisect_left(self.starts, end)
        q = 0.0 if exact else unit.quantum
        core_start, core_end = unit.core_start + q, unit.core_end - q
        overlaps = False
        covered_first = covered_last = -1
        for j in range(lo, hi):
            p = self.units[j]
            overlaps = overlaps or min(end, p.end) > max(start, p.start)
            length = p.end - p.start
            if length > 0 and min(core_end, p.end) - max(core_start, p.start) >= tol.covered * length:
                if covered_first < 0:
                    covered_first = j
                covered_last = j
        if not overlaps:
            return 0, 0
        if covered_last > covered_first >= 0:
            return covered_first, covered_last
        side = max(tol.margin, tol.even_split * (end - start))
        first = bisect.bisect_left(self.lows, core_start + side)
        last = bisect.bisect_right(self.highs, core_end - side)
        return first, max(first, last)


class _Spans:
    """Intervals on the pivot axis (pivot units or segments): which one a unit overlaps most."""

    def __init__(self, segments: list):
        self.segments = segments
        self.starts = [s.start for s in segments]
        self.max_ends = list(itertools.accumulate((s.end for s in segments), max))

    def most_overlapped(self, unit: Unit) -> int:
        """The segment that overlaps ``unit`` longest (the first on a tie), else the nearest."""
        lo = bisect.bisect_right(self.max_ends, unit.start)
        hi = bisect.bisect_left(self.starts, unit.end)
        best, best_overlap = None, 0.0
        for j in range(lo, max(hi, lo)):
            s = self.segments[j]
            overlap = min(unit.end, s.end) - max(unit.start, s.start)
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        return self._nearest(unit) if best is None else best

    def _nearest(self, unit: Unit) -> int:
        mid = (unit.start + unit.end) / 2
        j = bisect.bisect_left(self.starts, mid)
        if j == 0:
            return 0
        if j == len(self.segments):
            return j - 1
        before, after = self.segments[j - 1], self.segments[j]
        return j - 1 if mid - before.end <= after.start - mid else j


def _distance(a_low: float, a_high: float, b_low: float, b_high: float) -> float:
    """Gap between two intervals on the axis (0 when they touch or overlap)."""
    a_low, a_high = min(a_low, a_high), max(a_low, a_high)
    return max(0.0, a_low - b_high, b_low - a_high)


