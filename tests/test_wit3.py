"""builder/wit3.py on generated mteval XML: what makes a folder WIT3, how pairs become talks on
the reference English axis, and the skips for files that do not pair up."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.wit3 import is_wit3, read_wit3

from conftest import write_store

ENGLISH = ["We are at a tipping point.", "The climate is changing.", "So we must act.", "Thank you."]
GERMAN = ["Wir sind an einem Wendepunkt.", "Das Klima ändert sich.", "Also müssen wir handeln.", "Danke."]
FRENCH = ["Nous sommes à un tournant.", "Le climat change.", "Nous devons donc agir.", "Merci."]


def mteval(docs: dict[int, list[str]], title: str = "A talk") -> bytes:
    body = "".join(
        f'<doc docid="{talk_id}" genre="lectures"><url>https://www.ted.com/talks/{talk_id}</url><talkid>{talk_id}</talkid>'
        f"<title>{escape(title)}</title>" + "".join(f'<seg id="{i}"> {escape(text)} </seg>' for i, text in enumerate(segments, 1))
        + "</doc>"
        for talk_id, segments in docs.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><mteval><srcset setid="tst2016">{body}</srcset></mteval>'.encode()


def write_pair(root: Path, code: str, english: dict[int, list[str]], other: dict[int, list[str]], prefix="IWSLT17.TED.tst2016"):
    folder = root / f"en-{code}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{prefix}.en-{code}.en.xml").write_bytes(mteval(english))
    (folder / f"{prefix}.{code}-en.{code}.xml").write_bytes(mteval(other))


def texts(track) -> list[str]:
    return [cue.text.strip() for cue in track.cues]


def spans(track) -> list[tuple[float, float]]:
    return [(cue.start, cue.end) for cue in track.cues]


def test_pair_files_make_a_wit3_folder_and_a_stray_xml_does_not(tmp_path):
    wit3 = tmp_path / "wit3"
    write_pair(wit3, "de", {1: ENGLISH}, {1: GERMAN})
    assert is_wit3(wit3)
    store = write_store(tmp_path / "raw", {1: {"en.json": b"{}"}})
    write_pair(store, "de", {1: ENGLISH}, {1: GERMAN})  # a raw store holding pair files is still a raw store
    assert not is_wit3(store)
    hidden = tmp_path / "hidden"
    write_pair(hidden / ".cache", "de", {1: ENGLISH}, {1: GERMAN})
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "sitemap.xml").write_text("<urlset/>")
    assert not is_wit3(hidden) and not is_wit3(tmp_path / "other") and not is_wit3(tmp_path / "missing")


def test_pairs_become_untimed_talks_on_the_english_axis(tmp_path):
    write_pair(tmp_path, "de", {1: ENGLISH, 2: ENGLISH[:2]}, {1: GERMAN, 2: GERMAN[:2]})
    write_pair(tmp_path, "fr", {1: [f"  {s}\n" for s in ENGLISH]}, {1: FRENCH})  # whitespace differs from de's English
    talks, skips = read_wit3(tmp_path)
    assert not skips
    assert [t.talk_id for t in talks] == [1, 2]
    talk = talks[0]
    assert talk.source == "wit3" and sorted(talk.tracks) == ["de", "en", "fr"]
    assert all(not track.timed and track.source == "wit3" for track in talk.tracks.values())
    assert texts(talk.tracks["en"]) == ENGLISH and texts(talk.tracks["de"]) == GERMAN and texts(talk.tracks["fr"]) == FRENCH
    lengths = [len(s.replace(" ", "")) for s in ENGLISH]  # the axis: characters of English without whitespace
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    assert spans(talk.tracks["en"]) == [(s, s + n) for s, n in zip(starts, lengths)]
    assert spans(talk.tracks["de"]) == spans(talk.tracks["fr"]) == spans(talk.tracks["en"])
    assert talk.meta["title"] == "A talk" and talk.meta["id"] == 1 and talk.meta["languages"] == ["en", "fr", "de"]
    assert sorted(talks[1].tracks) == ["de", "en"]


def test_a_merged_english_segment_spans_the_reference_segments_it_merges(tmp_path):
    write_pair(tmp_path, "de", {1: ENGLISH}, {1: GERMAN})  # the finest cut: the reference
    merged = [ENGLISH[0], f"{ENGLISH[1]} {ENGLISH[2]}", ENGLISH[3]]
    write_pair(tmp_path, "fr", {1: merged}, {1: [FRENCH[0], f"{FRENCH[1]} {FRENCH[2]}", FRENCH[3]]})
    (talk,), _ = read_wit3(tmp_path)
    english = spans(talk.tracks["en"])
    assert len(english) == 4 and texts(talk.tracks["en"]) == ENGLISH
    assert spans(talk.tracks["fr"]) == [english[0], (english[1][0], english[2][1]), english[3]]


def test_a_language_subset_keeps_the_all_language_english_axis(tmp_path):
    write_pair(tmp_path, "de", {1: ENGLISH}, {1: GERMAN})
    merged = [ENGLISH[0], f"{ENGLISH[1]} {ENGLISH[2]}", ENGLISH[3]]
    write_pair(tmp_path, "fr", {1: merged}, {1: [FRENCH[0], f"{FRENCH[1]} {FRENCH[2]}", FRENCH[3]]})
    (everything,), _ = read_wit3(tmp_path)
    (french_only,), _ = read_wit3(tmp_path, frozenset({"fr"}))
    assert sorted(french_only.tracks) == ["fr"], "without en in the subset its text is left out"
    assert spans(french_only.tracks["fr"]) == spans(everything.tracks["fr"])
    (with_english,), _ = read_wit3(tmp_path, frozenset({"en", "fr"}))
    assert texts(with_english.tracks["en"]) == ENGLISH  # the finest English, from the de pair
    assert read_wit3(tmp_path, frozenset({"ja"})) == ([], [])


def test_files_that_do_not_pair_up_are_skips_and_the_rest_reads(tmp_path):
    write_pair(tmp_path, "de", {1: ENGLISH, 2: ENGLISH}, {1: GERMAN, 2: GERMAN[:3]})  # talk 2: 4 vs 3 segments
    lone = tmp_path / "en-fr"
    lone.mkdir()
    (lone / "IWSLT17.TED.tst2016.fr-en.fr.xml").write_bytes(mteval({1: FRENCH}))  # no English side
    write_pair(tmp_path, "ja", {1: ENGLISH}, {1: GERMAN})
    (tmp_path / "en-ja" / "IWSLT17.TED.tst2016.ja-en.ja.xml").write_bytes(b"<mteval><doc docid='1'><seg id='1'>x")
    write_pair(tmp_path, "xx", {1: ENGLISH}, {1: GERMAN})
    (tmp_path / "README.xml").write_text("<readme/>")
    (tmp_path / "IWSLT17.TED.tst2016.de-en.fr.xml").write_text("<mteval/>")  # its language is not of its pair
    talks, skips = read_wit3(tmp_path)
    assert [(t.talk_id, sorted(t.tracks)) for t in talks] == [(1, ["de", "en"])]
    assert {(s.reason, s.talk_id, s.language, s.path) for s in skips} == {
        ("segment_count_mismatch", 2, "de", "IWSLT17.TED.tst2016"),
        ("unpaired_wit3_file", None, None, "en-fr/IWSLT17.TED.tst2016.fr-en.fr.xml"),
        ("malformed_xml", None, "ja", "IWSLT17.TED.tst2016"),
        ("unknown_language", None, "xx", "en-xx/IWSLT17.TED.tst2016.xx-en.xx.xml"),
        ("unrecognised_file", None, None, "README.xml"),
        ("unrecognised_file", None, None, "IWSLT17.TED.tst2016.de-en.fr.xml"),
    }


xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=30).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(xml_text, xml_text), min_size=1, max_size=6))
def test_any_segment_text_comes_back_as_it_was_written(tmp_path_factory, pairs):
    root = tmp_path_factory.mktemp("wit3")
    english, german = [e for e, _ in pairs], [g for _, g in pairs]
    write_pair(root, "de", {5: english}, {5: german})
    (talk,), skips = read_wit3(root)
    assert not skips
    assert [c.text for c in talk.tracks["de"].cues] == [f" {g} " for g in german]
    starts = [c.start for c in talk.tracks["en"].cues]
    assert starts == sorted(starts) and all(c.end >= c.start for c in talk.tracks["de"].cues)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.sampled_from([
    b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><mteval><doc docid="1"><seg id="1">&b;</seg></doc></mteval>',
    b'<mteval><doc docid="one"><seg id="1">x</seg></doc></mteval>',
    b'<mteval><doc docid="1"><seg id="first">x</seg></doc></mteval>',
    b"<mteval/>",
]))
def test_any_bytes_in_a_pair_file_are_a_skip_never_a_crash(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("wit3")
    write_pair(root, "de", {1: ENGLISH}, {1: GERMAN})
    (root / "en-de" / "IWSLT17.TED.tst2016.de-en.de.xml").write_bytes(data)
    talks, skips = read_wit3(root)
    if talks:
        assert [t.talk_id for t in talks] == [1]
    else:
        assert skips and all(s.reason for s in skips)


@pytest.mark.parametrize("name", ["IWSLT17.TED.tst2016.de-en.de.xml\n", "x.DE-en.de.xml"])
def test_pair_file_names_are_matched_whole_and_in_lower_case(tmp_path, name):
    (tmp_path / name).write_bytes(mteval({1: GERMAN}))
    assert not is_wit3(tmp_path)
