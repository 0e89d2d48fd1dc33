"""The builder on real TED data from ../shared: WIT3 XML and TED's WebVTT, read in place."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import ted2025
from builder import languages
from builder.clean import FilterSettings, clean_text
from builder.pipeline import BuildSettings, _clean_cues, build, build_talk
from builder.report import TalkCounts
from builder.segment import sentence_units, timing_quantum
from builder.store import discover, languages_in, read_talk
from builder.wit3 import read_wit3

WIT3_LANGUAGES = {"en", "ar", "de", "fr", "ja", "ko", "zh-cn"}


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_text_preserved(talk, settings: BuildSettings) -> int:
    """For every language: its output cells, kept or dropped-with-reason, in segment order,
    are its input transcript after the documented normalisation. Returns cells checked."""
    result = build_talk(talk, settings)
    cells: dict[str, dict[int, str]] = {code: {} for code in talk.tracks}
    for row, segment_id in enumerate(result.columns.get("segment_id", [])):
        for code in talk.tracks:
            text = result.columns.get(code, [None] * result.num_rows)[row]
            if text is not None:
                cells[code][segment_id] = text
    for _, segment_id, code, reason, text in result.drops:
        assert reason, "every drop has a reason"
        assert segment_id not in cells[code], f"{code} segment {segment_id} both kept and dropped"
        cells[code][segment_id] = text
    checked = 0
    for code, track in talk.tracks.items():
        expected = " ".join(t for t in (clean_text(c.text)[0] for c in track.cues) if t)
        got_parts = [cells[code][k] for k in sorted(cells[code])]
        joiner = languages.joiner(code)
        got = joiner.join(got_parts)
        if joiner:
            assert got == expected, f"talk {talk.talk_id} {code}: text changed"
        else:  # CJK units join without a space; compare all non-space characters
            assert _squeeze(got) == _squeeze(expected), f"talk {talk.talk_id} {code}: text changed"
        checked += len(got_parts)
    return checked


@pytest.mark.parametrize("granularity", ["cue", "sentence", "paragraph", "talk"])
def test_text_preserved_on_every_real_vtt_talk(vtt_dir, granularity):
    settings = BuildSettings(granularity=granularity, min_languages=1)
    folders, _ = discover(vtt_dir)
    assert folders, f"no talk folders in {vtt_dir}"
    for folder in folders:
        talk, skips = read_talk(folder)
        assert not skips
        assert assert_text_preserved(talk, settings) > 0


@pytest.mark.parametrize("granularity", ["sentence", "talk"])
def test_text_preserved_on_every_real_wit3_talk(wit3_dir, granularity):
    talks, skips = read_wit3(wit3_dir)
    assert not skips
    assert len(talks) == 23
    settings = BuildSettings(granularity=granularity, min_languages=1)
    cells = sum(assert_text_preserved(talk, settings) for talk in talks)
    tracks = sum(len(talk.tracks) for talk in talks)
    assert cells > 9000 if granularity == "sentence" else cells == tracks  # "talk": one cell per track


def test_wit3_build_gives_seven_way_rows(wit3_dir, tmp_path):
    report = build(wit3_dir, tmp_path / "out", workers=1, progress=False)
    assert set(report["languages"]) == WIT3_LANGUAGES
    table = pq.read_table(sorted((tmp_path / "out" / "data").glob("*.parquet")))
    assert set(WIT3_LANGUAGES) <= set(table.column_names)
    rows = table.to_pylist()
    seven_way = [r for r in rows if r["num_languages"] == 7]
    # 13 tst2016 talks in 7 languages, ~1,100 segments; a few merges and drops are allowed
    assert len(seven_way) > 1000
    assert len({r["talk_id"] for r in seven_way}) == 13
    assert all(r["start_ms"] is None for r in rows), "WIT3 has no timestamps"
    sample = next(r for r in seven_way if r["en"].startswith("We're at a tipping point"))
    assert "Wendepunkt" in sample["de"]
    assert report["talks"]["written"] == 23 and report["talks"]["seen"] == 23


@pytest.fixture(scope="module")
def vtt_build(vtt_dir, tmp_path_factory) -> tuple[dict, Path]:
    """The shared WebVTT talks built into one train split: (report, corpus folder)."""
    out = tmp_path_factory.mktemp("vtt-build") / "out"
    return build(vtt_dir, out, BuildSettings(splits={"train": 1.0}), workers=1, progress=False), out


def test_vtt_build_gives_multiway_rows(vtt_dir, vtt_build):
    report, out = vtt_build
    table = pq.read_table(out / "data" / "train-00000-of-00001.parquet")
    rows = table.to_pylist()
    talk10 = [r for r in rows if r["talk_id"] == 10]
    assert max(r["num_languages"] for r in talk10) == 15
    assert sum(r["num_languages"] == 15 for r in talk10) >= 15, "most of talk 10 should be 15-way"
    first = talk10[0]
    assert first["en"].startswith("What if you could take a pill")
    assert first["de"] and first["zh-cn"] and first["sw"]
    assert all(r["start_ms"] is not None and r["end_ms"] >= r["start_ms"] for r in rows)
    folders, _ = discover(vtt_dir)
    assert {r["talk_id"] for r in rows} == {int(f.name) for f in folders}, "every shared talk gives rows"
    assert report["cues"]["sound_tags_removed"] > 0  # (Applause) and (Laughter) in 15 languages
    assert report["alignment"]["cuts_total"] == sum(report["alignment"]["cuts"].values()) > 0


def test_vtt_build_report_counts_what_the_files_hold(vtt_dir, vtt_build):
    """The report's cell counts against a count of its own files: the cells of the shards
    (pyarrow's null counts) and the rows of reports/drops.parquet, talk by talk and in total."""
    report, out = vtt_build
    table = pq.read_table(sorted((out / "data").glob("*.parquet")))
    codes = [name for name in table.column_names if name in languages.CODES]
    cells = {code: len(table) - table[code].null_count for code in codes}
    assert report["languages"] == {code: n for code, n in cells.items() if n}
    assert report["cells"]["kept"] == sum(cells.values()) > 1000
    assert report["rows"] == len(table)
    present = [sum(row[code] is not None for code in codes) for row in table.select(codes).to_pylist()]
    assert table["num_languages"].to_pylist() == present
    drops = pq.read_table(out / "reports" / "drops.parquet")
    assert report["cells"]["dropped"] == dict(sorted(Counter(drops["reason"].to_pylist()).items()))
    for folder in discover(vtt_dir)[0]:  # and talk by talk, as build_talk counts it
        talk, _ = read_talk(folder)
        mine = table.filter(pc.equal(table["talk_id"], talk.talk_id))
        expected = {code: len(mine) - mine[code].null_count for code in codes}
        assert build_talk(talk, BuildSettings()).counts.cells_kept == Counter({c: n for c, n in expected.items() if n}), talk.talk_id


def test_overlap_alignment_beats_exact_timestamps_on_real_vtt(vtt_dir):
    """The reason for the method: exact-timestamp matching loses most German text."""
    talk, _ = read_talk(vtt_dir / "10")
    en_starts = {c.start for c in talk.tracks["en"].cues}
    de = talk.tracks["de"].cues
    matched = sum(len(c.text) for c in de if c.start in en_starts) / sum(len(c.text) for c in de)
    assert matched < 0.1
    result = build_talk(talk, BuildSettings())
    de_chars = sum(len(v) for v in result.columns["de"] if v)
    assert de_chars / sum(len(c.text) for c in de) > 0.9


def test_wit3_languages_filter_may_leave_out_the_english_pivot(wit3_dir, tmp_path):
    settings = BuildSettings(languages=("de", "fr"), splits={"train": 1.0})
    report = build(wit3_dir, tmp_path / "out", settings, workers=1, progress=False)
    assert set(report["languages"]) == {"de", "fr"}
    rows = pq.read_table(tmp_path / "out" / "data" / "train-00000-of-00001.parquet").to_pylist()
    assert "en" not in rows[0] and sum(r["num_languages"] == 2 for r in rows) > 1000


def test_all_way_rows_are_about_one_per_english_sentence(vtt_dir):
    """At TED's real width (25 languages) a merge that any one language forces lands in all of
    them; cutting at cue boundaries first keeps rows at sentence grain. A talk with tracks on
    another timing grid than English (whole seconds) is allowed coarser rows."""
    folders, _ = discover(vtt_dir)
    for folder in folders:
        talk, _ = read_talk(folder)
        result = build_talk(talk, BuildSettings())
        en_cues = _clean_cues(talk.tracks["en"], TalkCounts())
        sentences = len(sentence_units(en_cues))
        en_rows = sum(v is not None for v in result.columns["en"])
        coarse = any(timing_quantum(_clean_cues(t, TalkCounts())) != timing_quantum(en_cues) for t in talk.tracks.values())
        assert en_rows / sentences >= (0.6 if coarse else 0.8), f"talk {talk.talk_id}: {en_rows} rows / {sentences} sentences"


# --------------------------------------------------------------------------------------------
# Every subset as fine as if it were built alone
# --------------------------------------------------------------------------------------------

NO_FILTERS = FilterSettings(langid=False, length_ratio=0, dedupe=False)
ROW_KEYS = ("talk_id", "segment_id", "start_ms", "end_ms")


def dedicated_rows(talks, subset: tuple[str, ...]) -> list[dict]:
    """What `ted2025 build --languages S` keeps, talk by talk (the build's own code path)."""
    settings = BuildSettings(languages=subset, min_languages=len(subset), filters=NO_FILTERS)
    rows = []
    for talk in talks:
        result = build_talk(talk, settings)
        for i in range(result.num_rows):
            rows.append({key: result.columns[key][i] for key in ROW_KEYS}
                        | {code: result.columns.get(code, [None] * result.num_rows)[i] for code in subset})
    return sorted(rows, key=lambda row: (row["talk_id"], row["segment_id"]))


def composed_rows(corpus, subset: tuple[str, ...], cache) -> list[dict]:
    loaded = ted2025.load_dataset(corpus, languages=list(subset), format="wide", cache_dir=str(cache))
    rows = [row for split in loaded.values() for row in split.select_columns([*ROW_KEYS, *subset]).to_list()]
    return sorted(rows, key=lambda row: (row["talk_id"], row["segment_id"]))


def subsets_of(codes) -> list[tuple[str, ...]]:
    others = sorted((c for c in codes if c != "en"), key=languages.rank)
    triples = [("en", *sorted(others[i:i + 2], key=languages.rank)) for i in range(0, min(len(others) - 1, 6), 3)]
    return [("en", code) for code in others] + triples


@pytest.fixture(scope="module")
def all_way_vtt(vtt_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("all-way") / "vtt"
    build(vtt_dir, out, BuildSettings(filters=NO_FILTERS), workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def all_way_wit3(wit3_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("all-way") / "wit3"
    build(wit3_dir, out, BuildSettings(filters=NO_FILTERS), workers=1, progress=False)
    return out


def test_every_vtt_subset_equals_its_dedicated_build(vtt_dir, all_way_vtt, tmp_path):
    folders, _ = discover(vtt_dir)
    codes = {code for folder in folders for code in languages_in(folder)}
    checked = 0
    for subset in subsets_of(codes):
        talks = [talk for folder in folders if (talk := read_talk(folder, frozenset(subset))[0])]
        if not talks:
            continue
        expected = dedicated_rows(talks, subset)
        assert composed_rows(all_way_vtt, subset, tmp_path) == expected, subset
        checked += len(expected)
    assert checked > 1500  # rows over all pairs and triples of talks 10, 200, 1300 and 1500


def test_every_wit3_subset_equals_its_dedicated_build(wit3_dir, all_way_wit3, tmp_path):
    for subset in subsets_of(WIT3_LANGUAGES):
        talks, _ = read_wit3(wit3_dir, frozenset(subset))
        expected = dedicated_rows(talks, subset)
        assert len(expected) > 500 and composed_rows(all_way_wit3, subset, tmp_path) == expected, subset


def test_subset_without_the_pivot_is_at_least_as_fine_as_all_way(all_way_vtt, tmp_path):
    all_way = ted2025.load_dataset(all_way_vtt, "all", split="train", cache_dir=str(tmp_path))
    pair = ted2025.load_dataset(all_way_vtt, "de-fr", split="train", cache_dir=str(tmp_path))
    all_way_both = sum(1 for row in all_way if row["translation"]["de"] and row["translation"]["fr"])
    assert pair.num_rows >= all_way_both > 0
