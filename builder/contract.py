"""The corpus contract: what a built TED2025 folder holds, for the writer, the loader and the card.

Everything that reads or writes a corpus imports its names from here (this module depends only
on pyarrow, numpy and the language registry), so the format is defined once:

- ``data/{split}-NNNNN-of-NNNNN.parquet``: the **all-way** table, one row per segment of the
  alignment of every language (what the Hub viewer shows as config ``all``);
- ``alignment/{split}-NNNNN-of-NNNNN.parquet``: the **finest** table, one row per pivot unit
  (an English sentence, mostly). Each language's text is in the row of the pivot unit it is
  anchored to, and ``merge.<code>`` is true where that language asks to merge this row with
  the next (its unit or piece runs over both); ``merge`` is true where the granularity itself
  merges (paragraph, talk). :func:`compose` turns it into the rows of any language subset:
  it merges only the boundaries some language of the subset asks for. Composing every
  language gives the all-way rows (with ``--merge-quorum 0``);
- ``pairs/<pivot>-<xx>/{split}-NNNNN-of-NNNNN.parquet``: optional pair configs, each the composed
  rows of one pair where both are present (:mod:`builder.pairs`), for the Hub viewer;
- ``build_report.json`` (:data:`REPORT`), ``README.md`` (:data:`CARD`, the dataset card) and its
  ``figures/``.

A talk's rows are contiguous and in order in both tables, and never straddle a row group.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import languages as registry

FORMAT_VERSION = 2  # 2: the finest table under alignment/, subsets composed from it
DATA_DIR = "data"
ALIGNMENT_DIR = "alignment"
SHARD_NAME = re.compile(r"^(?P<split>\w+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")
KEY_COLUMNS = ("talk_id", "segment_id")
TIME_COLUMNS = ("start_ms", "end_ms")
UNIT_COLUMN = "unit_id"
BASE_MERGE = "merge"
METADATA_KEY = b"ted2025"
REPORT = "build_report.json"
CARD = "README.md"  # the dataset card, with the viewer's configs in its YAML
PAIRS_DIR = "pairs"  # pairs/<pivot>-<xx>/{split}-NNNNN-of-NNNNN.parquet: a pair config's own rows
FIGURES_DIR = "figures"  # the card's figures
MAX_CONFIGS = 3000  # the Hub viewer shows at most this many configs: "all" and the pair configs

BASE_FIELDS = [
    pa.field("talk_id", pa.int64(), nullable=False),
    pa.field("segment_id", pa.int32(), nullable=False),
    pa.field("start_ms", pa.int64()),
    pa.field("end_ms", pa.int64()),
    pa.field("num_languages", pa.int16(), nullable=False),
]
ALIGNMENT_BASE_FIELDS = [
    pa.field("talk_id", pa.int64(), nullable=False),
    pa.field(UNIT_COLUMN, pa.int32(), nullable=False),
    pa.field("start_ms", pa.int64()),
    pa.field("end_ms", pa.int64()),
    pa.field(BASE_MERGE, pa.bool_(), nullable=False),
]


def merge_column(code: str) -> str:
    return f"{BASE_MERGE}.{code}"


def shard_path(folder: str, name: str) -> str | None:
    """``folder/name`` when ``name`` is a shard name, else None."""
    return f"{folder}/{name}" if SHARD_NAME.fullmatch(name) else None


def _metadata(language_codes: Sequence[str], granularity: str, table: str) -> dict:
    meta = {"format_version": FORMAT_VERSION, "table": table, "languages": list(language_codes), "granularity": granularity}
    return {METADATA_KEY: json.dumps(meta).encode()}


def wide_schema(language_codes: Sequence[str], granularity: str) -> pa.Schema:
    fields = BASE_FIELDS + [pa.field(code, pa.string()) for code in language_codes]
    return pa.schema(fields, metadata=_metadata(language_codes, granularity, DATA_DIR))


def alignment_schema(language_codes: Sequence[str], granularity: str) -> pa.Schema:
    fields = list(ALIGNMENT_BASE_FIELDS)
    fields += [pa.field(code, pa.string()) for code in language_codes]
    fields += [pa.field(merge_column(code), pa.bool_()) for code in language_codes]
    return pa.schema(fields, metadata=_metadata(language_codes, granularity, ALIGNMENT_DIR))


def recorded(schema: pa.Schema) -> dict:
    """The ``ted2025`` metadata of a shard's schema ({} when absent)."""
    return json.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))


def compose(table: pa.Table, codes: Sequence[str]) -> pa.Table:
    """The rows of the subset ``codes`` from finest rows of whole talks, in order.

    A row starts a segment unless the row before it (same talk) has ``merge`` or the merge
    flag of some language of ``codes`` set; a segment's texts are its rows' texts joined with
    each language's joiner, its times the rows' minimum start and maximum end. Returns
    ``talk_id, segment_id, start_ms, end_ms, num_languages`` and one column per code, with
    every segment (also those where no language of ``codes`` is present); without times in
    ``table`` (a reader that needs none, e.g. the loader's translation format) there are none
    in the result either. All in Arrow and numpy: no Python work per row.
    """
    n = table.num_rows
    times = [name for name in TIME_COLUMNS if name in table.column_names]
    out_types = {"talk_id": pa.int64(), "segment_id": pa.int32(), **dict.fromkeys(times, pa.int64())}
    if n == 0:
        columns = {name: pa.array([], type) for name, type in out_types.items()}
        columns["num_languages"] = pa.array([], pa.int16())
        return pa.table(columns | {code: pa.array([], pa.string()) for code in codes})
    talk = table.column("talk_id").to_numpy()
    starts_segment = segment_starts(table, codes)
    segment = np.cumsum(starts_segment) - 1  # global segment index of each row
    first_rows = np.flatnonzero(starts_segment)
    first_segment_of_talk = np.maximum.accumulate(np.where(run_starts(talk), segment, 0))
    segment_id = (segment - first_segment_of_talk)[first_rows]

    columns = {
        "talk_id": pa.array(talk[first_rows], pa.int64()),
        "segment_id": pa.array(segment_id, pa.int32()),
    }
    for name, reduce in (("start_ms", np.minimum), ("end_ms", np.maximum)):
        if name not in times:
            continue
        values = table.column(name)
        if values.null_count == n:  # untimed (WIT3): no times
            columns[name] = pa.nulls(len(first_rows), pa.int64())
        else:  # a talk is timed or not as a whole: null where its first row is
            untimed = ~values.is_valid().to_numpy(zero_copy_only=False)[first_rows] if values.null_count else None
            columns[name] = pa.array(reduce.reduceat(values.fill_null(0).to_numpy(), first_rows), pa.int64(), mask=untimed)
    texts = {code: _join_by_segment(table.column(code), segment, len(first_rows), registry.joiner(code)) for code in codes}
    present = [pc.cast(text.is_valid(), pa.int16()) for text in texts.values()]
    columns["num_languages"] = (
        pc.cast(functools.reduce(pc.add, present), pa.int16()) if present else pa.array(np.zeros(len(first_rows), np.int16))
    )
    return pa.table(columns | texts)


def segment_starts(table: pa.Table, codes: Sequence[str]) -> np.ndarray:
    """For each finest row: does it start a segment of the subset ``codes``?"""
    talk = table.column("talk_id").to_numpy()
    merge = table.column(BASE_MERGE).to_numpy(zero_copy_only=False).astype(bool)
    for code in codes:
        merge |= table.column(merge_column(code)).fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    starts = run_starts(talk)
    starts[1:] |= ~merge[:-1]
    return starts


def run_starts(values: np.ndarray) -> np.ndarray:
    """For each position of a sorted key array (talk ids, segment ids): does a new run start there?"""
    return np.r_[True, values[1:] != values[:-1]]


def _join_by_segment(text: pa.ChunkedArray | pa.Array, segment: np.ndarray, num_segments: int, joiner: str) -> pa.Array:
    """One string per segment: the non-null texts of its rows joined in order (null if none)."""
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    if num_segments == len(text):  # nothing merged: the rows are the segments
        return text
    valid = np.flatnonzero(text.is_valid().to_numpy(zero_copy_only=False))
    if len(valid) == 0:
        return pa.nulls(num_segments, pa.string())
    groups = segment[valid]
    firsts = np.flatnonzero(run_starts(groups))
    where = np.full(num_segments, -1, dtype=np.int64)
    if len(firsts) == len(groups):  # at most one text per segment: pick it
        where[groups] = valid
        return text.take(pa.array(where, mask=where < 0))
    # some segment holds several texts: join them, in order
    offsets = pa.array(np.r_[firsts, len(groups)].astype(np.int32))
    values = pc.binary_join(pa.ListArray.from_arrays(offsets, text.take(pa.array(valid))), joiner)
    where[groups[firsts]] = np.arange(len(firsts))
    return values.take(pa.array(where, mask=where < 0))
