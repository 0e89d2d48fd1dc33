"""The raw-store layout (builder.rawstore): one talk-id rule for the reader and every writer, one atomic write."""

from __future__ import annotations

import os

import pytest

from builder import rawstore, store
from builder.crawl import parse_id_range
from builder.fixtures.plan import SyntheticConfig, plan_talk_ids


@pytest.mark.parametrize("name", ["1", "10", "1500", "9999999999"])
def test_a_talk_folder_name_is_a_talk_id_both_ways(name):
    assert rawstore.is_talk_dir(name)
    assert rawstore.parse_talk_id(name) == rawstore.check_talk_id(int(name)) == int(name)
    assert str(int(name)) == name, "a folder name and its talk id round-trip exactly"


@pytest.mark.parametrize("name", ["0", "01", "10000000000", "12\n", " 12", "1e3", "-1", "", "١٢"])
def test_what_is_not_a_talk_folder(name):
    assert not rawstore.is_talk_dir(name)


def test_talk_ids_end_where_folder_names_do():
    assert rawstore.MAX_TALK_ID == 9_999_999_999 == int("9" * rawstore.TALK_ID_DIGITS)
    for bad in (0, rawstore.MAX_TALK_ID + 1, True, 1.0, "12"):
        with pytest.raises(ValueError):
            rawstore.check_talk_id(bad)
    assert rawstore.parse_talk_id(" 42\n") == 42, "text around an id (a line of a file) may carry whitespace"
    with pytest.raises(ValueError):
        rawstore.parse_talk_id("042")
    assert parse_id_range(f"{rawstore.MAX_TALK_ID}:{rawstore.MAX_TALK_ID + 1}") == (rawstore.MAX_TALK_ID,)
    with pytest.raises(ValueError):
        parse_id_range(f"1:{rawstore.MAX_TALK_ID + 2}")


def test_the_reader_takes_exactly_the_folders_the_writers_name(tmp_path):
    for name in ("7", "9999999999", "10000000000", "07"):
        (tmp_path / name).mkdir()
    talks, skips = store.discover(tmp_path)
    assert [p.name for p in talks] == ["7", "9999999999"]
    assert sorted(s.path for s in skips) == ["07", "10000000000"]
    assert all(rawstore.is_talk_dir(str(t)) for t in plan_talk_ids(SyntheticConfig(50, language_codes=("en", "de"))))
    with pytest.raises(ValueError, match="num_talks"):
        SyntheticConfig(rawstore.MAX_TALK_ID // 4 + 1, language_codes=("en", "de"))


def test_transcript_names_are_lang_files():
    assert rawstore.transcript_name("zh-cn") == "zh-cn.json"
    assert rawstore.LANG_FILE.fullmatch("zh-cn.json")["code"] == "zh-cn"
    for bad in ("../x", "en/..", "e", "en\n"):
        with pytest.raises(AssertionError):
            rawstore.transcript_name(bad)


@pytest.mark.parametrize("durable", [True, False])
def test_write_atomic_replaces_whole_files_and_leaves_no_temp(tmp_path, monkeypatch, durable):
    target = tmp_path / "talk" / "en.json"
    rawstore.write_atomic(target, b"first", durable=durable)
    rawstore.write_atomic(target, b"second", durable=durable)
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["en.json"]
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        rawstore.write_atomic(target, b"third", durable=durable)
    assert target.read_bytes() == b"second" and os.listdir(target.parent) == ["en.json"]


def test_stale_temps_are_dot_files_the_reader_skips(tmp_path):
    folder = tmp_path / "12"
    folder.mkdir()
    stale = folder / f"{rawstore.TEMP_PREFIX}killed.part"
    stale.write_bytes(b'{"paragra')
    (folder / "en.json").write_bytes(b"{}")
    assert stale.name.startswith(".")
    rawstore.remove_stale_temps(folder)
    assert os.listdir(folder) == ["en.json"]
