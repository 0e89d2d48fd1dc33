"""builder/store.py on generated raw stores: which folders are talks, which file is a language's
track, what meta.json keeps, and that every name it reports can be shown."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.records import InputError
from builder.store import (
    SYNTHETIC_MARKER,
    TALK_DIR,
    discover,
    languages_in,
    read_file,
    read_meta,
    read_talk,
    shown,
    synthetic_marker,
)

from conftest import write_store


def transcript(*texts: str, step_ms: int = 3000) -> bytes:
    cues = [{"time": i * step_ms, "text": text} for i, text in enumerate(texts)]
    return json.dumps({"paragraphs": [{"cues": cues}]}).encode()


def vtt(start_s: int, *texts: str) -> bytes:
    blocks = [f"00:00:{start_s + 2 * i:02d}.000 --> 00:00:{start_s + 2 * i + 1:02d}.500\n{text}" for i, text in enumerate(texts)]
    return ("WEBVTT\n\n" + "\n\n".join(blocks) + "\n").encode()


EN = transcript("Hello there.", "How are you?")
DE = transcript("Hallo.", "Wie geht es?")


def skip_set(skips) -> set[tuple]:
    return {(s.reason, s.language, s.path) for s in skips}


# --- discover ---------------------------------------------------------------------------------


def test_discover_lists_talk_folders_in_numeric_order_and_skips_the_rest(tmp_path):
    store = write_store(tmp_path / "raw", {100: {}, 2: {}, 10: {}})
    (store / "012").mkdir()  # a leading zero is no talk id
    (store / "notes").mkdir()
    (store / "7").write_text("a file, not a folder")
    (store / ".crawl").mkdir()  # hidden: the crawler's own
    talks, skips = discover(store)
    assert [p.name for p in talks] == ["2", "10", "100"]
    assert {(s.reason, s.talk_id, s.path) for s in skips} == {
        ("not_a_talk_folder", None, "012"), ("not_a_talk_folder", None, "notes"), ("not_a_talk_folder", 7, "7"),
    }


def test_discover_refuses_a_talk_folder_linked_out_of_the_store(tmp_path):
    outside = write_store(tmp_path / "elsewhere", {5: {"en.json": EN, "de.json": DE}})
    store = write_store(tmp_path / "raw", {1: {}})
    (store / "5").symlink_to(outside / "5")
    (store / "6").symlink_to(store / "1")  # a link inside the store is a talk
    talks, skips = discover(store)
    assert [p.name for p in talks] == ["1", "6"]
    assert [(s.reason, s.talk_id) for s in skips] == [("outside_store", 5)]


names = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda name: name not in (".", ".."))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(names, st.booleans(), max_size=8))
def test_any_entry_names_are_a_talk_or_a_skip_that_can_be_shown(tmp_path_factory, entries):
    store = tmp_path_factory.mktemp("names")
    for name, is_folder in entries.items():
        try:
            (store / name).mkdir() if is_folder else (store / name).write_bytes(b"")
        except OSError:  # a name the file system refuses (too long in bytes)
            continue
    talks, skips = discover(store)
    present = [name for name in os.listdir(store) if not name.startswith(".")]
    assert len(talks) + len(skips) == len(present)
    assert {p.name for p in talks} == {n for n in present if TALK_DIR.fullmatch(n) and (store / n).is_dir()}
    assert [int(p.name) for p in talks] == sorted(int(p.name) for p in talks)
    for skip in skips:
        assert skip.path.isprintable() and json.loads(json.dumps(skip.path)) == skip.path


@given(st.text(max_size=20))
def test_shown_names_are_printable_and_printable_names_stay_as_they_are(name):
    assert shown(name).isprintable()
    if name.isprintable() and not any(0xD800 <= ord(c) <= 0xDFFF for c in name):
        assert shown(name) == name


def test_shown_escapes_newlines_and_bytes_that_are_not_utf8():
    assert shown("12\n") == "12\\n"
    assert shown(os.fsdecode(b"talk\xff")) == "talk\\xff"


# --- read_file --------------------------------------------------------------------------------


def test_read_file_reads_regular_files_inside_the_store_only(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"en.json": EN}})
    (tmp_path / "secret.json").write_bytes(b"{}")
    (store / "1" / "de.json").symlink_to(tmp_path / "secret.json")
    (store / "1" / "fr.json").symlink_to(store / "1" / "missing.json")
    os.mkfifo(store / "1" / "es.json")
    (store / "1" / "it.json").mkdir()
    assert read_file(store / "1" / "en.json", store) == EN
    for name, reason in [("de.json", "outside_store"), ("fr.json", "unreadable_file"), ("es.json", "not_a_regular_file"),
                         ("it.json", "not_a_regular_file")]:
        with pytest.raises(InputError) as info:
            read_file(store / "1" / name, store)
        assert info.value.reason == reason, name


# --- read_talk --------------------------------------------------------------------------------


def test_json_wins_over_webvtt_and_the_other_file_is_a_duplicate(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"en.json": EN, "en.vtt": vtt(0, "Other English."), "de.vtt": vtt(0, "Hallo.")}})
    talk, skips = read_talk(store / "1")
    assert talk.tracks["en"].source == "json" and [c.text for c in talk.tracks["en"].cues] == ["Hello there.", "How are you?"]
    assert talk.tracks["de"].source == "vtt"
    assert skip_set(skips) == {("duplicate_track", "en", "en.vtt")}


def test_the_registry_spelling_wins_over_another_spelling(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"EN.json": transcript("Upper case."), "en.json": EN, "de.json": DE}})
    talk, skips = read_talk(store / "1")
    assert talk.tracks["en"].cues[0].text == "Hello there."
    assert skip_set(skips) == {("duplicate_track", "en", "EN.json")}


def test_an_unusable_first_candidate_gives_way_to_the_next(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"en.json": b"{broken", "en.vtt": vtt(0, "From the subtitles."), "de.json": DE}})
    talk, skips = read_talk(store / "1")
    assert talk.tracks["en"].source == "vtt"
    # the broken file is named for what is wrong with it, and as the candidate not kept
    assert skip_set(skips) == {("malformed_json", "en", "en.json"), ("duplicate_track", "en", "en.json")}
    assert [s.detail for s in skips if s.reason == "duplicate_track"] == ["another file for en: kept en.vtt"]


def test_webvtt_chunks_join_in_chunk_order_and_a_gap_costs_the_track(tmp_path):
    store = write_store(tmp_path / "raw", {
        1: {"en.json": EN, "de.vtt.2": vtt(8, "drei"), "de.vtt": vtt(0, "eins"), "de.vtt.1": vtt(4, "zwei"), "de.vtt.01": vtt(4, "zwo")},
        2: {"en.json": EN, "de.json": DE, "fr.vtt": vtt(0, "un"), "fr.vtt.2": vtt(8, "trois")},
    })
    talk, skips = read_talk(store / "1")
    assert [c.text for c in talk.tracks["de"].cues] == ["eins", "zwei", "drei"]
    assert skip_set(skips) == {("duplicate_track", "de", "de.vtt.01")}  # the plain spelling of chunk 1 wins
    talk, skips = read_talk(store / "2")
    assert sorted(talk.tracks) == ["de", "en"]
    assert [(s.reason, s.language, s.detail) for s in skips] == [("chunk_gap", "fr", "missing chunk(s) [1]")]


def test_unknown_and_unrecognised_files_are_skips_and_wanted_keeps_only_its_languages(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"en.json": EN, "de.json": DE, "fr.json": transcript("Bonjour."),
                                               "xx-yy.json": EN, "notes.txt": b"hi", "sr-latn.vtt": vtt(0, "x")}})
    talk, skips = read_talk(store / "1", frozenset({"en", "fr"}))
    assert sorted(talk.tracks) == ["en", "fr"] and talk.talk_id == 1 and talk.source == "raw"
    assert skip_set(skips) == {("unknown_language", "xx-yy", "xx-yy.json"), ("unknown_language", "sr-latn", "sr-latn.vtt"),
                               ("unrecognised_file", None, "notes.txt")}
    assert languages_in(store / "1") == {"en", "de", "fr"}


def test_a_talk_with_fewer_than_two_tracks_is_none_with_its_reason(tmp_path):
    store = write_store(tmp_path / "raw", {1: {"en.json": EN, "de.json": b""}, 2: {"meta.json": b"{}"}})
    talk, skips = read_talk(store / "1")
    assert talk is None and [(s.level, s.reason) for s in skips] == [("track", "empty_file"), ("talk", "single_language")]
    talk, skips = read_talk(store / "2")
    assert talk is None and [(s.level, s.reason) for s in skips] == [("talk", "no_usable_track")]


def test_meta_keeps_known_fields_of_the_right_type(tmp_path):
    meta = {"id": 1, "title": "A talk", "speaker": 42, "topics": ["science", 7, None, {"x": 1}], "duration_s": "long",
            "unknown": "dropped", "url": "https://example.org/1"}
    store = write_store(tmp_path / "raw", {1: {"en.json": EN, "de.json": DE, "meta.json": json.dumps(meta).encode()}})
    talk, skips = read_talk(store / "1")
    assert talk.meta == {"id": 1, "title": "A talk", "topics": ["science", "7"], "url": "https://example.org/1"} and not skips


@pytest.mark.parametrize("data, detail", [
    (b"[1, 2]", "not a JSON object"),
    (b"{not json", ""),
    (b'{"title": "a\\ud800b", "id": 3}', "field 'title' left out"),
])
def test_bad_meta_is_a_malformed_meta_skip(tmp_path, data, detail):
    path = tmp_path / "raw" / "3" / "meta.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    meta, skips = read_meta(path, 3)
    assert [s.reason for s in skips] == ["malformed_meta"] and detail in skips[0].detail
    assert meta == ({"id": 3} if b"title" in data else {})


def test_synthetic_marker(tmp_path):
    assert synthetic_marker(tmp_path) is None
    (tmp_path / SYNTHETIC_MARKER).write_text(json.dumps({"generator": "ted2025 synth", "seed": 1}))
    assert synthetic_marker(tmp_path) == {"generator": "ted2025 synth", "seed": 1}
    for garbage in (b"[1]", b"{oops", b'{"generator": "\\udc80"}'):
        (tmp_path / SYNTHETIC_MARKER).write_bytes(garbage)
        assert synthetic_marker(tmp_path) == {"generator": "unknown"}


file_names = st.sampled_from(["en.json", "EN.json", "de.json", "de.vtt", "de.vtt.1", "De.vtt.01", "fr.vtt.2", "meta.json", "x.txt"])
file_bytes = st.sampled_from([EN, DE, vtt(0, "eins"), vtt(4, "zwei"), b"", b"{", b'{"id": 9, "title": "T"}']) | st.binary(max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(file_names, file_bytes, max_size=6))
def test_any_talk_folder_reads_to_a_talk_or_skips_and_names_only_its_files(tmp_path_factory, files):
    store = write_store(tmp_path_factory.mktemp("talk"), {4: files})
    talk, skips = read_talk(store / "4")
    assert all(s.reason for s in skips)
    assert {s.path for s in skips if s.path} <= set(files)
    if talk is None:
        assert skips[-1].level == "talk" and skips[-1].reason in ("single_language", "no_usable_track")
    else:
        assert len(talk.tracks) >= 2 and all(track.cues for track in talk.tracks.values())
