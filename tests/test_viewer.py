"""The Hub dataset viewer's steps, emulated with `datasets` on built corpus folders.

The viewer reads the card's YAML to list configs and splits, copies the Parquet files as they
are (it ignores `columns`/`filters` in the YAML, so each config needs files of its own), reads
the first rows, and refuses row groups it cannot page through. Each step is checked here on a
synthetic build and, when ../shared has it, on the WIT3 build.

`DatasetCard.validate()` is not called: it POSTs the card to `{HF_ENDPOINT}/api/validate-yaml`,
i.e. it needs the network. The metadata is validated locally instead: it round-trips through
`DatasetCardData`, and `datasets` parses its `configs` and `dataset_info` as the Hub does.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from datasets.exceptions import NonMatchingSplitsSizesError
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard, DatasetCardData, metadata_load

from builder.compose import build_corpus
from builder.fixtures.sample import write_sample
from builder.pipeline import BuildSettings

MAX_ROW_GROUP_BYTES = 100 * 1024 * 1024  # the viewer's limit on a row group, uncompressed


@pytest.fixture(scope="module", params=["sample", "wit3"])
def corpus(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "wit3":
        source = request.getfixturevalue("wit3_dir")
        settings = BuildSettings()
    else:
        source = root / "raw"
        write_sample(source)
        settings = BuildSettings(splits={"train": 0.6, "validation": 0.2, "test": 0.2})
    build_corpus(source, root / "corpus", settings, workers=2, progress=False, pair_configs=("en",))
    return root / "corpus"


def declared(corpus: Path) -> dict[str, dict]:
    """config name -> its dataset_info from the card, parsed the way `datasets` parses it."""
    card = DatasetCard.load(corpus / "README.md")
    return {name: info for name, info in DatasetInfosDict.from_dataset_card_data(card.data).items()}


def test_config_names_and_default(corpus):
    card = DatasetCard.load(corpus / "README.md")
    names = [config["config_name"] for config in card.data.configs]
    assert datasets.get_dataset_config_names(str(corpus)) == names
    assert datasets.get_dataset_default_config_name(str(corpus)) == "all"
    assert names[0] == "all" and len(names) > 1
    assert set(declared(corpus)) == set(names)


def test_every_config_streams_its_first_rows(corpus):
    infos = declared(corpus)
    for name, info in infos.items():
        splits = datasets.get_dataset_split_names(str(corpus), name)
        assert splits == list(info.splits), name
        streamed = datasets.load_dataset(str(corpus), name, streaming=True)
        for split in splits:
            rows = list(streamed[split].take(5))
            assert rows, (name, split)
            assert list(rows[0]) == list(info.features), name
            if name != "all":  # a pair config holds only rows with both languages
                assert all(value is not None for row in rows for value in row.values())


def test_every_config_loads_with_the_declared_sizes(corpus, tmp_path):
    # The default verification compares each split with the card's num_examples.
    for name, info in declared(corpus).items():
        loaded = datasets.load_dataset(str(corpus), name, cache_dir=str(tmp_path))
        assert {split: len(rows) for split, rows in loaded.items()} == {
            split: split_info.num_examples for split, split_info in info.splits.items()}


def test_documented_datasets_call(corpus, tmp_path):
    """The card's `datasets.load_dataset(repo, "all", columns=..., filters=...)` call, on the folder."""
    codes = ["en", "de"]
    kwargs = dict(columns=["talk_id", "segment_id", *codes], filters=[(code, "!=", "") for code in codes],
                  cache_dir=str(tmp_path))
    loaded = datasets.load_dataset(str(corpus), "all", verification_mode="no_checks", **kwargs)
    for split, rows in loaded.items():
        wide = pq.read_table(sorted((corpus / "data").glob(f"{split}-*.parquet")), columns=["talk_id", "segment_id", *codes])
        expected = [row for row in wide.to_pylist() if all(row[code] is not None for code in codes)]
        assert rows.to_list() == expected
    # Why the card tells readers to pass verification_mode: the declared sizes are of the whole split.
    with pytest.raises(NonMatchingSplitsSizesError):
        datasets.load_dataset(str(corpus), "all", **(kwargs | {"cache_dir": str(tmp_path / "again")}))


def test_row_groups_fit_the_viewer(corpus):
    files = sorted(corpus.glob("data/*.parquet")) + sorted(corpus.glob("pairs/*/*.parquet"))
    assert files
    for path in files:
        metadata = pq.read_metadata(path)
        for index in range(metadata.num_row_groups):
            row_group = metadata.row_group(index)
            assert row_group.total_byte_size < MAX_ROW_GROUP_BYTES, path
            assert all(row_group.column(i).has_offset_index for i in range(row_group.num_columns)), path


def test_card_metadata_validates_locally(corpus):
    path = corpus / "README.md"
    card = DatasetCard.load(path)
    # Round trip: what huggingface_hub parses is what it writes back.
    assert DatasetCardData(**card.data.to_dict()).to_dict() == card.data.to_dict()
    assert DatasetCard(str(card)).data.to_dict() == card.data.to_dict()
    assert metadata_load(path) == card.data.to_dict()
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    for config in configs.values():
        MetadataConfigs._raise_if_data_files_field_not_valid(config)
    assert [name for name, config in configs.items() if config.get("default")] == ["all"]
    for info in declared(corpus).values():
        assert info.features is not None and info.splits and info.download_size > 0
