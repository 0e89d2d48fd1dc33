"""Write stage: sharded wide Parquet, written into a staging folder and swapped in whole.

Hub viewer limits shape the files: row groups stay well under 100 MB in memory, every file
has a page index, and shards are named ``data/<split>-NNNNN-of-NNNNN.parquet`` so the Hub
infers splits without any YAML.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

FORMAT_VERSION = 1
BASE_FIELDS = [
    pa.field("talk_id", pa.int64(), nullable=False),
    pa.field("segment_id", pa.int32(), nullable=False),
    pa.field("start_ms", pa.int64()),
    pa.field("end_ms", pa.int64()),
    pa.field("num_languages", pa.int16(), nullable=False),
]
ROW_GROUP_BYTES = 32 * 1024 * 1024
SHARD_BYTES = 256 * 1024 * 1024
PARQUET_OPTIONS = dict(compression="zstd", write_page_index=True, write_statistics=True, use_content_defined_chunking=True)


def wide_schema(language_codes: list[str], granularity: str) -> pa.Schema:
    fields = BASE_FIELDS + [pa.field(code, pa.string()) for code in language_codes]
    meta = {"format_version": FORMAT_VERSION, "languages": language_codes, "granularity": granularity}
    return pa.schema(fields, metadata={b"ted2025": json.dumps(meta).encode()})


class SplitShards:
    """The shards of one split: row groups flushed at a byte budget, files rotated at another,
    renamed to {split}-NNNNN-of-NNNNN.parquet on close."""

    def __init__(self, folder: Path, split: str, schema: pa.Schema, row_group_bytes: int, shard_bytes: int):
        self.folder, self.split, self.schema = folder, split, schema
        self.row_group_bytes, self.shard_bytes = row_group_bytes, shard_bytes
        self.pending: list[pa.RecordBatch] = []
        self.pending_bytes = 0
        self.writer: pq.ParquetWriter | None = None
        self.shard_written = 0
        self.paths: list[Path] = []
        self.num_rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.pending_bytes += batch.nbytes
        self.num_rows += batch.num_rows
        if self.pending_bytes >= self.row_group_bytes:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        if self.writer is None:
            path = self.folder / f"{self.split}-{len(self.paths):05d}.inprogress"
            self.paths.append(path)
            self.writer = pq.ParquetWriter(path, self.schema, **PARQUET_OPTIONS)
        table = pa.Table.from_batches(self.pending, self.schema)
        self.writer.write_table(table, row_group_size=table.num_rows)
        self.shard_written += self.pending_bytes
        self.pending, self.pending_bytes = [], 0
        if self.shard_written >= self.shard_bytes:
            self.writer.close()
            self.writer, self.shard_written = None, 0

    def close(self) -> list[str]:
        self.flush()
        if self.writer is not None:
            self.writer.close()
        names = []
        for i, path in enumerate(self.paths):
            final = path.with_name(f"{self.split}-{i:05d}-of-{len(self.paths):05d}.parquet")
            path.rename(final)
            names.append(f"data/{final.name}")
        return names


class CorpusWriter:
    """Accepts one talk's rows at a time; memory is bounded by one row group per split."""

    def __init__(self, staging: Path, schema: pa.Schema, row_group_bytes: int = ROW_GROUP_BYTES, shard_bytes: int = SHARD_BYTES):
        self.staging, self.schema = staging, schema
        (staging / "data").mkdir(parents=True)
        self.row_group_bytes, self.shard_bytes = row_group_bytes, shard_bytes
        self.splits: dict[str, SplitShards] = {}

    def write(self, split: str, columns: dict[str, list], num_rows: int) -> None:
        if not num_rows:
            return
        arrays = []
        for field in self.schema:
            values = columns.get(field.name)
            arrays.append(pa.nulls(num_rows, field.type) if values is None else pa.array(values, field.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if split not in self.splits:
            self.splits[split] = SplitShards(self.staging / "data", split, self.schema, self.row_group_bytes, self.shard_bytes)
        self.splits[split].add(batch)

    def close(self) -> dict[str, dict]:
        return {name: {"num_rows": shards.num_rows, "files": shards.close()} for name, shards in self.splits.items()}

    def abort(self) -> None:
        """Close open files without finishing them (the staging folder is about to go)."""
        for shards in self.splits.values():
            if shards.writer is not None:
                shards.writer.close()


class RowStream:
    """A Parquet file written in batches of rows (tuples in schema order)."""

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int = 50_000):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.schema, self.batch_rows = schema, batch_rows
        self.writer = pq.ParquetWriter(path, schema, **PARQUET_OPTIONS)
        self.rows: list[tuple] = []

    def extend(self, rows: list[tuple]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            columns = [list(column) for column in zip(*self.rows)]
            self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def staging_for(out: Path) -> Path:
    staging = out.parent / f".{out.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)  # leftovers of an interrupted build
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier build: we never delete user files."""
    if out.exists() and any(out.iterdir()) and not (out / "build_report.json").exists():
        raise FileExistsError(f"{out} exists, is not empty and holds no build_report.json; refusing to replace it")


def commit(staging: Path, out: Path) -> None:
    """Swap the finished staging folder in. ``out`` is never seen half-written."""
    check_replaceable(out)
    old = out.parent / f".{out.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    if old.exists():
        shutil.rmtree(old)
