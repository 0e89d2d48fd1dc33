"""The configs the Hub viewer shows: ``all`` (the wide table) and optional pair configs.

The viewer copies Parquet files as they are and ignores ``columns``/``filters`` in the card's
YAML, so a config is only browsable if it has files of its own. ``all`` is ``data/``; a pair
config ``en-de`` is ``pairs/en-de/{split}-NNNNN-of-NNNNN.parquet`` with the columns talk_id,
segment_id, en, de: the pair's own rows, composed from the finest alignment exactly as
``ted2025.load_dataset(corpus, "en-de")`` composes them, where both are present. The viewer shows at most
:data:`MAX_CONFIGS` configs.

Configs are discovered from the files on disk, so the card always describes what is there.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets.info import DatasetInfosDict

from builder import contract, languages
from builder.contract import ALIGNMENT_DIR, FORMAT_VERSION, SHARD_NAME
from builder.write import SplitShards  # the corpus writer's sharding: same row groups, page index, zstd

ALL = "all"
PAIRS_DIR = "pairs"
MAX_CONFIGS = 3000  # the Hub allows at most this many configs
PAIR_ROW_GROUP_BYTES = 8 * 1024 * 1024  # two text columns: small row groups keep the viewer's first page fast
PAIR_SHARD_BYTES = 256 * 1024 * 1024
LANGUAGES_PER_PASS = 16  # pairs written per scan of the data: bounds memory to 16 pending row groups
SHARD = SHARD_NAME  # data/<split>-NNNNN-of-NNNNN.parquet, as the loader reads them


@dataclass
class Config:
    """One viewer config: its name, folder (relative to the corpus root) and files per split."""

    name: str
    folder: str
    files_by_split: dict[str, list[Path]]
    languages: tuple[str, ...] = ()
    default: bool = False
    num_rows_by_split: dict[str, int] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return sum(self.num_rows_by_split.values())

    def yaml(self) -> dict:
        """The entry under ``configs:`` in the card."""
        entry = {
            "config_name": self.name,
            "data_files": [{"split": split, "path": f"{self.folder}/{split}-*.parquet"} for split in self.files_by_split],
        }
        if self.default:
            entry["default"] = True
        return entry

    def info(self) -> datasets.DatasetInfo:
        """``dataset_info`` for the card: features and exact row counts, from the Parquet footers."""
        splits = datasets.SplitDict()
        download_size = 0
        schema = None
        for split, paths in self.files_by_split.items():
            num_bytes = 0
            for path in paths:
                metadata = pq.read_metadata(path)
                schema = schema or metadata.schema.to_arrow_schema()
                num_bytes += sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
                download_size += path.stat().st_size
            splits[split] = datasets.SplitInfo(split, num_bytes=num_bytes, num_examples=self.num_rows_by_split[split])
        features = datasets.Features.from_arrow_schema(schema.remove_metadata())
        dataset_size = sum(info.num_bytes for info in splits.values())
        return datasets.DatasetInfo(features=features, splits=splits, download_size=download_size, dataset_size=dataset_size)


def discover(root: Path, split_order: list[str]) -> list[Config]:
    """``all`` first (the default), then each folder under ``pairs/``, by registry order; none for an empty corpus."""
    configs = [_config(ALL, root, "data", split_order, default=True)]
    if not configs[0].files_by_split:
        return []  # a build that kept no rows has no data files to show
    pairs_dir = root / PAIRS_DIR
    if pairs_dir.is_dir():
        pairs = []
        for folder in pairs_dir.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                try:
                    codes = tuple(lang.code for lang in languages.parse_subset(folder.name))
                except ValueError as e:
                    raise ValueError(f"{folder} is not a pair config folder (named like en-de): {e}") from None
                pairs.append(_config(folder.name, root, f"{PAIRS_DIR}/{folder.name}", split_order, languages=codes))
        pairs = [config for config in pairs if config.files_by_split]
        configs += sorted(pairs, key=lambda config: [languages.rank(code) for code in config.languages])
    if len(configs) > MAX_CONFIGS:
        raise ValueError(f"{root} has {len(configs)} configs; the Hub viewer shows at most {MAX_CONFIGS}")
    return configs


def _config(name: str, root: Path, folder: str, split_order: list[str], **kwargs) -> Config:
    found: dict[str, list[tuple[int, Path]]] = {}
    for path in (root / folder).glob("*.parquet"):
        if match := SHARD.fullmatch(path.name):
            found.setdefault(match["split"], []).append((int(match["index"]), path))
    order = split_order + sorted(set(found) - set(split_order))
    files_by_split = {split: [path for _, path in sorted(found[split])] for split in order if split in found}
    rows = {split: sum(pq.read_metadata(path).num_rows for path in paths) for split, paths in files_by_split.items()}
    return Config(name, folder, files_by_split, num_rows_by_split=rows, **kwargs)


def to_card_data(configs: list[Config]) -> dict:
    """``configs`` and ``dataset_info`` for the card's YAML, in the form ``datasets`` writes and reads."""
    if not configs:
        return {}
    card_data: dict = {"configs": [config.yaml() for config in configs]}
    infos = DatasetInfosDict({config.name: config.info() for config in configs})
    infos.to_dataset_card_data(card_data)
    return card_data


# --------------------------------------------------------------------------------------------
# Pair configs
# --------------------------------------------------------------------------------------------


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
                      f"keeping the first {MAX_CONFIGS - 1}")
        pairs = pairs[: MAX_CONFIGS - 1]
    return pairs


def materialise_pairs(root: Path, pivots: list[str], split_order: list[str]) -> dict[str, int]:
    """Write ``root/pairs/<pivot>-<xx>/`` for every corpus language xx; returns rows per config.

    The pairs are written into a staging folder and swapped in whole, replacing any earlier
    ``pairs/``. Each scan of the data reads the pivot and :data:`LANGUAGES_PER_PASS` other
    columns and filters them in Arrow.
    """
    data = root / "data"
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
            rows |= _write_pairs(staging, finest, pivot, group, split_order, corpus.get("granularity"))
    final = root / PAIRS_DIR
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return rows


def _write_pairs(
    staging: Path, shards: list[Path], pivot: str, others: list[str], split_order: list[str], granularity: str | None
) -> dict[str, int]:
    """One scan of the finest table: the pairs (pivot, other) for each of ``others``, split by
    split, each composed on its own. A row group holds whole talks, so it is composed alone."""
    by_split: dict[str, list[Path]] = {}
    for path in shards:
        if match := SHARD.fullmatch(path.name):
            by_split.setdefault(match["split"], []).append(path)
    rows: dict[str, int] = {}
    for split in [s for s in split_order if s in by_split] + sorted(set(by_split) - set(split_order)):
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
