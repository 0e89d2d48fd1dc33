"""builder/write.py: row groups at a byte budget, shards rotated and named for the Hub, the
corpus writer's two tables, and the folder swap that never deletes what is not a build."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.contract import REPORT as BUILD_REPORT
from builder.contract import SHARD_NAME, alignment_schema, wide_schema
from builder.pairs import pair_schema
from builder.write import (
    TOOL,
    BuildLockedError,
    CorpusWriter,
    RowStream,
    SplitShards,
    beside,
    check_replaceable,
    commit,
    is_build,
    output_lock,
    recover,
)

SCHEMA = pa.schema([("talk_id", pa.int64()), ("text", pa.string())])


def batch(talk_id: int, rows: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([{"talk_id": talk_id, "text": f"{talk_id}-{i} " * 20} for i in range(rows)], SCHEMA)


def read_rows(folder, names: list[str]) -> list[dict]:
    return [row for name in names for row in pq.read_table(folder.parent / name).to_pylist()]


def test_row_groups_flush_at_the_byte_budget_and_shards_rotate(tmp_path):
    one = batch(0, 10).nbytes
    shards = SplitShards(tmp_path / "data", "train", SCHEMA, row_group_bytes=2 * one, shard_bytes=4 * one)
    (tmp_path / "data").mkdir()
    for talk_id in range(9):
        shards.add(batch(talk_id, 10))
    names = shards.close()
    # two batches per row group, two row groups per shard: 9 batches -> shards of 4, 4 and 1 batches
    assert names == ["data/train-00000-of-00003.parquet", "data/train-00001-of-00003.parquet", "data/train-00002-of-00003.parquet"]
    assert all(SHARD_NAME.match(name.split("/")[1]) for name in names)
    files = [pq.ParquetFile(tmp_path / name) for name in names]
    assert [f.metadata.num_row_groups for f in files] == [2, 2, 1]
    assert [f.metadata.row_group(i).num_rows for f in files for i in range(f.metadata.num_row_groups)] == [20, 20, 20, 20, 10]
    assert all(f.metadata.row_group(0).column(0).has_offset_index for f in files), "page index for the viewer"
    rows = read_rows(tmp_path / "data", names)
    assert shards.num_rows == len(rows) == 90
    assert [row["talk_id"] for row in rows] == [t for t in range(9) for _ in range(10)]
    assert not list((tmp_path / "data").glob("*.inprogress"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 30), min_size=1, max_size=12), st.integers(1, 6), st.integers(1, 4))
def test_any_batches_come_back_in_order_in_contiguously_numbered_shards(tmp_path_factory, sizes, per_group, groups_per_shard):
    folder = tmp_path_factory.mktemp("shards") / "alignment"
    folder.mkdir()
    unit = batch(0, 1).nbytes
    shards = SplitShards(folder, "test", SCHEMA, per_group * unit, per_group * groups_per_shard * unit)
    for talk_id, size in enumerate(sizes):
        shards.add(batch(talk_id, size))
    names = shards.close()
    matches = [SHARD_NAME.match(name.removeprefix("alignment/")) for name in names]
    assert all(m and m["split"] == "test" and int(m["count"]) == len(names) for m in matches)
    assert [int(m["index"]) for m in matches] == list(range(len(names)))
    rows = read_rows(folder, names)
    assert [row["talk_id"] for row in rows] == [t for t, size in enumerate(sizes) for _ in range(size)]
    for name in names:
        meta = pq.ParquetFile(folder.parent / name).metadata
        assert all(meta.row_group(i).num_rows for i in range(meta.num_row_groups))


def test_corpus_writer_fills_missing_languages_with_nulls_and_reports_both_tables(tmp_path):
    codes = ["en", "de", "fr"]
    writer = CorpusWriter(tmp_path / "staging", wide_schema(codes, "sentence"), alignment_schema(codes, "sentence"))
    base = {"talk_id": [7, 7], "segment_id": [0, 1], "start_ms": [0, 900], "end_ms": [800, 1500], "num_languages": [2, 2]}
    writer.write("train", base | {"en": ["Hi.", "Bye."], "de": ["Hallo.", "Tschüss."]}, 2)
    writer.write("test", base | {"en": ["One."], "fr": ["Un."]} | {k: v[:1] for k, v in base.items()}, 1)
    writer.write("train", base, 0)  # no rows: nothing written
    finest = {"talk_id": [7], "unit_id": [0], "start_ms": [0], "end_ms": [800], "merge": [False], "en": ["Hi."], "merge.en": [False]}
    writer.write("train", finest, 1, "alignment")
    splits = writer.close()
    assert splits == {
        "train": {"num_rows": 2, "files": ["data/train-00000-of-00001.parquet"],
                  "alignment_files": ["alignment/train-00000-of-00001.parquet"], "alignment_rows": 1},
        "test": {"num_rows": 1, "files": ["data/test-00000-of-00001.parquet"]},
    }
    train = pq.read_table(tmp_path / "staging" / "data" / "train-00000-of-00001.parquet")
    assert train.schema.names == ["talk_id", "segment_id", "start_ms", "end_ms", "num_languages", *codes]
    assert train["fr"].null_count == 2 and train["de"].to_pylist() == ["Hallo.", "Tschüss."]
    assert json.loads(train.schema.metadata[b"ted2025"])["languages"] == codes
    aligned = pq.read_table(tmp_path / "staging" / "alignment" / "train-00000-of-00001.parquet")
    assert aligned["de"].null_count == 1 and aligned["merge.de"].to_pylist() == [None]


@pytest.mark.parametrize("schema", [
    wide_schema(["en", "de"], "sentence"), alignment_schema(["en", "de"], "sentence"), pair_schema("en", "de", "sentence"),
], ids=["data", "alignment", "pairs"])
def test_shard_texts_are_plain_encoded_and_the_other_columns_keep_their_dictionary(tmp_path, schema):
    # TED texts are nearly all distinct: a dictionary only costs (benchmarks/README.md).
    values = {"talk_id": 3, "start_ms": 0, "end_ms": 900, "num_languages": 2, "merge": False, "merge.en": True}
    rows = [values | {"segment_id": i, "unit_id": i, "en": f"Sentence {i}.", "de": f"Satz {i}."} for i in range(50)]
    folder = tmp_path / "shards"
    folder.mkdir()
    shards = SplitShards(folder, "train", schema, row_group_bytes=1 << 20, shard_bytes=1 << 30)
    shards.add(pa.RecordBatch.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema))
    (name,) = shards.close()
    group = pq.read_metadata(folder.parent / name).row_group(0)
    encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)}
    texts = [field.name for field in schema if pa.types.is_string(field.type)]
    integers = [field.name for field in schema if pa.types.is_integer(field.type)]
    assert texts == ["en", "de"] and "talk_id" in integers
    assert all("RLE_DICTIONARY" not in encodings[code] for code in texts), encodings
    assert all("RLE_DICTIONARY" in encodings[column] for column in integers), encodings


def test_abort_closes_open_shards_without_naming_them(tmp_path):
    writer = CorpusWriter(tmp_path / "staging", SCHEMA, SCHEMA, row_group_bytes=1)
    writer.write("train", {"talk_id": [1], "text": ["x"]}, 1)
    writer.abort()
    assert [p.name for p in (tmp_path / "staging" / "data").iterdir()] == ["train-00000.inprogress"]


def test_row_stream_writes_every_row_in_order_across_batches(tmp_path):
    stream = RowStream(tmp_path / "reports" / "drops.parquet", SCHEMA, batch_rows=3)
    for i in range(8):
        stream.extend([(i, f"text {i}")])
    stream.close()
    table = pq.read_table(tmp_path / "reports" / "drops.parquet")
    assert table["talk_id"].to_pylist() == list(range(8))
    assert pq.ParquetFile(tmp_path / "reports" / "drops.parquet").metadata.num_row_groups == 3  # 3 + 3 + 2


# --- the output folder ------------------------------------------------------------------------


def write_report(folder, doc) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BUILD_REPORT).write_text(doc if isinstance(doc, str) else json.dumps(doc))


@pytest.mark.parametrize("doc, ours", [
    ({"tool": TOOL, "format_version": 2}, True),
    ({"versions": {TOOL: "0.1"}, "format_version": 1}, True),  # a report from before "tool"
    ({"tool": TOOL}, False),  # no format version
    ({"tool": "other", "format_version": 2}, False),
    ({"versions": {TOOL: 1}, "format_version": 2}, False),
    ("[1, 2]", False),
    ("{not json", False),
])
def test_is_build_only_for_our_own_reports(tmp_path, doc, ours):
    write_report(tmp_path / "out", doc)
    assert is_build(tmp_path / "out") is ours


def test_commit_replaces_an_earlier_build_and_refuses_anything_else(tmp_path):
    out = tmp_path / "out"
    write_report(out, {"tool": TOOL, "format_version": 2})
    (out / "old.txt").write_text("old build")
    staging = beside(out, "partial")
    write_report(staging, {"tool": TOOL, "format_version": 2})
    (staging / "new.txt").write_text("new build")
    commit(staging, out)
    assert sorted(p.name for p in out.iterdir()) == [BUILD_REPORT, "new.txt"]
    assert not staging.exists() and not beside(out, "old").exists()

    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("keep me")
    with pytest.raises(FileExistsError, match="refusing to replace"):
        check_replaceable(precious)
    with pytest.raises(FileExistsError):
        commit(staging, precious)
    assert (precious / "chapter1.tex").read_text() == "keep me"


def test_recover_puts_back_the_previous_build_after_a_kill_between_renames(tmp_path):
    out = tmp_path / "out"
    write_report(beside(out, "old"), {"tool": TOOL, "format_version": 2})
    recover(out)  # killed after moving OUT aside: OUT comes back
    assert is_build(out) and not beside(out, "old").exists()
    write_report(beside(out, "old"), {"tool": TOOL, "format_version": 2})
    recover(out)  # killed after the swap: the old build goes
    assert is_build(out) and not beside(out, "old").exists()


def test_output_lock_admits_one_build_at_a_time(tmp_path):
    out = tmp_path / "out"
    with output_lock(out):
        assert beside(out, "lock").exists()
        with pytest.raises(BuildLockedError, match="another build is writing"):
            with output_lock(out):
                pass
    assert not beside(out, "lock").exists()
    with output_lock(out):  # free again
        pass
