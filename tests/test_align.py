"""The aligner: merges only where content demands it, and never loses or repeats a unit."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.align import TIMED, UNTIMED, align
from builder.segment import Unit, sentence_units
from builder.records import Cue


def unit(start, end, text, core=None):
    core_start, core_end = core or (start, end)
    return Unit(start, end, text, 0, core_start, core_end)


def texts(segments, code):
    return [" ".join(s.units.get(code, [])) or None for s in segments]


def test_retimed_tracks_align_one_to_one():
    en = [unit(1404, 4912, "A."), unit(4936, 8785, "B."), unit(8809, 13976, "C.")]
    de = [unit(1428, 5001, "a."), unit(5020, 8700, "b."), unit(8890, 14100, "c.")]
    segments = align({"en": en, "de": de}, "en", TIMED)
    assert texts(segments, "en") == ["A.", "B.", "C."]
    assert texts(segments, "de") == ["a.", "b.", "c."]


def test_joined_sentence_merges_pivot_units():
    en = [unit(0, 3000, "A."), unit(3100, 6000, "B."), unit(6100, 9000, "C.")]
    vi = [unit(0, 6000, "ab."), unit(6100, 9000, "c.")]
    segments = align({"en": en, "vi": vi}, "en", TIMED)
    assert texts(segments, "en") == ["A. B.", "C."]
    assert texts(segments, "vi") == ["ab.", "c."]


def test_evenly_split_sentence_merges():
    en = [unit(0, 4000, "A."), unit(4000, 8000, "B.")]
    de = [unit(0, 2000, "a1"), unit(2000, 6000, "a2 b1"), unit(6000, 8000, "b2")]
    segments = align({"en": en, "de": de}, "en", TIMED)
    assert texts(segments, "en") == ["A. B."]
    assert texts(segments, "de") == ["a1 a2 b1 b2"]


def test_translation_running_one_cue_late_does_not_fuse_segments():
    """TED's Korean track of talk 10 lags a cue behind English for a minute."""
    en = [unit(0, 8000, "A."), unit(8500, 20000, "B."), unit(20500, 35000, "C.")]
    ko = [unit(0, 12000, "a."), unit(12100, 24000, "b."), unit(24100, 35000, "c.")]
    segments = align({"en": en, "ko": ko}, "en", TIMED)
    assert texts(segments, "ko") == ["a.", "b.", "c."]


def test_interpolated_edges_inside_one_cue_are_not_evidence():
    en = [unit(0, 5000, "A."), unit(5000, 10000, "B.")]
    # the German unit ends mid-cue: its certain part stops at that cue's start (4000)
    de = [unit(0, 7000, "a.", core=(0, 4000)), unit(7000, 10000, "b.", core=(10000, 10000))]
    segments = align({"en": en, "de": de}, "en", TIMED)
    assert len(segments) == 2


def test_untimed_merged_segment_in_pair():
    en = [unit(0, 10, "A"), unit(10, 25, "B"), unit(25, 30, "C")]
    fr = [unit(0, 25, "ab"), unit(25, 30, "c")]
    segments = align({"en": en, "fr": fr}, "en", UNTIMED)
    assert texts(segments, "fr") == ["ab", "c"]
    assert texts(segments, "en") == ["A B", "C"]


def test_language_missing_a_stretch_gets_nulls_there():
    en = [unit(0, 1000, "A."), unit(2000, 3000, "B."), unit(4000, 5000, "C.")]
    ko = [unit(0, 1000, "a."), unit(4000, 5000, "c.")]
    segments = align({"en": en, "ko": ko}, "en", TIMED)
    assert texts(segments, "ko") == ["a.", None, "c."]


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


@st.composite
def tracks(draw):
    n_languages = draw(st.integers(2, 5))
    result = {}
    for code in ["en", "de", "fr", "ja", "ko"][:n_languages]:
        n = draw(st.integers(0 if code != "en" else 1, 12))
        bounds = sorted(draw(st.lists(st.integers(0, 60_000), min_size=2 * n, max_size=2 * n)))
        result[code] = [
            unit(bounds[2 * i], bounds[2 * i + 1], f"{code}{i}",
                 core=tuple(sorted(draw(st.lists(st.integers(bounds[2 * i], bounds[2 * i + 1]), min_size=2, max_size=2)))))
            for i in range(n)
        ]
    return result


@settings(max_examples=300, deadline=None)
@given(tracks(), st.sampled_from(["sentence", "paragraph", "talk"]), st.sampled_from([0.0, 0.3, 1.0]))
def test_every_unit_lands_exactly_once_in_order(units_by_language, granularity, quorum):
    segments = align(units_by_language, "en", replace(TIMED, merge_quorum=quorum), granularity)
    for code, units in units_by_language.items():
        landed = [text for s in segments for text in s.units.get(code, [])]
        assert landed == [u.text for u in units]
    assert all(s.units.get("en") for s in segments), "every segment has pivot text"


def test_merge_quorum_trades_a_lone_merge_for_a_counted_conflict():
    en = [unit(0, 3000, "A."), unit(3100, 6000, "B."), unit(6100, 9000, "C.")]
    agree = [unit(0, 3000, "a."), unit(3100, 6000, "b."), unit(6100, 9000, "c.")]
    units = {"en": en, "de": agree, "fr": agree, "es": agree, "vi": [unit(0, 6000, "ab."), unit(6100, 9000, "c.")]}
    merged = align(units, "en", TIMED)
    assert texts(merged, "en") == ["A. B.", "C."] and not any(s.conflicts for s in merged)
    fine = align(units, "en", replace(TIMED, merge_quorum=0.5))
    assert texts(fine, "en") == ["A.", "B.", "C."]
    assert [s.conflicts for s in fine] == [{"vi"}, {"vi"}, set()]
    assert texts(fine, "vi") == ["ab.", None, "c."]


def test_sentence_ends_across_scripts():
    def cuts(text, script="Latn"):
        return [u.text for u in sentence_units([Cue(0, 1000, text)], script)]

    assert cuts("Am 5. März 2024 begann es. Dann kam Dr. Müller.") == ["Am 5. März 2024 begann es.", "Dann kam Dr. Müller."]
    assert cuts("Բարև։ Ինչպես ես։") == ["Բարև։", "Ինչպես ես։"]
    assert cuts("Τι κάνεις; Καλά.", "Grek") == ["Τι κάνεις;", "Καλά."]
    assert cuts("First; second.") == ["First; second."]
