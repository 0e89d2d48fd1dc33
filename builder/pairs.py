"""Pair shards: ``pairs/<pivot>-<xx>/{split}-NNNNN-of-NNNNN.parquet``, a pair config's own rows.

The Hub viewer copies Parquet files as they are and ignores ``columns``/``filters`` in the card's
YAML, so a pair is only browsable (and loadable by plain ``datasets``) if it has files of its own.
A pair config ``en-de`` holds the columns talk_id, segment_id, en, de: the pair's rows composed
from the finest alignment exactly as ``ted2025.load_dataset(corpus, "en-de")`` composes them,
where both are present. They are written with the corpus writer's sharding (same row groups,
page index, zstd); the card only lists what is here.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import contract, languages
from .contract import ALIGNMENT_DIR, DATA_DIR, FORMAT_VERSION, MAX_CONFIGS, PAIRS_DIR, SHARD_NAME
from .write import SplitShards

PAIR_ROW_GROUP_BYTES = 8 * 1024 * 1024  # two text columns: small row groups keep the viewer's first page fast
PAIR_SHARD_BYTES = 256 * 1024 * 1024
LANGUAGES_PER_PASS = 16  # pairs written per scan of the data: bounds memory to 16 pending row groups


@dataclass(frozen=True)
class PairShards:
    """The pair configs as a step of the build, run on its staging folder before the commit.

    ``pivots``: write ``<pivot>-<xx>`` for these languages; ``None``: ``en`` when the corpus has
    English and another language; ``()``: none.
    """

    pivots: tuple[str, ...] | None = None

    def resolve(self, corpus_languages: list[str]) -> tuple[str, ...]:
        if self.pivots is None:  # default: en-xx for every xx, so that plain `datasets` loads pairs too
            return ("en",) if "en" in corpus_languages and len(corpus_languages) > 1 else ()
        return tuple(languages.get(code).code for code in self.pivots)

    def check(self, corpus_languages: list[str]) -> None:
        """Refuse pivots the source does not have, before the build does any work."""
        if missing := [code for code in self.resolve(corpus_languages) if code not in corpus_languages]:
            raise ValueError(f"--pair-configs {', '.join(missing)}: not in the source, which has {', '.join(corpus_languages)}")

    def __call__(self, root: Path) -> None:
        shards = sorted((root / DATA_DIR).glob("*.parquet"))
        if not shards:
            return  # a build that kept no rows has no pairs
        pivots = self.resolve(contract.recorded(pq.read_schema(shards[0])).get("languages", []))
        if pivots:
            write_pairs(root, list(pivots))


def pair_names(pivots: list[str], corpus_languages: list[str]) -> list[tuple[str, str]]:
    """(pivot, other) for each pivot and each other corpus language; a pair is listed once."""
    seen, pairs = set(), []
    for pivot in pivots:
        if pivot not in corpus_languages:
            raise ValueError(f"pair pivot {pivot!r} is not in the corpus; it has {', '.join(corpus_languages)}")
        for other in corpus_languages:
            if other != pivot and frozenset((pivot, other)) not in seen:
                seen.add(frozenset((pivot, other)))
                pairs.append((pivot, other))
    if len(pairs) + 1 > MAX_CONFIGS:
        warnings.warn(f"{len(pairs)} pair configs exceed the viewer's {MAX_CONFIGS} configs; "
                      f"keeping the first {MAX_CONFIGS - 1}", stacklevel=2)
        pairs = pairs[: MAX_CONFIGS - 1]
    return pairs


def write_pairs(root: Path, pivots: list[str]) -> dict[str, int]:
    """Write ``root/pairs/<pivot>-<xx>/`` for every corpus language xx; returns rows per config.

    The pairs are written into a staging folder and swapped in whole, replacing any earlier
    ``pairs/``. Each scan of the data reads the pivot and :data:`LANGUAGES_PER_PASS` other
    columns and filters them in Arrow.
    """
    data = root / DATA_DIR
    shards = sorted(data.glob("*.parquet"))
    if not shards:
        raise FileNotFoundError(f"no data shards in {data}")
    corpus = contract.recorded(pq.read_schema(shards[0]))  # languages and granularity of the build
    finest = sorted((root / ALIGNMENT_DIR).glob("*.parquet"))
    if corpus.get("format_version") != FORMAT_VERSION or not finest:
        raise FileNotFoundError(f"{root} has no {ALIGNMENT_DIR}/ shards of format version {FORMAT_VERSION}; "
                                "rebuild it with `ted2025 build`")
    pivots = [languages.get(code).code for code in pivots]
    pairs = pair_names(pivots, corpus["languages"])
    staging = root / f".{PAIRS_DIR}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    rows: dict[str, int] = {}
    for pivot in pivots:
        others = [other for p, other in pairs if p == pivot]
        for start in range(0, len(others), LANGUAGES_PER_PASS):
            group = others[start:start + LANGUAGES_PER_PASS]
            rows |= _write_pairs(staging, finest, pivot, group, corpus.get("granularity"))
    final = root / PAIRS_DIR
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return rows


def _write_pairs(staging: Path, shards: list[Path], pivot: str, others: list[str], granularity: str | None) -> dict[str, int]:
    """One scan of the finest table: the pairs (pivot, other) for each of ``others``, split by
    split, each composed on its own. A row group holds whole talks, so it is composed alone."""
    by_split: dict[str, list[Path]] = {}
    for path in shards:
        if match := SHARD_NAME.fullmatch(path.name):
            by_split.setdefault(match["split"], []).append(path)
    rows: dict[str, int] = {}
    for split in sorted(by_split):  # each split has files of its own: the order changes nothing
        writers: dict[str, SplitShards] = {}
        read = ["talk_id", contract.UNIT_COLUMN, *contract.TIME_COLUMNS, contract.BASE_MERGE,
                pivot, *others, *(contract.merge_column(code) for code in (pivot, *others))]
        for path in by_split[split]:
            parquet = pq.ParquetFile(path)
            for row_group in range(parquet.num_row_groups):
                finest_rows = parquet.read_row_group(row_group, columns=read)
                for other in others:
                    batch = contract.compose(finest_rows, [pivot, other])
                    mask = pc.and_(batch.column(pivot).is_valid(), batch.column(other).is_valid())
                    if not pc.any(mask).as_py():
                        continue
                    name = languages.subset_name([pivot, other])
                    if name not in writers:
                        (staging / name).mkdir(exist_ok=True)
                        schema = pair_schema(pivot, other, granularity)
                        writers[name] = SplitShards(staging / name, split, schema, PAIR_ROW_GROUP_BYTES, PAIR_SHARD_BYTES)
                    columns = [batch.column(c).filter(mask).combine_chunks() for c in ("talk_id", "segment_id", pivot, other)]
                    writers[name].add(pa.RecordBatch.from_arrays(columns, schema=writers[name].schema))
        for name, writer in writers.items():
            writer.close()
            rows[name] = rows.get(name, 0) + writer.num_rows
    return rows


def pair_schema(pivot: str, other: str, granularity: str | None) -> pa.Schema:
    meta = {"format_version": FORMAT_VERSION, "languages": [pivot, other], "granularity": granularity}
    fields = [
        pa.field("talk_id", pa.int64(), nullable=False),
        pa.field("segment_id", pa.int32(), nullable=False),
        pa.field(pivot, pa.string()),
        pa.field(other, pa.string()),
    ]
    # Not the wide table's "ted2025" key: ted2025.load_dataset must never take a pair file for a shard.
    return pa.schema(fields, metadata={b"ted2025_pair": json.dumps(meta).encode()})
