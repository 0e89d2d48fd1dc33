"""The aligner: merges only where content demands it, and never loses or repeats a unit."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from builder.align import TIMED, UNTIMED, align
from builder.records import Cue
from builder.segment import Unit, coarser_timing, sentence_units


def unit(start, end, text, core=None):
    core_start, core_end = core or (start, end)
    return Unit(start, end, text, 0, core_start, core_end)


def texts(segments, code):
    return [" ".join(s.units.get(code, [])) or None for s in segments]


def test_retimed_tracks_align_one_to_one():
    en = [unit(1404, 4912, "A."), unit(4936, 8785, "B."), unit(8809, 13976, "C.")]
    de = [unit(1428, 5001, "a."), unit(5020, 8700, "b."), unit(8890, 14100, "c.")]
    segments = align({"en": en, "de": de}, "en", TIMED).segments
    assert texts(segments, "en") == ["A.", "B.", "C."]
    assert texts(segments, "de") == ["a.", "b.", "c."]


def test_joined_sentence_merges_pivot_units():
    en = [unit(0, 3000, "A."), unit(3100, 6000, "B."), unit(6100, 9000, "C.")]
    vi = [unit(0, 6000, "ab."), unit(6100, 9000, "c.")]
    segments = align({"en": en, "vi": vi}, "en", TIMED).segments
    assert texts(segments, "en") == ["A. B.", "C."]
    assert texts(segments, "vi") == ["ab.", "c."]


def test_evenly_split_sentence_merges():
    en = [unit(0, 4000, "A."), unit(4000, 8000, "B.")]
    de = [unit(0, 2000, "a1"), unit(2000, 6000, "a2 b1"), unit(6000, 8000, "b2")]
    segments = align({"en": en, "de": de}, "en", TIMED).segments
    assert texts(segments, "en") == ["A. B."]
    assert texts(segments, "de") == ["a1 a2 b1 b2"]


def test_translation_running_one_cue_late_does_not_fuse_segments():
    """TED's Korean track of talk 10 lags a cue behind English for a minute."""
    en = [unit(0, 8000, "A."), unit(8500, 20000, "B."), unit(20500, 35000, "C.")]
    ko = [unit(0, 12000, "a."), unit(12100, 24000, "b."), unit(24100, 35000, "c.")]
    segments = align({"en": en, "ko": ko}, "en", TIMED).segments
    assert texts(segments, "ko") == ["a.", "b.", "c."]


def test_interpolated_edges_inside_one_cue_are_not_evidence():
    en = [unit(0, 5000, "A."), unit(5000, 10000, "B.")]
    # the German unit ends mid-cue: its certain part stops at that cue's start (4000)
    de = [unit(0, 7000, "a.", core=(0, 4000)), unit(7000, 10000, "b.", core=(10000, 10000))]
    segments = align({"en": en, "de": de}, "en", TIMED).segments
    assert len(segments) == 2


def test_untimed_merged_segment_in_pair():
    en = [unit(0, 10, "A"), unit(10, 25, "B"), unit(25, 30, "C")]
    fr = [unit(0, 25, "ab"), unit(25, 30, "c")]
    segments = align({"en": en, "fr": fr}, "en", UNTIMED).segments
    assert texts(segments, "fr") == ["ab", "c"]
    assert texts(segments, "en") == ["A B", "C"]


def test_language_missing_a_stretch_gets_nulls_there():
    en = [unit(0, 1000, "A."), unit(2000, 3000, "B."), unit(4000, 5000, "C.")]
    ko = [unit(0, 1000, "a."), unit(4000, 5000, "c.")]
    segments = align({"en": en, "ko": ko}, "en", TIMED).segments
    assert texts(segments, "ko") == ["a.", None, "c."]


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
    segments = align(units_by_language, "en", replace(TIMED, merge_quorum=quorum), granularity).segments
    for code, units in units_by_language.items():
        landed = [text for s in segments for text in s.units.get(code, [])]
        assert landed == [u.text for u in units]
    assert all(s.units.get("en") for s in segments), "every segment has pivot text"


def test_merge_quorum_trades_a_lone_merge_for_a_counted_conflict():
    en = [unit(0, 3000, "A."), unit(3100, 6000, "B."), unit(6100, 9000, "C.")]
    agree = [unit(0, 3000, "a."), unit(3100, 6000, "b."), unit(6100, 9000, "c.")]
    units = {"en": en, "de": agree, "fr": agree, "es": agree, "vi": [unit(0, 6000, "ab."), unit(6100, 9000, "c.")]}
    merged = align(units, "en", TIMED).segments
    assert texts(merged, "en") == ["A. B.", "C."] and not any(s.conflicts for s in merged)
    fine = align(units, "en", replace(TIMED, merge_quorum=0.5)).segments
    assert texts(fine, "en") == ["A.", "B.", "C."]
    assert [s.conflicts for s in fine] == [{"vi"}, {"vi"}, set()]
    assert texts(fine, "vi") == ["ab.", None, "c."]


# The shape of a real Korean track (talk 200): one "sentence" 35.0-56.0 s whose translator
# dropped the full stops at cue ends, against five English sentences.
KO_CUES = [(35, 37), (37, 39), (39, 42), (42, 45), (45, 47), (47, 50), (50, 52), (52, 56)]
EN_SENTENCES = [(35.9, 39.1), (39.1, 40.9), (40.9, 44.6), (45.1, 49.5), (51.0, 63.9)]


def korean_shape():
    """English units, and the one long Korean unit (after two short sentences that keep the
    track from looking unpunctuated)."""
    before = [(30, 32), (32, 34.5)]
    words = "ante prior one two three four five".split()
    en = [Cue(a * 1000, b * 1000, f"Sentence {w}.") for w, (a, b) in zip(words, before + EN_SENTENCES)]
    ko = [Cue(a * 1000, b * 1000, "앞.") for a, b in before]
    ko += [Cue(a * 1000, b * 1000, f"조각{i}" + ("." if i == len(KO_CUES) - 1 else "")) for i, (a, b) in enumerate(KO_CUES)]
    en_units, ko_units = sentence_units(en), sentence_units(ko, "Kore")
    assert len(ko_units) == 3
    return en_units, ko_units


def test_unit_that_forces_a_merge_lands_in_the_merged_segment():
    """Regression: the unit was anchored to English 51.0-63.9, the single pivot unit it overlaps
    longest, although it had just merged 35.9-49.5; that merged row then had no Korean."""
    en, ko = korean_shape()
    uncut = [replace(u, breaks=()) for u in ko]  # no cue boundaries to cut at
    alignment = align({"en": en, "ko": uncut}, "en", TIMED)
    assert texts(alignment.segments, "en")[2:] == ["Sentence one. Sentence two. Sentence three. Sentence four.", "Sentence five."]
    assert texts(alignment.segments, "ko")[2:] == [ko[2].text, None]
    assert alignment.cuts["ko"] == 0


def test_unit_is_cut_at_its_cue_boundaries_before_it_merges():
    en, ko = korean_shape()
    alignment = align({"en": en, "ko": ko}, "en", TIMED)
    # 39, 45 and 50 s lie at English boundaries; 39.1-44.6 holds two English sentences and no
    # Korean cue boundary within reach of 40.9 s, so those two stay merged.
    assert texts(alignment.segments, "en")[2:] == ["Sentence one.", "Sentence two. Sentence three.", "Sentence four.", "Sentence five."]
    assert texts(alignment.segments, "ko")[2:] == ["조각0 조각1", "조각2 조각3", "조각4 조각5", "조각6 조각7."]
    assert alignment.cuts["ko"] == 3
    assert " ".join(p.text for p in alignment.placements["ko"][2:]) == ko[2].text


def test_cut_pieces_keep_certain_cue_edges():
    unit = korean_shape()[1][2]
    left, right = unit.cut([unit.breaks[1]])  # at 39 s
    assert (left.start, left.end, left.core_end) == (35000, 39000, 39000)
    assert (right.start, right.core_start, right.end) == (39000, 39000, 56000)
    assert len(left.breaks) == 1 and len(right.breaks) == 5
    assert f"{left.text} {right.text}" == unit.text


def test_whole_second_track_cuts_within_its_resolution():
    """Talk 1500: English ends its first sentence at 1.9 s, the whole-second tracks cut at 1.0 s."""
    en = sentence_units([Cue(269, 1888, "People love their automobiles."), Cue(1912, 4962, "They allow us to go."),
                         Cue(4962, 6000, "Art.")])
    ar = sentence_units([Cue(0, 1000, "يحب الناس سياراتهم"), Cue(1000, 4000, "فهى تتيح لنا الذهاب."),
                         Cue(5000, 6000, "وشكل من اشكال الفن.")], "Arab")
    assert len(ar) == 2
    # taken as exact, the cue boundary at 1.0 s is too far from 1.9 s to cut at
    assert texts(align({"en": en, "ar": ar}, "en", TIMED).segments, "ar")[0] == ar[0].text
    coarse = coarser_timing(ar, 1000.0)
    alignment = align({"en": en, "ar": coarse}, "en", TIMED)
    assert texts(alignment.segments, "ar") == ["يحب الناس سياراتهم", "فهى تتيح لنا الذهاب.", "وشكل من اشكال الفن."]


@st.composite
def retimed_talks(draw):
    """A pivot of sentences made of 1-3 cues, and languages that re-time every cue by up to
    +-0.6 s, drop full stops (so a unit runs over several pivot sentences) and join cues."""
    n = draw(st.integers(1, 10))
    pivot_cues, t = [], 0
    for i in range(n):
        for j in range(parts := draw(st.integers(1, 3))):
            length = draw(st.integers(300, 4000))
            pivot_cues.append(Cue(t, t + length, f"e{i}.{j}" + ("." if j == parts - 1 else "")))
            t += length + draw(st.integers(0, 800))
    tracks = {"en": pivot_cues}
    for code in ["de", "ko", "ja"][:draw(st.integers(1, 3))]:
        cues, k = [], 0
        while k < len(pivot_cues):
            join = min(len(pivot_cues) - k, draw(st.integers(1, 2)))
            group = pivot_cues[k:k + join]
            start = max(cues[-1].end if cues else 0, group[0].start + draw(st.integers(-600, 600)))
            end = max(start, group[-1].end + draw(st.integers(-600, 600)))
            keep_stop = group[-1].text.endswith(".") and draw(st.booleans())
            cues.append(Cue(start, end, f"{code}{k}" + ("." if keep_stop else "")))
            k += join
        tracks[code] = cues
    return {code: sentence_units(cues, "Kore" if code == "ko" else "Latn") for code, cues in tracks.items()}


@settings(max_examples=300, deadline=None)
@given(retimed_talks(), st.sampled_from([0.0, 0.5]))
def test_honoured_merges_hold_their_unit_and_nothing_is_lost(units_by_language, quorum):
    alignment = align(units_by_language, "en", replace(TIMED, merge_quorum=quorum))
    for code, placements in alignment.placements.items():
        for p in placements:
            if p.last > p.first and alignment.segment_of[p.first] == alignment.segment_of[p.last]:
                assert p.segment == alignment.segment_of[p.first], f"{code} {p.text!r} left its merged segment"
        assert [p.segment for p in placements] == sorted(p.segment for p in placements)
        # a cut unit's pieces, joined, are the unit: each language's text is unchanged
        assert " ".join(p.text for p in placements) == " ".join(u.text for u in units_by_language[code])
        landed = [text for s in alignment.segments for text in s.units.get(code, [])]
        assert landed == [p.text for p in placements]
