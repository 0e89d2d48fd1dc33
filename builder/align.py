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
3. By default any one language's request merges (nothing is lost, every row is as parallel as
   it can be). With ``merge_quorum`` q > 0, a merge needs requests from a share q of the other
   languages: one language that joined two sentences then no longer fuses them in fifty
   languages; instead its cells in the segments that unit spans are dropped, counted as
   ``alignment_conflict``. Finer rows, fewer full rows: benchmarks/README.md has the numbers.
4. Each unit then goes, whole, to the segment it overlaps most, never moving backwards.

Because units are never cut and each goes to exactly one segment, every language's output is
its unit sequence, in order: nothing is lost or duplicated. Merging is the only way to absorb
disagreement, so a segment always carries the same content in every language it has.

The same procedure serves untimed sources (WIT3): there the axis is the character offset in
the English pivot, and offsets are exact, so the margin is one character.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

from .segment import Unit


@dataclass(frozen=True)
class Tolerance:
    margin: float  # in axis units: ms (timed) or characters (untimed)
    even_split: float = 0.4  # of the unit's length, on each side of a boundary
    covered: float = 0.5  # of a pivot unit's length
    merge_quorum: float = 0.0  # share of the non-pivot languages that must ask for a merge


TIMED = Tolerance(margin=250.0)
UNTIMED = Tolerance(margin=1.0)
PARAGRAPH_PAUSE_MS = 1500.0  # timed sources without paragraphs: a pause this long starts one


@dataclass(slots=True)
class Segment:
    start: float
    end: float
    units: dict[str, list[str]]  # language -> unit texts, in order
    conflicts: set[str]  # languages whose cell here is incomplete (an outvoted merge)


def align(
    units_by_language: dict[str, list[Unit]],
    pivot: str,
    tolerance: Tolerance = TIMED,
    granularity: str = "sentence",
    timed: bool = True,
) -> list[Segment]:
    pivot_units = units_by_language.get(pivot, [])
    if not pivot_units:
        return []
    axis = _PivotAxis(pivot_units)
    others = [language for language in units_by_language if language != pivot]
    anchors: dict[str, list[int]] = {}
    requests: list[tuple[str, int, int]] = []  # (language, first, last pivot unit) a unit needs merged
    votes = [set() for _ in range(len(pivot_units) - 1)]  # boundary k: languages asking to merge
    for language in others:
        anchors[language] = []
        for unit in units_by_language[language]:
            best, (first, last) = axis.place(unit, tolerance)
            anchors[language].append(best)
            if last > first:
                requests.append((language, first, last))
                for k in range(first, last):
                    votes[k].add(language)
    quorum = max(1, math.ceil(tolerance.merge_quorum * len(others)))
    merge_next = [len(voters) >= quorum for voters in votes]  # pivot unit k+1 joins k's segment

    if granularity == "talk":
        merge_next = [True] * len(merge_next)
    elif granularity == "paragraph":
        # TED JSON has paragraphs; WebVTT does not, so a long pause stands in for one there.
        # Untimed sources without paragraphs come out as one segment per talk.
        has_paragraphs = any(u.paragraph != pivot_units[0].paragraph for u in pivot_units)
        for k in range(len(merge_next)):
            a, b = pivot_units[k], pivot_units[k + 1]
            if has_paragraphs:
                paragraph_break = a.paragraph != b.paragraph
            else:
                paragraph_break = timed and b.start - a.end >= PARAGRAPH_PAUSE_MS
            merge_next[k] = merge_next[k] or not paragraph_break

    segment_of = [0] * len(pivot_units)
    for k, merge in enumerate(merge_next):
        segment_of[k + 1] = segment_of[k] + (0 if merge else 1)
    # A unit whose merge was outvoted cannot sit in one segment: its language's cells in every
    # segment it spans are incomplete, so they are marked for dropping as a conflict.
    conflicts: dict[int, set[str]] = {}
    for language, first, last in requests:
        if segment_of[first] != segment_of[last]:
            for index in range(segment_of[first], segment_of[last] + 1):
                conflicts.setdefault(index, set()).add(language)

    segments: list[Segment] = []
    for unit, index in zip(pivot_units, segment_of):
        if index == len(segments):
            segments.append(Segment(unit.start, unit.end, {pivot: []}, conflicts.get(index, set())))
        segment = segments[index]
        segment.start, segment.end = min(segment.start, unit.start), max(segment.end, unit.end)
        segment.units[pivot].append(unit.text)

    for language, units in units_by_language.items():
        if language == pivot:
            continue
        previous = 0
        for unit, anchor in zip(units, anchors[language]):
            index = max(previous, segment_of[anchor])  # monotone: a unit never goes backwards
            segments[index].units.setdefault(language, []).append(unit.text)
            previous = index
    return segments


class _PivotAxis:
    """Pivot units on their axis, with the look-ups the aligner needs."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self.starts = [u.start for u in units]
        self.max_ends = list(itertools.accumulate((u.end for u in units), max))  # overlapping cues exist
        # Boundary k lies between pivot units k and k+1, somewhere in [lows[k], highs[k]].
        lows, highs = [], []
        for a, b in zip(units, units[1:]):
            lows.append(min(a.core_end, b.core_start))
            highs.append(max(a.core_end, b.core_start))
        self.lows = list(itertools.accumulate(lows, max))
        self.highs = list(itertools.accumulate(highs, max))

    def place(self, unit: Unit, tol: Tolerance) -> tuple[int, tuple[int, int]]:
        """The pivot unit that ``unit`` overlaps most, and the half-open range of pivot
        boundaries (``merge_next`` indices) that ``unit`` certainly straddles."""
        lo = bisect.bisect_right(self.max_ends, unit.start)
        hi = bisect.bisect_left(self.starts, unit.end)
        best, best_overlap = None, 0.0
        for j in range(lo, max(hi, lo)):
            p = self.units[j]
            overlap = min(unit.end, p.end) - max(unit.start, p.start)
            if overlap > best_overlap:
                best, best_overlap = j, overlap
        if best is None:
            return self._nearest(unit), (0, 0)
        core = (unit.core_start, unit.core_end)
        covered = [j for j in range(lo, max(hi, lo)) if _covers(core, self.units[j], tol.covered)]
        if len(covered) >= 2:
            return best, (covered[0], covered[-1])
        side = max(tol.margin, tol.even_split * (unit.end - unit.start))
        first = bisect.bisect_left(self.lows, unit.core_start + side)
        last = bisect.bisect_right(self.highs, unit.core_end - side)
        return best, (first, max(first, last))

    def _nearest(self, unit: Unit) -> int:
        mid = (unit.start + unit.end) / 2
        j = bisect.bisect_left(self.starts, mid)
        if j == 0:
            return 0
        if j == len(self.units):
            return j - 1
        before, after = self.units[j - 1], self.units[j]
        return j - 1 if mid - before.end <= after.start - mid else j


def _covers(core: tuple[float, float], pivot: Unit, fraction: float) -> bool:
    length = pivot.end - pivot.start
    return length > 0 and min(core[1], pivot.end) - max(core[0], pivot.start) >= fraction * length
