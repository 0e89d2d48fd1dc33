"""ted2025.load_dataset and the Ted2025 builder, checked against an independent pyarrow read.

The corpus fixture is generated: a small wide corpus with random gaps, written with pyarrow in
the layout `ted2025 build` writes. Expected rows come from reading its shards whole with pyarrow
and filtering in Python, so they share no code with the loader.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub.errors import RevisionNotFoundError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ted2025
from builder import contract
from builder import languages as registry

from hub_server import HubServer, hub_environment

# Eight languages, in the registry's order as the builder writes them. ko appears only in odd
# talks and sw only in even train talks, so "ko-sw" has no rows and the test split has no sw.
LANGUAGES = sorted(["en", "de", "fr", "ar", "zh-cn", "ja", "ko", "sw"], key=registry.rank)
PRESENCE = {"en": 0.97, "de": 0.9, "fr": 0.85, "ar": 0.8, "zh-cn": 0.85, "ja": 0.75, "ko": 0.8, "sw": 0.6}
TRAIN_SHARDS = [range(101, 105), range(105, 109)]
TEST_SHARDS = [range(109, 113)]
UNTIMED_TALK = 104  # a WIT3-like talk: no start_ms/end_ms
SEVEN = ["en", "de", "fr", "ar", "zh-cn", "ja", "ko"]


# --------------------------------------------------------------------------------------------
# Fixture corpus and the independent reference read
# --------------------------------------------------------------------------------------------


def write_corpus(root: Path, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    (root / "data").mkdir(parents=True)
    (root / "alignment").mkdir(parents=True)
    finest_schema = contract.alignment_schema(LANGUAGES, "sentence")
    meta = {"format_version": contract.FORMAT_VERSION, "languages": LANGUAGES, "granularity": "sentence"}
    schema = pa.schema(
        [
            pa.field("talk_id", pa.int64(), nullable=False),
            pa.field("segment_id", pa.int32(), nullable=False),
            pa.field("start_ms", pa.int64()),
            pa.field("end_ms", pa.int64()),
            pa.field("num_languages", pa.int16(), nullable=False),
            *[pa.field(code, pa.string()) for code in LANGUAGES],
        ],
        metadata={b"ted2025": json.dumps(meta).encode()},
    )
    report = {"splits": {}, "languages": dict.fromkeys(LANGUAGES, 0)}
    talks = []
    for split, shards in {"train": TRAIN_SHARDS, "test": TEST_SHARDS}.items():
        files, alignment_files = [], []
        for index, talk_ids in enumerate(shards):
            rows, texts = [], []
            for talk_id in talk_ids:
                talks.append({"talk_id": talk_id, "split": split, "title": f"Talk {talk_id}"})
                for segment_id in range(int(rng.integers(8, 20))):
                    row = {"talk_id": talk_id, "segment_id": segment_id}
                    timed = talk_id != UNTIMED_TALK
                    row["start_ms"] = segment_id * 2500 if timed else None
                    row["end_ms"] = segment_id * 2500 + 2000 if timed else None
                    for code in LANGUAGES:
                        allowed = {"ko": talk_id % 2 == 1, "sw": talk_id % 2 == 0 and split == "train"}.get(code, True)
                        keep = allowed and rng.random() < PRESENCE[code]
                        row[code] = f"{code} {talk_id}.{segment_id} «ü 中»" if keep else None
                    if not any(row[code] for code in LANGUAGES):
                        row["en"] = f"en {talk_id}.{segment_id}"
                    texts.append({code: row[code] for code in LANGUAGES})  # the finest table keeps them all
                    if segment_id % 4 == 3 and row["ko"] and any(row[c] for c in LANGUAGES if c != "ko"):
                        row["ko"] = None  # as a filter of the all-way build drops a cell: data/ only
                    row["num_languages"] = sum(row[code] is not None for code in LANGUAGES)
                    rows.append(row)
            name = f"data/{split}-{index:05d}-of-{len(shards):05d}.parquet"
            # Small row groups, so a shard is read as several batches (and a talk straddles them).
            pq.write_table(pa.Table.from_pylist(rows, schema), root / name, row_group_size=7, compression="zstd")
            files.append(name)
            # The finest table: the same rows, with merge requests drawn at random (none after
            # a talk's last row), so that subsets compose rows of their own.
            finest = []
            for i, (row, text) in enumerate(zip(rows, texts)):
                last = i + 1 == len(rows) or rows[i + 1]["talk_id"] != row["talk_id"]
                finest.append({
                    "talk_id": row["talk_id"], "unit_id": row["segment_id"], "start_ms": row["start_ms"],
                    "end_ms": row["end_ms"], "merge": bool(not last and rng.random() < 0.05), **text,
                    **{contract.merge_column(code): bool(not last and text[code] and rng.random() < 0.15) for code in LANGUAGES},
                })
            pq.write_table(pa.Table.from_pylist(finest, finest_schema), root / name.replace("data/", "alignment/"),
                           row_group_size=7, compression="zstd")
            alignment_files.append(name.replace("data/", "alignment/"))
            for code in LANGUAGES:
                report["languages"][code] += sum(row[code] is not None for row in rows)
        num_rows = sum(pq.read_metadata(root / f).num_rows for f in files)
        report["splits"][split] = {"num_rows": num_rows, "num_talks": sum(map(len, shards)), "files": files,
                                   "alignment_files": alignment_files}
    (root / "metadata").mkdir()
    pq.write_table(pa.Table.from_pylist(talks), root / "metadata" / "talks.parquet")
    (root / "build_report.json").write_text(json.dumps(report, indent=2))
    return root


def composed_rows(finest: list[dict], wanted: list[str]) -> list[dict]:
    """The subset's rows, by a plain loop: a row joins the one before it (same talk) when that
    one has ``merge`` or the merge flag of a wanted language set."""
    rows, previous = [], None
    for row in finest:
        joins = previous is not None and previous["talk_id"] == row["talk_id"] and (
            previous["merge"] or any(previous[contract.merge_column(code)] for code in wanted))
        if not joins:
            segment_id = rows[-1]["segment_id"] + 1 if rows and rows[-1]["talk_id"] == row["talk_id"] else 0
            rows.append({"talk_id": row["talk_id"], "segment_id": segment_id, "start_ms": row["start_ms"],
                         "end_ms": row["end_ms"], **{code: [] for code in wanted}})
        current = rows[-1]
        if row["start_ms"] is not None:
            current["start_ms"] = min(current["start_ms"], row["start_ms"])
            current["end_ms"] = max(current["end_ms"], row["end_ms"])
        for code in wanted:
            if row[code] is not None:
                current[code].append(row[code])
        previous = row
    for row in rows:
        for code in wanted:
            row[code] = registry.joiner(code).join(row[code]) if row[code] else None
    return rows


def reference_rows(corpus: Path, splits, languages, min_languages=None, format="translation", table="alignment") -> list[dict]:
    """Expected rows: the all-way table read whole (``table="data"``, the ``all`` config), or a
    named subset composed from the finest table."""
    report = json.loads((corpus / "build_report.json").read_text())
    wanted = [registry.get(code).code for code in languages]
    k = len(wanted) if min_languages is None else min_languages
    out = []
    for split in splits:
        for file in report["splits"][split]["files" if table == "data" else "alignment_files"]:
            rows = pq.read_table(corpus / file).to_pylist()
            for row in rows if table == "data" else composed_rows(rows, wanted):
                present = sum(row[code] is not None for code in wanted)
                if present < k:
                    continue
                keys = {"talk_id": row["talk_id"], "segment_id": row["segment_id"]}
                if format == "wide":
                    out.append({**keys, "start_ms": row["start_ms"], "end_ms": row["end_ms"],
                                "num_languages": present, **{code: row[code] for code in wanted}})
                else:
                    out.append({**keys, "num_languages": present, "translation": {c: row[c] for c in wanted}})
    return out


def rows_per_language(corpus: Path, splits, languages, key="alignment_files") -> dict[str, int]:
    """Cells per language in the shards of ``splits``: of the finest table (what a subset reads
    and counts), or of data/ with ``key="files"``."""
    report = json.loads((corpus / "build_report.json").read_text())
    tables = [pq.read_table(corpus / f) for split in splits for f in report["splits"][split][key]]
    return {code: sum(t[code].length() - t[code].null_count for t in tables) for code in languages}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Read-only corpus shared by the module's tests."""
    return write_corpus(tmp_path_factory.mktemp("corpus") / "ted2025")


@pytest.fixture
def own_corpus(tmp_path) -> Path:
    """A corpus this test may damage."""
    return write_corpus(tmp_path / "own")


@pytest.fixture
def load(tmp_path):
    """ted2025.load_dataset with a cache of the test's own."""

    def _load(*args, **kwargs):
        kwargs.setdefault("cache_dir", str(tmp_path / "cache"))
        return ted2025.load_dataset(*args, **kwargs)

    return _load


def as_rows(dataset) -> list[dict]:
    return dataset.to_list() if isinstance(dataset, datasets.Dataset) else list(dataset)


# --------------------------------------------------------------------------------------------
# Subsets and rows
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, languages",
    [
        ("sw", ["sw"]),
        ("en-de", ["en", "de"]),
        ("en-zh-cn-sw", ["en", "zh-cn", "sw"]),
        ("en-de-fr-ar-zh-cn-ja-ko", SEVEN),
    ],
    ids=["1-language", "2-languages", "3-languages", "7-languages"],
)
def test_subset_rows_match_an_independent_read(corpus, load, name, languages):
    loaded = load(corpus, name)
    assert isinstance(loaded, datasets.DatasetDict) and set(loaded) == {"train", "test"}
    for split in ("train", "test"):
        expected = reference_rows(corpus, [split], languages)
        assert as_rows(loaded[split]) == expected
    assert loaded["train"].num_rows >= 10
    assert list(loaded["train"].features) == ["talk_id", "segment_id", "num_languages", "translation"]
    in_registry_order = sorted(languages, key=registry.rank)
    assert loaded["train"].features["translation"] == datasets.Translation(languages=in_registry_order)


def test_translation_struct_indexes_by_code(corpus, load):
    train = load(corpus, "en-zh-sw", split="train")
    row = train[0]
    assert set(row["translation"]) == {"en", "zh-cn", "sw"}
    assert row["translation"]["sw"].startswith("sw ")
    assert row["num_languages"] == 3


def test_all_keeps_every_row_with_corpus_num_languages(corpus, load):
    loaded = load(corpus, "all", split="train")
    expected = reference_rows(corpus, ["train"], LANGUAGES, min_languages=1, table="data")
    report = json.loads((corpus / "build_report.json").read_text())
    assert len(expected) == report["splits"]["train"]["num_rows"]  # every fixture row has a language
    assert as_rows(loaded) == expected
    stored = pa.concat_tables(pq.read_table(corpus / f) for f in report["splits"]["train"]["files"])
    assert loaded["num_languages"] == stored["num_languages"].to_pylist()
    assert loaded.features["translation"].languages == LANGUAGES


@pytest.mark.parametrize("name, min_languages", [("en-de-fr-sw", 2), ("en-de-fr-sw", 1), ("all", 5), ("all", 7)])
def test_min_languages_counts_requested_languages_only(corpus, load, name, min_languages):
    languages = LANGUAGES if name == "all" else name.split("-")
    loaded = load(corpus, name, min_languages=min_languages)
    for split in ("train", "test"):
        expected = reference_rows(corpus, [split], languages, min_languages, table="data" if name == "all" else "alignment")
        assert as_rows(loaded[split]) == expected
    assert min(loaded["train"]["num_languages"]) >= min_languages


def test_default_min_languages_is_all_for_a_subset_and_one_for_all():
    assert ted2025.Ted2025Config(name="en-de-fr").min_languages == 3
    assert ted2025.Ted2025Config(name="all").min_languages == 1


@pytest.mark.parametrize("bad", [0, -1, 4, True, 2.0])
def test_min_languages_is_validated(bad):
    with pytest.raises(ValueError, match="min_languages"):
        ted2025.Ted2025Config(name="en-de-fr", min_languages=bad)


def test_min_languages_above_corpus_languages_for_all(corpus, load):
    with pytest.raises(ValueError, match="only 8 languages"):
        load(corpus, "all", min_languages=9)


def test_wide_format(corpus, load):
    loaded = load(corpus, "sw-en-zh", format="wide", split="train")
    keys = ["talk_id", "segment_id", "start_ms", "end_ms", "num_languages"]
    assert list(loaded.features) == [*keys, "en", "zh-cn", "sw"]
    assert loaded.features["start_ms"] == datasets.Value("int64")
    assert as_rows(loaded) == reference_rows(corpus, ["train"], ["en", "zh-cn", "sw"], format="wide")
    untimed = loaded.filter(lambda row: row["talk_id"] == UNTIMED_TALK)
    assert untimed.num_rows and set(untimed["start_ms"]) == {None}


def test_translation_and_wide_hold_the_same_text(corpus, load):
    wide = load(corpus, "en-de", format="wide", split="test")
    translation = load(corpus, "en-de", split="test")
    assert [{"en": r["en"], "de": r["de"]} for r in wide] == translation["translation"]


# --------------------------------------------------------------------------------------------
# Names: order, aliases, errors
# --------------------------------------------------------------------------------------------


def test_alias_and_order_give_one_canonical_config(corpus, load):
    by_alias = load(corpus, "zh-en", split="test")
    canonical = load(corpus, "en-zh-cn", split="test")
    by_list = load(corpus, languages=["ZH_CN", "en"], split="test")
    assert as_rows(by_alias) == as_rows(canonical) == as_rows(by_list)
    assert set(by_alias[0]["translation"]) == {"en", "zh-cn"}
    configs = [ted2025.Ted2025Config(name=n) for n in ("zh-en", "en+zh", "zh-cn,en")]
    configs.append(ted2025.Ted2025Config(languages=["zh", "en"]))
    assert {c.name for c in configs} == {"en-zh-cn"}
    assert {c.create_config_id({}) for c in configs} == {"en-zh-cn-translation-min2"}


def test_unknown_language_names_it_and_suggests(corpus, load):
    with pytest.raises(ValueError, match="gernam") as info:
        load(corpus, "en-gernam")
    assert "did you mean: de" in str(info.value)
    assert isinstance(info.value, registry.UnknownLanguageError)


@pytest.mark.parametrize("kwargs", [{"name": "en-de-en"}, {"name": "zh-zh-cn"}, {"languages": ["en", "de", "EN"]}])
def test_duplicate_languages_are_an_error(corpus, load, kwargs):
    with pytest.raises(ValueError, match="twice"):
        load(corpus, **kwargs)


def test_language_not_in_corpus_lists_the_corpus_languages(corpus, load):
    with pytest.raises(ValueError) as info:
        load(corpus, "en-pt-br")
    message = str(info.value)
    assert "pt-br is not in the corpus" in message
    assert ", ".join(LANGUAGES) in message


def test_name_and_languages_must_agree():
    assert ted2025.Ted2025Config(name="en-de", languages=["de", "en"]).name == "en-de"
    with pytest.raises(ValueError, match="disagree"):
        ted2025.Ted2025Config(name="en-de", languages=["en", "fr"])


def test_bad_format():
    with pytest.raises(ValueError, match="format"):
        ted2025.Ted2025Config(name="en-de", format="columns")


def test_empty_subset_message_gives_rows_per_language(corpus, load):
    """The cells of the table the subset is composed from: the finest one, which keeps cells a
    filter of the all-way build dropped."""
    counts = rows_per_language(corpus, ["train", "test"], ["ko", "sw"])
    assert counts["ko"] > rows_per_language(corpus, ["train", "test"], ["ko"], key="files")["ko"] > 0 and counts["sw"] > 0
    with pytest.raises(ted2025.EmptySubsetError) as info:
        load(corpus, "sw-ko")
    assert str(info.value) == f"no rows have all of ko, sw; rows per language: ko={counts['ko']}, sw={counts['sw']}"
    # ...but with min_languages=1 the same languages have rows: ko's plus sw's, as they never meet.
    either = load(corpus, "sw-ko", min_languages=1)["train"]
    assert as_rows(either) == reference_rows(corpus, ["train"], ["ko", "sw"], 1)
    assert either.num_rows > 0 and set(either["num_languages"]) == {1}


def test_empty_subset_in_one_split(corpus, load):
    en = rows_per_language(corpus, ["test"], ["en"])["en"]
    message = f"no rows in split test have all of en, sw; rows per language: en={en}, sw=0"
    with pytest.raises(ted2025.EmptySubsetError, match=message):
        load(corpus, "en-sw", split="test")
    # Streaming cannot count rows up front, but a language with no rows at all is caught from the footers.
    with pytest.raises(ted2025.EmptySubsetError, match="sw=0"):
        load(corpus, "en-sw", split="test", streaming=True)



# Wrong argument types: a TypeError (ValueError for min_languages) that names the argument,
# raised before anything is read or downloaded.


def test_languages_must_be_strings(corpus, load):
    with pytest.raises(TypeError, match=r"languages must be a list of codes \(strings\).*got 1 in \[1, 2\]"):
        load(corpus, languages=[1, 2])


def test_languages_as_a_string_says_to_pass_a_list_or_the_name(corpus, load):
    with pytest.raises(TypeError, match=r"languages must be a list of codes, e.g. \['en', 'de'\], not the string "
                                        r"'en-de'; or pass the subset name 'en-de' as name"):
        load(corpus, languages="en-de")


def test_name_must_be_a_string(corpus, load):
    with pytest.raises(TypeError, match="name must be a subset name such as 'en-de' or 'all' .*got 123"):
        load(corpus, name=123)


def test_min_languages_of_the_wrong_type_fails_before_any_download(hub, load):
    with pytest.raises(ValueError, match="min_languages must be a positive int, got '2'"):
        load("org/name", "en-de", min_languages="2")
    assert hub.requests == []


def test_format_must_be_a_string(corpus, load):
    with pytest.raises(TypeError, match=r"format must be a str, one of \('translation', 'wide'\), got 1"):
        load(corpus, "en-de", format=1)


@pytest.mark.parametrize("splits", ["train", 1, [1]], ids=["a-string", "an-int", "a-list-of-ints"])
def test_splits_must_be_a_list_of_names(corpus, tmp_path, splits):
    with pytest.raises(TypeError, match="splits must be a list of split names"):
        ted2025.Ted2025(config_name="en-de", data_dir=str(corpus), cache_dir=str(tmp_path / "cache"), splits=splits)


@pytest.mark.parametrize("name", ["ALL", "All"])
def test_all_in_any_case(corpus, load, name):
    assert ted2025.Ted2025Config(name=name).name == "all"
    assert as_rows(load(corpus, name, split="test")) == as_rows(load(corpus, "all", split="test"))


# --------------------------------------------------------------------------------------------
# Splits, streaming, caching, the builder itself
# --------------------------------------------------------------------------------------------


def test_split_selection(corpus, load):
    test = load(corpus, "en-de", split="test")
    assert isinstance(test, datasets.Dataset)
    assert as_rows(test) == reference_rows(corpus, ["test"], ["en", "de"])
    both = load(corpus, "en-de", split="train+test")
    assert as_rows(both) == reference_rows(corpus, ["train", "test"], ["en", "de"])
    head = load(corpus, "en-de", split="train[:5]")
    assert as_rows(head) == reference_rows(corpus, ["train"], ["en", "de"])[:5]
    listed = load(corpus, "en-de", split=["test", "train"])
    assert [d.num_rows for d in listed] == [test.num_rows, both.num_rows - test.num_rows]


def test_unknown_split_lists_the_corpus_splits(corpus, load):
    # The fixture has no validation talks, so, as the builder does, it has no validation files.
    with pytest.raises(ValueError, match="no split validation .*it has train, test"):
        load(corpus, "en-de", split="validation")


def test_streaming_matches_prepared(corpus, load):
    streamed = load(corpus, "en-zh-sw", streaming=True)
    assert isinstance(streamed, datasets.IterableDatasetDict)
    for split in ("train", "test"):
        assert as_rows(streamed[split]) == reference_rows(corpus, [split], ["en", "zh-cn", "sw"])
    one = load(corpus, "all", split="train", streaming=True, format="wide", min_languages=6)
    assert isinstance(one, datasets.IterableDataset)
    assert list(one.features) == ["talk_id", "segment_id", "start_ms", "end_ms", "num_languages", *LANGUAGES]
    assert as_rows(one) == reference_rows(corpus, ["train"], LANGUAGES, 6, format="wide", table="data")
    assert one.num_shards == 2


def rewrite_alignment(corpus: Path, row_groups, change=lambda table: table) -> None:
    """Rewrite every alignment shard with the row groups ``row_groups(table)`` gives (lists of
    row counts), so a test controls where row groups start; ``change`` may alter the table."""
    for path in sorted((corpus / "alignment").glob("*.parquet")):
        table = change(pq.read_table(path))
        with pq.ParquetWriter(path, table.schema, compression="zstd") as writer:
            offset = 0
            for length in row_groups(table):
                writer.write_table(table.slice(offset, length), row_group_size=length)
                offset += length


def talk_lengths(table: pa.Table) -> list[int]:
    talk = table.column("talk_id").to_numpy()
    return np.diff(np.flatnonzero(np.r_[True, talk[1:] != talk[:-1], True])).tolist()


def spy_row_groups(monkeypatch) -> list[tuple[str, int]]:
    read = []
    real = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group",
                        lambda self, i, *a, **k: read.append(i) or real(self, i, *a, **k))
    return read


@pytest.mark.parametrize("name, languages", [("sw", ["sw"]), ("en-sw", ["en", "sw"]), ("ko-ar", ["ko", "ar"])])
def test_row_groups_without_the_languages_are_skipped_unless_a_talk_goes_on(own_corpus, load, monkeypatch, name, languages):
    """Footer statistics let the loader skip a row group where too few of the subset's languages
    have a cell, but only when no talk goes on into its neighbours: one row per row group makes
    many row groups without sw inside talks with sw, whose rows still count (segment ids,
    times, the en text of a merged segment)."""
    rewrite_alignment(own_corpus, lambda table: [1] * table.num_rows)
    read = spy_row_groups(monkeypatch)
    loaded = load(own_corpus, name, format="wide", min_languages=len(languages))
    for split in ("train", "test"):
        assert as_rows(loaded[split]) == reference_rows(own_corpus, [split], languages, format="wide")
    assert len(read) == sum(pq.read_metadata(p).num_row_groups for p in (own_corpus / "alignment").glob("*.parquet"))


def test_a_talk_per_row_group_reads_only_the_talks_with_the_languages(own_corpus, load, monkeypatch):
    rewrite_alignment(own_corpus, talk_lengths)  # as the builder writes: no talk straddles two
    read = spy_row_groups(monkeypatch)
    loaded = load(own_corpus, "en-sw", format="wide")
    for split in ("train", "test"):
        assert as_rows(loaded[split]) == reference_rows(own_corpus, [split], ["en", "sw"], format="wide")
    assert len(read) == 4  # the even train talks; the odd ones and the test split have no sw


def test_second_load_hits_the_cache(corpus, load, monkeypatch):
    assembled = []
    real_assemble = ted2025._assemble
    monkeypatch.setattr(ted2025, "_assemble", lambda *a: assembled.append(1) or real_assemble(*a))
    first = load(corpus, "en-de", split="train")
    calls = len(assembled)
    assert calls > 0
    second = load(corpus, "de-en", split="train")  # another spelling of the same config
    assert len(assembled) == calls
    assert second.cache_files == first.cache_files
    assert as_rows(second) == as_rows(first)
    load(corpus, "en-de", split="train", min_languages=1)  # a different config is prepared anew
    assert len(assembled) > calls


def test_rebuilt_corpus_is_not_served_from_a_stale_cache(own_corpus, load):
    before = load(own_corpus, "en-de", split="test")
    shutil.rmtree(own_corpus)
    write_corpus(own_corpus, seed=8)
    after = load(own_corpus, "en-de", split="test")
    assert as_rows(after) == reference_rows(own_corpus, ["test"], ["en", "de"])
    assert as_rows(after) != as_rows(before)


def test_builder_used_directly(corpus, tmp_path):
    builder = ted2025.Ted2025(config_name="sw-en", data_dir=str(corpus), cache_dir=str(tmp_path / "cache"))
    assert builder.config.name == "en-sw" and builder.config.languages == ("en", "sw")
    builder.download_and_prepare()
    assert as_rows(builder.as_dataset(split="train")) == reference_rows(corpus, ["train"], ["en", "sw"])
    again = ted2025.Ted2025(config_name="en-sw", data_dir=str(corpus), cache_dir=str(tmp_path / "cache"))
    assert again.cache_dir == builder.cache_dir
    streamed = again.as_streaming_dataset(split="train")
    assert as_rows(streamed) == reference_rows(corpus, ["train"], ["en", "sw"])


def test_num_proc_prepares_the_same_rows(corpus, load):
    loaded = load(corpus, "en-fr", split="train", num_proc=2)
    assert sorted(as_rows(loaded), key=lambda r: (r["talk_id"], r["segment_id"])) == reference_rows(
        corpus, ["train"], ["en", "fr"]
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    languages=st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=8, unique=True),
    min_fraction=st.floats(0, 1),
    format=st.sampled_from(ted2025.FORMATS),
)
def test_any_subset_streams_the_reference_rows(corpus, languages, min_fraction, format):
    k = max(1, round(min_fraction * len(languages)))
    builder = ted2025.Ted2025(data_dir=str(corpus), cache_dir=str(corpus.parent / "cache"), languages=languages,
                              min_languages=k, format=format)
    streamed = builder.as_streaming_dataset(split="train")
    assert as_rows(streamed) == reference_rows(corpus, ["train"], sorted(languages, key=registry.rank), k, format)


@settings(max_examples=200, deadline=None)
@given(
    talks=st.lists(  # per talk: its rows, each row the languages (of three) with a cell there
        st.lists(st.sets(st.sampled_from(["en", "de", "fr"])), min_size=1, max_size=4), min_size=1, max_size=12
    ),
    min_languages=st.integers(1, 3),
)
def test_the_talks_kept_before_composing_are_those_with_enough_languages(talks, min_languages):
    """Rows of the talks with at least ``min_languages`` of the subset's languages somewhere, in
    order: a compact copy when few talks are kept, slices of the runs of kept talks otherwise."""
    rows = [{"talk_id": t, **{code: f"{t}.{r}.{code}" if code in cells else None for code in ("en", "de", "fr")}}
            for t, talk in enumerate(talks) for r, cells in enumerate(talk)]
    table = pa.Table.from_pylist(rows, pa.schema([("talk_id", pa.int64())] + [(c, pa.string()) for c in ("en", "de", "fr")]))
    kept = ted2025._talks_with_enough_languages(table, ["en", "de", "fr"], min_languages)
    enough = {t for t, talk in enumerate(talks) if len(set().union(*talk)) >= min_languages}
    assert kept.to_pylist() == [row for row in rows if row["talk_id"] in enough]


# --------------------------------------------------------------------------------------------
# Damaged corpora
# --------------------------------------------------------------------------------------------

SHARD = "data/train-00001-of-00002.parquet"
ALIGNMENT_SHARD = SHARD.replace("data/", "alignment/")  # what a named subset reads instead


@pytest.mark.parametrize("damage", ["garbage", "truncated", "bad page"])
@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("name, shard", [("en-de", ALIGNMENT_SHARD), ("all", SHARD)])
def test_corrupt_shard_error_names_the_file(own_corpus, load, damage, streaming, name, shard):
    """A named subset reads the finest table, ``all`` the all-way one: a damaged file of either is named."""
    path = own_corpus / shard
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not parquet\n" * 50)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:  # the footer is intact, the first data page header is zeros: fails while reading rows
        path.write_bytes(data[:4] + bytes(64) + data[68:])
    with pytest.raises(ted2025.CorruptShardError, match=shard) as info:
        as_rows(load(own_corpus, name, split="train", streaming=streaming))
    assert info.value.path == str(path)


@pytest.mark.parametrize("name, shard", [("en-de", ALIGNMENT_SHARD), ("all", SHARD)])
def test_missing_shard_listed_in_the_report(own_corpus, load, name, shard):
    (own_corpus / shard).unlink()
    with pytest.raises(ted2025.MissingShardError, match=shard):
        load(own_corpus, name)
    assert load(own_corpus, name, split="test").num_rows > 0  # the other split still loads


@pytest.mark.parametrize("name, shard", [("en-de", ALIGNMENT_SHARD), ("all", SHARD)])
def test_missing_shard_without_a_report(own_corpus, load, name, shard):
    (own_corpus / "build_report.json").unlink()
    assert as_rows(load(own_corpus, "en-de", split="train")) == reference_rows_from_files(own_corpus, "train")
    (own_corpus / shard).unlink()
    with pytest.raises(ted2025.MissingShardError, match=shard):
        load(own_corpus, name, split="train")


def test_a_subset_never_opens_the_all_way_table(own_corpus, load):
    """A named subset reads alignment/ alone (and a Hub load downloads only that): without any
    data/ shard it loads the same rows."""
    expected = as_rows(load(own_corpus, "en-de", split="train"))
    shutil.rmtree(own_corpus / "data")
    assert as_rows(load(own_corpus, "en-de", split="train", cache_dir=str(own_corpus.parent / "fresh"))) == expected


def retype(path: Path, column: str, type: pa.DataType) -> None:
    """Rewrite the shard at ``path`` with ``column`` of ``type`` (zeros where it cannot be cast)."""
    table = pq.read_table(path)
    index = table.schema.get_field_index(column)
    try:
        values = table.column(column).cast(type)
    except pa.ArrowInvalid:
        values = pa.array(np.zeros(table.num_rows, dtype=np.int64)).cast(type)
    pq.write_table(table.set_column(index, pa.field(column, type), values), path)


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(
    "name, shard, column, type, expected",
    [
        ("all", SHARD, "en", pa.int64(), "string"),  # read as translation.en == '0' before
        ("all", SHARD, "segment_id", pa.int64(), "int32"),
        ("all", SHARD, "start_ms", pa.string(), "int64"),
        ("en-de", ALIGNMENT_SHARD, "de", pa.int64(), "string"),
        ("en-de", ALIGNMENT_SHARD, "merge.de", pa.int8(), "bool"),
        ("en-de", ALIGNMENT_SHARD, "talk_id", pa.string(), "int64"),
        ("en-de", ALIGNMENT_SHARD, "merge", pa.int64(), "bool"),
    ],
    ids=["data-language", "data-key", "data-time", "alignment-language", "alignment-merge-flag",
         "alignment-key", "alignment-base-merge"],
)
def test_a_column_of_the_wrong_type_is_a_corrupt_shard(own_corpus, load, streaming, name, shard, column, type, expected):
    """Every column the loader reads is checked against the contract in the footer: cast on
    reading, a wrong-typed column would load silently."""
    path = own_corpus / shard
    retype(path, column, type)
    message = rf"column '{column}' is {type}, expected {expected}; rebuild the corpus with `ted2025 build`"
    with pytest.raises(ted2025.CorruptShardError, match=message) as info:
        as_rows(load(own_corpus, name, split="train", streaming=streaming))
    assert info.value.path == str(path)


@pytest.mark.parametrize("listed_twice", [False, True], ids=["metadata-as-written", "metadata-lists-it-twice"])
def test_a_language_column_that_appears_twice_is_a_corrupt_shard(own_corpus, load, listed_twice):
    path = own_corpus / ALIGNMENT_SHARD
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"ted2025"])
    if listed_twice:  # the schema is then the contract's for that list, column for column: still refused
        schema = contract.alignment_schema([*meta["languages"], "de"], meta["granularity"])
        table = pa.Table.from_arrays([table.column(field.name) for field in schema], schema=schema)
        assert table.schema.equals(ted2025._expected_schema("alignment", tuple([*meta["languages"], "de"])))
    else:
        table = table.append_column("de", table.column("de"))
    pq.write_table(table, path)
    with pytest.raises(ted2025.CorruptShardError, match="column 'de'.* appears more than once"):
        load(own_corpus, "en-de", split="train")


def test_format_1_given_as_data_files_says_to_rebuild(own_corpus, load):
    """data_files name data/ shards; a subset reads the alignment/ shards beside them, which
    format 1 did not have."""
    make_format_1(own_corpus)
    files = {"train": sorted(str(p) for p in (own_corpus / "data").glob("train-*.parquet"))}
    builder = ted2025.Ted2025(data_files=files, cache_dir=str(own_corpus.parent / "cache"), languages=["en", "de"])
    with pytest.raises(ted2025.CorruptShardError, match=r"format version 1.*rebuild the corpus with `ted2025 build`"):
        builder.download_and_prepare()


def test_a_gap_in_data_does_not_stop_a_subset_without_a_report(own_corpus, load):
    """Without build_report.json the shards are listed by name; a subset never reads data/."""
    (own_corpus / "build_report.json").unlink()
    expected = as_rows(load(own_corpus, "en-de", split="train"))
    (own_corpus / SHARD).unlink()
    assert as_rows(load(own_corpus, "en-de", split="train", cache_dir=str(own_corpus.parent / "fresh"))) == expected
    with pytest.raises(ted2025.MissingShardError, match=SHARD):
        load(own_corpus, "all", split="train")


def test_an_extra_nested_column_with_a_leaf_named_like_a_language(own_corpus, load):
    """Footer statistics are looked up by column: a struct column another tool appended, whose
    all-null leaf is named ``sw``, must not be taken for Swahili (its null counts would skip
    every row group)."""
    rewrite_alignment(own_corpus, talk_lengths)  # whole talks per row group: skipping applies
    expected = as_rows(load(own_corpus, "en-sw", split="train"))
    decoy = pa.struct([("sw", pa.string())])
    rewrite_alignment(own_corpus, talk_lengths, lambda table: table.append_column("extra", pa.nulls(table.num_rows, decoy)))
    assert all(pq.read_metadata(path).schema.names.count("sw") == 2 for path in (own_corpus / "alignment").glob("*.parquet"))
    assert expected
    assert as_rows(load(own_corpus, "en-sw", split="train", cache_dir=str(own_corpus.parent / "fresh"))) == expected


@pytest.mark.parametrize(
    "report, problem",
    [
        ([], "the file is a JSON array, expected an object"),
        ({"splits": ["train"]}, "'splits' is a JSON array, expected an object"),
        ({"splits": {"train": "data/train-00000-of-00001.parquet"}}, "'splits.train' is a JSON string, expected an object"),
        ({"splits": {"train": {"files": "data/train-00000-of-00001.parquet"}}},
         "'splits.train.files' is a JSON string, expected an array of shard paths"),
    ],
    ids=["array", "splits-array", "split-string", "files-string"],
)
def test_a_build_report_of_the_wrong_shape_names_the_file(own_corpus, load, report, problem):
    report_path = own_corpus / "build_report.json"
    report_path.write_text(json.dumps(report))
    with pytest.raises(ValueError, match=rf"{report_path} is not a TED2025 build report: {re.escape(problem)}"):
        load(own_corpus, "en-de")


def reference_rows_from_files(corpus: Path, split: str) -> list[dict]:
    files = sorted((corpus / "alignment").glob(f"{split}-*.parquet"))
    rows = [r for f in files for r in composed_rows(pq.read_table(f).to_pylist(), ["en", "de"])
            if r["en"] is not None and r["de"] is not None]
    return [{"talk_id": r["talk_id"], "segment_id": r["segment_id"], "num_languages": 2,
             "translation": {"en": r["en"], "de": r["de"]}} for r in rows]


def test_not_a_corpus(tmp_path, load):
    with pytest.raises(FileNotFoundError, match="no such corpus folder: .*nowhere/deep"):
        load(str(tmp_path / "nowhere" / "deep"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no data shards"):
        load(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no alignment shards"):
        load(tmp_path / "empty", "en-de")


# --------------------------------------------------------------------------------------------
# Where the corpus comes from: local folder, default path, Hub
# --------------------------------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path, corpus, monkeypatch):
    """The fixture corpus served as dataset repo org/name on a loopback Hub."""
    shutil.copytree(corpus, tmp_path / "hub" / "org" / "name")
    with HubServer(tmp_path / "hub") as server:
        hub_environment(monkeypatch, server.url, tmp_path / "hf_home")
        yield server


def downloaded(server: HubServer) -> set[str]:
    return {path.rsplit("/resolve/", 1)[1].split("/", 1)[1] for method, path in server.requests
            if method == "GET" and "/resolve/" in path}


def test_hub_repo_id_downloads_only_the_needed_shards(hub, corpus, load, tmp_path):
    test = load("org/name", "en-de", split="test")
    assert as_rows(test) == reference_rows(corpus, ["test"], ["en", "de"])
    assert downloaded(hub) == {"build_report.json", "alignment/test-00000-of-00001.parquet"}  # a subset: alignment/ alone
    snapshots = tmp_path / "hf_home" / "hub" / "datasets--org--name" / "snapshots"
    assert snapshots.is_dir()  # the Hub cache honours HF_HOME set after import
    everything = load("org/name@main", "en-de")
    for split in ("train", "test"):
        assert as_rows(everything[split]) == reference_rows(corpus, [split], ["en", "de"])


def test_hub_hf_path_streamed_and_prepared(hub, corpus, load, tmp_path):
    streamed = load("hf://datasets/org/name@main", "en-zh-sw", streaming=True)
    assert isinstance(streamed, datasets.IterableDatasetDict)
    for split in ("train", "test"):
        assert as_rows(streamed[split]) == reference_rows(corpus, [split], ["en", "zh-cn", "sw"])
    # Streaming reads the shards in place, through HfFileSystem: nothing lands in the Hub cache.
    assert any(path.endswith(ALIGNMENT_SHARD) for method, path in hub.requests if method == "GET")
    assert not (tmp_path / "hf_home" / "hub" / "datasets--org--name" / "snapshots").exists()
    prepared = load("hf://datasets/org/name", "en-zh-sw", split="train")
    assert as_rows(prepared) == reference_rows(corpus, ["train"], ["en", "zh-cn", "sw"])


def test_hub_offline_reload_uses_the_hub_cache(hub, corpus, load, monkeypatch):
    online = load("org/name", "en-de", split="train")
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    hub.requests.clear()
    offline = load("org/name", "en-de", split="train")
    assert hub.requests == []
    assert as_rows(offline) == as_rows(online)


def test_hub_corpus_of_an_older_format_says_to_rebuild(hub, load):
    """A subset downloads alignment/ alone; a format 1 repo has none, and says to rebuild."""
    make_format_1(hub.root / "org" / "name")
    with pytest.raises(ted2025.MissingShardError, match=r"no alignment shards; rebuild the corpus with `ted2025 build`"):
        load("org/name", "en-de", split="train")
    with pytest.raises(ted2025.CorruptShardError, match=r"format version 1.*rebuild the corpus with `ted2025 build`"):
        load("org/name", "all", split="train")


@pytest.mark.parametrize("name, shard", [("en-de", ALIGNMENT_SHARD), ("all", SHARD)])
def test_hub_missing_shard_and_bad_revision(hub, load, name, shard):
    (hub.root / "org" / "name" / shard).unlink()
    with pytest.raises(ted2025.MissingShardError, match=shard):
        load("org/name", name, split="train")
    with pytest.raises(RevisionNotFoundError):
        load("org/name@v9", "en-de", split="test")


def test_default_path_prefers_a_local_ted2025_folder(corpus, load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TED2025_PATH", str(tmp_path / "elsewhere"))
    shutil.copytree(corpus, tmp_path / "ted2025")
    assert as_rows(load(name="en-de", split="test")) == reference_rows(corpus, ["test"], ["en", "de"])


def test_default_path_then_env_path(corpus, load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TED2025_PATH", str(corpus))
    assert as_rows(load(name="en-de", split="test")) == reference_rows(corpus, ["test"], ["en", "de"])


def test_default_path_then_repo_id(hub, corpus, load, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TED2025_PATH", raising=False)
    monkeypatch.setenv("TED2025_REPO_ID", "org/name")
    assert as_rows(load(name="en-de", split="test")) == reference_rows(corpus, ["test"], ["en", "de"])
    monkeypatch.delenv("TED2025_REPO_ID")
    hub.requests.clear()
    with pytest.raises(FileNotFoundError, match=rf"TED2025 corpus not found: .*{ted2025.DEFAULT_REPO_ID} could not be read"):
        load(name="en-de", split="test")
    assert any(ted2025.DEFAULT_REPO_ID in path for _, path in hub.requests)


@pytest.mark.parametrize("path", ["demo/corpsu", "./corpsu", "~/no-such-ted2025-corpus"])
def test_a_path_that_looks_local_is_never_sent_to_the_hub(hub, load, tmp_path, monkeypatch, path):
    """``demo/corpsu`` is a typo for ``demo/corpus`` (``demo/`` exists), not the Hub repo demo/corpsu."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match=rf"no such corpus folder: {re.escape(path)} "):
        load(path, "en-de")
    assert hub.requests == []


def test_default_path_with_no_corpus_anywhere_says_how_to_get_one(hub, load, tmp_path, monkeypatch):
    """The README's first call outside the repo: nothing local, and the Hub repo unreachable."""
    import huggingface_hub.constants

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TED2025_PATH", raising=False)
    monkeypatch.delenv("TED2025_REPO_ID", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as without a network: huggingface_hub's LocalEntryNotFoundError
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(FileNotFoundError) as info:
        load(name="en-zh-sw")
    message = str(info.value)
    assert message.startswith("TED2025 corpus not found: no folder ./ted2025, $TED2025_PATH is not set, and the Hub "
                              f"repo {ted2025.DEFAULT_REPO_ID} could not be read")
    assert "`make demo`" in message and "`ted2025 crawl" in message and "`ted2025 build" in message


# --------------------------------------------------------------------------------------------
# A real build: WIT3 (IWSLT 2017 test talks, 7 languages) through builder.pipeline
# --------------------------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_wit3_build_loads(wit3_dir, tmp_path, load):
    from builder.pipeline import build

    out = tmp_path / "wit3_corpus"
    build(wit3_dir, out, progress=False, workers=1)
    report = json.loads((out / "build_report.json").read_text())
    splits = list(report["splits"])
    trio = load(out, "en-zh-de")
    assert set(trio) == set(splits)
    for split in splits:
        assert as_rows(trio[split]) == reference_rows(out, [split], ["en", "zh-cn", "de"])
    assert trio[splits[0]].num_rows > 100
    seven = load(out, "en-ar-de-fr-ja-ko-zh", split=splits[0])
    expected = reference_rows(out, [splits[0]], ["en", "ar", "de", "fr", "ja", "ko", "zh-cn"])
    assert as_rows(seven) == expected and len(expected) > 100
    assert set(seven[0]["translation"]) == {"en", "ar", "de", "fr", "ja", "ko", "zh-cn"}


@pytest.mark.real_data
def test_readme_example_on_real_ted_webvtt(vtt_dir, tmp_path, load, monkeypatch):
    """The README's `load_dataset("ted2025", "en-zh-sw")`, on a corpus built from TED's own subtitles."""
    from builder.pipeline import BuildSettings, build

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TED2025_PATH", raising=False)
    build(vtt_dir, tmp_path / "ted2025", BuildSettings(splits={"train": 1.0}), progress=False, workers=1)
    ds = load(name="en-zh-sw")
    assert list(ds) == ["train"]
    rows = ds["train"]
    assert rows.num_rows >= 15 and set(rows["talk_id"]) == {10}  # talk 1500 has no Swahili
    assert rows[0]["translation"]["en"].startswith("What if you could take a pill")
    assert all(row["translation"]["sw"] and row["translation"]["zh-cn"] for row in rows)


def test_a_report_cannot_point_outside_the_corpus(own_corpus, load):
    corpus = own_corpus
    report_path = corpus / "build_report.json"
    report = json.loads(report_path.read_text())
    split = next(iter(report["splits"]))
    report["splits"][split]["files"] = ["../outside.parquet"]
    report_path.write_text(json.dumps(report))
    with pytest.raises(ValueError, match="outside.parquet"):
        load(corpus, "en-de", split=split)


def make_format_1(corpus: Path) -> None:
    """Turn ``corpus`` into what format 1 wrote: data/ alone, and a report without alignment/."""
    for path in sorted((corpus / "data").glob("*.parquet")):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"ted2025"]) | {"format_version": 1}
        pq.write_table(table.replace_schema_metadata({b"ted2025": json.dumps(meta).encode()}), path)
    shutil.rmtree(corpus / "alignment")
    report = json.loads((corpus / "build_report.json").read_text())
    for split in report["splits"].values():
        split.pop("alignment_files"), split.pop("alignment_rows", None)
    (corpus / "build_report.json").write_text(json.dumps(report | {"format_version": 1}))


def test_a_corpus_of_an_older_format_says_to_rebuild(own_corpus, load):
    """Format 1 had no finest table: its subsets would be the coarse all-way rows."""
    make_format_1(own_corpus)
    for name in ("en-de", "all"):
        with pytest.raises(ted2025.CorruptShardError, match=r"format version 1.*rebuild the corpus with `ted2025 build`"):
            load(own_corpus, name)


def test_finest_rows_of_a_talk_spread_over_batches_compose_as_one(own_corpus, load):
    """The fixture's row groups hold 7 rows, so talks straddle batches: composing batch by
    batch must wait for a talk's last row."""
    rows = pq.read_table(own_corpus / "alignment" / "train-00000-of-00002.parquet").to_pylist()
    whole = composed_rows(rows, ["en", "de", "fr"])
    loaded = load(own_corpus, "en-de-fr", split="train", min_languages=1, format="wide")
    first_shard = [r for r in as_rows(loaded) if r["talk_id"] in {row["talk_id"] for row in rows}]
    assert first_shard == [{**r, "num_languages": sum(r[c] is not None for c in ("en", "de", "fr"))} for r in whole
                           if any(r[c] is not None for c in ("en", "de", "fr"))]
    assert len(whole) < len(rows)  # some rows merged: composing is not the identity here


# --------------------------------------------------------------------------------------------
# `ted2025 show`: clean one-line errors
# --------------------------------------------------------------------------------------------


@pytest.fixture
def show(tmp_path, monkeypatch, capsys):
    """``ted2025 show ARGS`` in-process, with a cache of the test's own: (exit code, stdout, stderr)."""
    from builder import cli

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")

    def _show(*args):
        code = cli.main(["show", *map(str, args)])
        out, err = capsys.readouterr()
        return code, out, err

    return _show


def assert_one_line_error(err: str, problem: str) -> None:
    """stderr ends in one line ``ted2025 show: error: ...`` (after any progress bars), no traceback."""
    assert "Traceback" not in err and err.endswith("\n"), err
    last = err.splitlines()[-1]
    assert last.startswith("ted2025 show: error: ") and re.search(problem, last), err
    assert err.count("ted2025 show:") == 1, err


def test_show_a_missing_folder(show, tmp_path):
    code, out, err = show(tmp_path / "nowhere", "en-de")
    assert code == 2 and out == ""
    assert_one_line_error(err, "no such corpus folder: .*nowhere")


@pytest.mark.parametrize("name, shard", [("en-de", ALIGNMENT_SHARD), ("all", SHARD)])
def test_show_a_corrupt_shard(show, own_corpus, name, shard):
    (own_corpus / shard).write_bytes(b"this is not parquet\n" * 50)
    code, out, err = show(own_corpus, name)
    assert code == 2 and out == ""
    assert_one_line_error(err, re.escape(str(own_corpus / shard)))


def test_show_a_wrong_typed_column(show, own_corpus):
    retype(own_corpus / SHARD, "en", pa.int64())
    code, _, err = show(own_corpus, "all")
    assert code == 2
    assert_one_line_error(err, "column 'en' is int64, expected string")


def test_show_a_bad_subset_name(show, corpus):
    code, _, err = show(corpus, "en-gernam")
    assert code == 2
    assert_one_line_error(err, "unknown language code 'gernam'")


def test_show_an_unknown_split(show, corpus):
    code, _, err = show(corpus, "en-de", "--split", "validation")
    assert code == 2
    assert_one_line_error(err, "no split 'validation'; the corpus has train, test")


def test_show_accepts_all_in_any_case(show, corpus):
    code, out, err = show(corpus, "ALL", "--rows", "1")
    assert code == 0 and "error" not in err
    assert out.startswith("ALL: train=") and "-- talk" in out
