"""Write stage: sharded wide Parquet, written into a staging folder and swapped in whole.

Hub viewer limits shape the files: row groups stay well under 100 MB in memory, every file
has a page index, and shards are named ``data/<split>-NNNNN-of-NNNNN.parquet`` so the Hub
infers splits without any YAML.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import ALIGNMENT_DIR, DATA_DIR, REPORT

ROW_GROUP_BYTES = 32 * 1024 * 1024
SHARD_BYTES = 256 * 1024 * 1024
PARQUET_OPTIONS = dict(compression="zstd", write_page_index=True, write_statistics=True, use_content_defined_chunking=True)


def shard_options(schema: pa.Schema) -> dict:
    """PARQUET_OPTIONS for a corpus shard: no dictionary for its texts (its string columns).

    TED texts are nearly all distinct, so pyarrow's default dictionary encoding fills a
    dictionary page to its 1 MB limit and then falls back to plain for the rest of each column
    chunk: the file keeps the dictionary and readers decode both. Plain texts are 5 % smaller
    and read 25 % faster (benchmarks/README.md). The other columns keep it (``talk_id``
    repeats). Shard schemas are flat (:mod:`builder.contract`, ``pairs.pair_schema``), so a
    column is its field.
    """
    return PARQUET_OPTIONS | {"use_dictionary": [field.name for field in schema if not pa.types.is_string(field.type)]}


class SplitShards:
    """The shards of one split: row groups flushed at a byte budget, files rotated at another,
    renamed to {split}-NNNNN-of-NNNNN.parquet on close."""

    def __init__(self, folder: Path, split: str, schema: pa.Schema, row_group_bytes: int, shard_bytes: int):
        self.folder, self.split, self.schema = folder, split, schema
        self.prefix = folder.name  # the shard names' folder in the corpus (data, alignment, ...)
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
            self.writer = pq.ParquetWriter(path, self.schema, **shard_options(self.schema))
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
            names.append(f"{self.prefix}/{final.name}")
        return names


class CorpusWriter:
    """Accepts one talk's rows at a time, for the all-way table (``data/``) and the finest one
    (``alignment/``); memory is bounded by one row group per split and table."""

    def __init__(
        self,
        staging: Path,
        schema: pa.Schema,
        alignment_schema: pa.Schema,
        row_group_bytes: int = ROW_GROUP_BYTES,
        shard_bytes: int = SHARD_BYTES,
    ):
        self.staging = staging
        self.schemas = {DATA_DIR: schema, ALIGNMENT_DIR: alignment_schema}
        for folder in self.schemas:
            (staging / folder).mkdir(parents=True)
        self.row_group_bytes, self.shard_bytes = row_group_bytes, shard_bytes
        self.shards: dict[tuple[str, str], SplitShards] = {}

    def write(self, split: str, columns: dict[str, list], num_rows: int, table: str = DATA_DIR) -> None:
        if not num_rows:
            return
        schema = self.schemas[table]
        arrays = []
        for field in schema:
            values = columns.get(field.name)
            arrays.append(pa.nulls(num_rows, field.type) if values is None else pa.array(values, field.type))
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        if (table, split) not in self.shards:
            self.shards[(table, split)] = SplitShards(self.staging / table, split, schema, self.row_group_bytes, self.shard_bytes)
        self.shards[(table, split)].add(batch)

    def close(self) -> dict[str, dict]:
        """Per split: rows and files of the all-way table, and the files of the finest one."""
        splits: dict[str, dict] = {}
        for (table, split), shards in self.shards.items():
            files = shards.close()
            if table == DATA_DIR:
                splits.setdefault(split, {})["num_rows"] = shards.num_rows
                splits[split]["files"] = files
            else:
                splits.setdefault(split, {})["alignment_files"] = files
                splits[split]["alignment_rows"] = shards.num_rows
        return splits

    def abort(self) -> None:
        """Close open files without finishing them (the staging folder is about to go)."""
        for shards in self.shards.values():
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


TOOL = "ted2025"  # build_report.json's "tool": what makes a folder an earlier build of ours


def beside(out: Path, role: str) -> Path:
    """The hidden sibling of OUT that a build uses: ``.OUT.lock``, ``.OUT.partial`` (staging)
    or ``.OUT.old`` (the previous build, during the swap)."""
    return out.parent / f".{out.name}.{role}"


class BuildLockedError(FileExistsError):
    """Another build holds the output folder's lock."""


def is_build(folder: Path) -> bool:
    """Whether ``folder`` holds a build of this tool: a build_report.json that parses and says
    ``"tool": "ted2025"`` (reports from before that key: ``versions.ted2025``) with a format
    version. Only such a folder is ever replaced or deleted."""
    report = folder / REPORT
    try:
        if not report.is_file() or report.stat().st_size > 64 * 1024 * 1024:
            return False
        doc = json.loads(report.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(doc, dict) or not isinstance(doc.get("format_version"), int):
        return False
    versions = doc.get("versions")
    return doc.get("tool") == TOOL or (isinstance(versions, dict) and isinstance(versions.get(TOOL), str))


@contextlib.contextmanager
def output_lock(out: Path):
    """Hold ``.OUT.lock`` (beside OUT) for the whole build: a second build into the same OUT
    fails at once instead of mixing its files in. The lock is the kernel's (flock), so a killed
    build never leaves a stale one (at most an empty file, which the next build takes over);
    a build that ends removes the file while it still holds it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    path = beside(out, "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = os.stat(path).st_ino == os.fstat(fd).st_ino  # not a file the holder just removed
        except (BlockingIOError, FileNotFoundError):
            held = False
        if not held:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            raise BuildLockedError(
                f"another build is writing {out} ({path.name} is locked{f' by pid {holder}' if holder else ''}); "
                "wait for it to finish or build into another folder"
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)  # releases the lock


def check_output(out: Path) -> None:
    """Everything about OUT that can be known before any work (and before the lock), as
    one-line errors."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder")
    parent = out.parent
    while not parent.exists():  # the first folder that exists must let us create OUT in it
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK | os.X_OK)):
        raise PermissionError(f"--out {out} is not writable (check the permissions of {parent if not out.exists() else out})")
    check_replaceable(out)


def recover(out: Path) -> None:
    """A kill between commit's renames leaves the previous build in ``.OUT.old``: put it back
    when OUT is missing; remove it when OUT is there and it is a build of ours. Call it with
    the output lock held (another build may be between its renames)."""
    old = beside(out, "old")
    if not old.exists():
        return
    if not out.exists():
        os.replace(old, out)
    elif is_build(old):
        shutil.rmtree(old)


def staging_for(out: Path) -> Path:
    """The private folder a build writes into (call with the output lock held)."""
    staging = beside(out, "partial")
    if staging.exists():
        shutil.rmtree(staging)  # leftovers of an interrupted build
    staging.parent.mkdir(parents=True, exist_ok=True)
    return staging


def check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier build: we never delete user files."""
    if out.exists() and any(out.iterdir()) and not is_build(out):
        raise FileExistsError(
            f"{out} exists, is not empty and is not a TED2025 build (no {REPORT} written by "
            f"{TOOL} with a format version); refusing to replace it: choose another --out or empty it"
        )


def commit(staging: Path, out: Path) -> None:
    """Swap the finished staging folder in. ``out`` is never seen half-written; a kill between
    the renames is undone by :func:`recover` on the next build."""
    check_replaceable(out)
    old = beside(out, "old")
    if old.exists():
        recover(out)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    if old.exists():
        shutil.rmtree(old)
