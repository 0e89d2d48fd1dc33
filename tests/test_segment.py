"""builder/segment.py: cue and sentence units, their positions and certain cores, the cue
boundaries they keep, and the text-preservation invariant that the aligner builds on."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.records import Cue
from builder.segment import (
    GRANULARITIES,
    MIN_SENTENCES_PER_CUE,
    coarser_timing,
    cue_units,
    sentence_units,
    timing_quantum,
    units_for,
)


def test_sentence_units_interpolate_and_mark_certain_edges():
    cues = [Cue(0, 4000, "One two. Three"), Cue(4000, 8000, "four five.")]
    units = sentence_units(cues)
    assert [u.text for u in units] == ["One two.", "Three four five."]
    assert units[0].start == 0 and 0 < units[0].end < 4000
    assert units[0].core_end == 0  # ends inside cue 0: only its start is certain
    assert units[1].core_start == 4000 and units[1].core_end == 8000


def test_unpunctuated_track_falls_back_to_cue_units():
    cues = [Cue(i * 1000, i * 1000 + 900, f"คำ {i}") for i in range(20)]
    assert len(sentence_units(cues)) == 20


def test_sentence_ends_across_scripts():
    def cuts(text, script="Latn"):
        return [u.text for u in sentence_units([Cue(0, 1000, text)], script)]

    assert cuts("Am 5. März 2024 begann es. Dann kam Dr. Müller.") == ["Am 5. März 2024 begann es.", "Dann kam Dr. Müller."]
    assert cuts("Բարև։ Ինչպես ես։") == ["Բարև։", "Ինչպես ես։"]
    assert cuts("Τι κάνεις; Καλά.", "Grek") == ["Τι κάνεις;", "Καλά."]
    assert cuts("First; second.") == ["First; second."]


@pytest.mark.parametrize("text, units", [
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ("Il a dit : « Non. » Bien sûr.", ["Il a dit : « Non. »", "Bien sûr."]),
    ("Er sagte: »Ich komme.« Gut.", ["Er sagte: »Ich komme.«", "Gut."]),
    ("John F. Kennedy spoke. The U.S. listened.", ["John F. Kennedy spoke.", "The U.S. listened."]),
    ("Wait... what? Really!", ["Wait...", "what?", "Really!"]),
    ("Is it 3.5 percent? Yes.", ["Is it 3.5 percent?", "Yes."]),
    ('"Why?", he asked.', ['"Why?", he asked.']),  # a "?" before a comma inside the sentence is no end
])
def test_sentence_ends_with_quotes_initials_and_numbers(text, units):
    assert [u.text for u in sentence_units([Cue(0, 1000, text)])] == units


def test_scripts_without_spaces_end_a_sentence_right_after_the_full_stop():
    assert [u.text for u in sentence_units([Cue(0, 1000, "今日は晴れ。明日は雨。")], "Jpan")] == ["今日は晴れ。", "明日は雨。"]


def test_the_fallback_to_cue_units_starts_below_one_sentence_end_in_five_cues():
    ends = round(MIN_SENTENCES_PER_CUE * 10)
    cues = [Cue(i * 1000, i * 1000 + 900, f"cue number {i} here{'.' if i < ends else ''}") for i in range(10)]
    assert len(sentence_units(cues)) == ends + 1  # enough ends: sentence units (the last one unended)
    cues[ends - 1] = Cue(cues[ends - 1].start, cues[ends - 1].end, f"cue number {ends - 1} here")
    assert [u.text for u in sentence_units(cues)] == [c.text for c in cues]


def test_cue_units_and_units_for():
    cues = [Cue(0, 1000, "One. Two"), Cue(1000, 2000, ""), Cue(2000, 3000, "three.", paragraph=1)]
    units = cue_units(cues)
    assert [(u.start, u.end, u.text, u.paragraph, u.core_start, u.core_end) for u in units] == [
        (0, 1000, "One. Two", 0, 0, 1000), (2000, 3000, "three.", 1, 2000, 3000)]
    assert units_for(cues, "cue") == units
    for granularity in GRANULARITIES[1:]:  # paragraph and talk coarsen after alignment, from sentences
        assert [u.text for u in units_for(cues, granularity)] == ["One.", "Two three."]
    with pytest.raises(ValueError, match="unknown granularity"):
        units_for(cues, "word")


def test_timing_quantum_and_coarser_timing():
    whole = [Cue(i * 1000, i * 1000 + 1000, "x") for i in range(3)]
    assert timing_quantum(whole) == 1000.0
    assert timing_quantum(whole[:2]) == 0.0  # too few cues to tell
    assert timing_quantum([*whole, Cue(3000, 3500, "x")]) == 0.0
    assert timing_quantum([*whole, Cue(3400, 3400, "x")]) == 1000.0  # a zero-length cue says nothing
    units = sentence_units(whole)
    assert coarser_timing(units, 0.0) is units
    assert [u.quantum for u in coarser_timing(units, 1000.0)] == [1000.0] * len(units)
    assert [u.text for u in coarser_timing(units, 1000.0)] == [u.text for u in units]


words = st.sampled_from(["we", "heal", "wounds", "today.", "Dr.", "U.S.", "what?", "yes!", "(so)", "5.", "»Ja.«", "end…", "3.5"])
cue_texts = st.lists(words, min_size=1, max_size=6).map(" ".join)


@st.composite
def timed_cues(draw):
    texts = draw(st.lists(cue_texts, min_size=1, max_size=12))
    gaps = draw(st.lists(st.integers(0, 2000), min_size=2 * len(texts), max_size=2 * len(texts)))
    cues, time = [], 0
    for i, text in enumerate(texts):
        start = time + gaps[2 * i]
        time = start + 1 + gaps[2 * i + 1]
        cues.append(Cue(start, time, text, paragraph=i // 4))
    return cues


@settings(max_examples=200, deadline=None)
@given(timed_cues())
def test_sentence_units_preserve_the_text_and_lie_inside_their_cues(cues):
    units = sentence_units(cues)
    stream = " ".join(c.text for c in cues)
    assert " ".join(u.text for u in units) == stream  # the text-preservation invariant
    if [u.text for u in units] != [c.text for c in cues]:  # sentences (not the fallback to cue units)
        assert all(stream[u.offset:u.offset + len(u.text)] == u.text for u in units)
    starts = [c.start for c in cues]
    for unit in units:
        assert cues[0].start <= unit.start <= unit.end <= cues[-1].end
        assert unit.start <= unit.core_start and unit.core_end <= unit.end
        for b in unit.breaks:  # each kept boundary is where the next cue's text starts, with its times
            assert unit.offset < b.offset < unit.offset + len(unit.text)
            k = starts.index(b.start)
            assert stream.startswith(cues[k].text, b.offset) and b.end == cues[k - 1].end and b.paragraph == cues[k].paragraph
    assert sum(len(u.breaks) for u in units) <= len(cues) - 1


@settings(max_examples=100, deadline=None)
@given(timed_cues(), st.data())
def test_a_unit_cut_at_any_of_its_breaks_gives_its_text_back_in_pieces(cues, data):
    units = [u for u in sentence_units(cues) if u.breaks]
    if not units:
        return
    unit = data.draw(st.sampled_from(units))
    at = data.draw(st.lists(st.sampled_from(unit.breaks), min_size=1, unique=True))
    pieces = unit.cut(at)
    assert len(pieces) == len(at) + 1
    assert " ".join(p.text for p in pieces) == unit.text
    assert pieces[0].start == unit.start and pieces[-1].end == unit.end
    cut_edges = sorted(at, key=lambda b: b.offset)
    for left, right, b in zip(pieces, pieces[1:], cut_edges):
        assert (left.end, left.core_end, right.start, right.core_start) == (b.end, b.end, b.start, b.start)
    assert sum(len(p.breaks) for p in pieces) == len(unit.breaks) - len(at)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["今日は", "晴れ。", "雨", "です！", "本当？", "ね"]), min_size=1, max_size=8))
def test_units_of_a_script_without_spaces_squeeze_back_to_its_text(pieces):
    cues = [Cue(i * 1000, i * 1000 + 900, text) for i, text in enumerate(pieces)]
    units = sentence_units(cues, "Jpan")
    assert re.sub(r"\s", "", "".join(u.text for u in units)) == "".join(pieces)
