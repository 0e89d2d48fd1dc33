"""The configs the Hub viewer shows: ``all`` (the wide table) and the pair configs on disk.

The viewer copies Parquet files as they are and ignores ``columns``/``filters`` in the card's
YAML, so a config is only browsable if it has files of its own. ``all`` is ``data/``; a pair
config ``en-de`` is ``pairs/en-de/{split}-NNNNN-of-NNNNN.parquet``, written by the build's pair
step (:mod:`builder.pairs`). The viewer shows at most :data:`MAX_CONFIGS` configs.

Configs are discovered from the files on disk, so the card always describes what is there;
nothing here writes data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow.parquet as pq
from datasets.info import DatasetInfosDict

from builder import languages
from builder.contract import DATA_DIR, MAX_CONFIGS, PAIRS_DIR, SHARD_NAME

ALL = "all"


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
    configs = [_config(ALL, root, DATA_DIR, split_order, default=True)]
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
        if match := SHARD_NAME.fullmatch(path.name):
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
