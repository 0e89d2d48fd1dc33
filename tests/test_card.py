"""The dataset card: YAML metadata, body, figures and pair configs, on real (WIT3) and synthetic builds.

Expected values are recomputed here from the registry, the build report and the Parquet files
read whole with pyarrow, never taken from the card code.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

import ted2025
from builder import languages
from builder.cli import main as cli
from builder.compose import build_corpus
from builder.contract import MAX_CONFIGS
from builder.fixtures.sample import write_sample
from builder.pairs import pair_names
from builder.pipeline import BuildSettings
from dataset_card import figures as card_figures
from dataset_card import write_card

SAMPLE_SPLITS = {"train": 0.6, "validation": 0.2, "test": 0.2}


@pytest.fixture(scope="module")
def wit3_corpus(wit3_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wit3") / "corpus"
    build_corpus(wit3_dir, out, workers=2, progress=False, pair_configs=("en",))
    return out


@pytest.fixture(scope="module")
def sample_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write_sample(root / "raw")
    build_corpus(root / "raw", root / "corpus", BuildSettings(splits=SAMPLE_SPLITS), workers=2, progress=False, pair_configs=())
    return root / "corpus"


def card_of(corpus: Path) -> DatasetCard:
    return DatasetCard.load(corpus / "README.md")


def report_of(corpus: Path) -> dict:
    return json.loads((corpus / "build_report.json").read_text())


def data_table(corpus: Path, split: str | None = None):
    pattern = f"{split}-*.parquet" if split else "*.parquet"
    return pq.read_table(sorted((corpus / "data").glob(pattern)))


def test_wit3_card_metadata(wit3_corpus):
    data = card_of(wit3_corpus).data.to_dict()
    report = report_of(wit3_corpus)
    corpus_langs = sorted((languages.get(code) for code in report["languages"]), key=lambda lang: languages.rank(lang.code))
    assert data["language"] == list(dict.fromkeys(lang.iso639_1 or lang.iso639_3 for lang in corpus_langs))
    assert all(2 <= len(code) <= 3 and code.isalpha() for code in data["language"])
    assert data["language_details"] == [lang.code for lang in corpus_langs]
    assert data["license"] == "cc-by-nc-nd-4.0"
    assert data["multilinguality"] == ["multilingual", "translation"]
    assert data["task_categories"] == ["translation", "text-generation"]
    assert data["size_categories"] == ["1K<n<10K"] and 1000 < report["rows"] < 10_000
    assert data["pretty_name"] == "TED2025"
    names = [config["config_name"] for config in data["configs"]]
    assert names[0] == "all" and data["configs"][0]["default"] is True
    others = [lang.code for lang in corpus_langs if lang.code != "en"]
    assert sorted(names[1:]) == sorted(languages.subset_name(["en", code]) for code in others)


def test_dataset_info_counts_are_exact(wit3_corpus, tmp_path):
    """Pair configs hold the pair's own rows (as ted2025.load_dataset composes them), at least
    as many as the all-way rows that have both languages."""
    infos = {info["config_name"]: info for info in card_of(wit3_corpus).data.to_dict()["dataset_info"]}
    report = report_of(wit3_corpus)
    for split, info in report["splits"].items():
        assert {s["name"]: s["num_examples"] for s in infos["all"]["splits"]}[split] == info["num_rows"]
        table = data_table(wit3_corpus, split).to_pydict()
        for code in report["languages"]:
            if code == "en":
                continue
            both = sum(1 for en, other in zip(table["en"], table[code]) if en is not None and other is not None)
            counts = {s["name"]: s["num_examples"] for s in infos[languages.subset_name(["en", code])]["splits"]}
            composed = ted2025.load_dataset(wit3_corpus, f"en-{code}", split=split, cache_dir=str(tmp_path))
            assert counts.get(split, 0) == composed.num_rows >= both, (code, split)


def test_wit3_card_body(wit3_corpus):
    text = (wit3_corpus / "README.md").read_text()
    body = card_of(wit3_corpus).text
    report = report_of(wit3_corpus)
    assert "SYNTHETIC" not in text
    for needle in ("From Unaligned to Aligned: Scaling Multilingual LLMs with Multi-Way Parallel Corpora", "EMNLP 2025",
                   "2505.14045", "CC BY-NC-ND 4.0", "TED Conferences LLC", "ted.com", "WIT3", "FBK", "@inproceedings",
                   "from ted2025 import load_dataset", 'columns=["talk_id", "segment_id"', "filters=[",
                   "verification_mode=\"no_checks\""):
        assert needle in body, needle
    assert "AColi" not in body  # WIT3 build: no Teddy attribution
    for reason, count in report["cells"]["dropped"].items():
        assert f"| `{reason}` |" in body and f"| {count:,} |" in body
    assert f"| talks | {report['talks']['written']:,} |" in body


def test_synthetic_build_says_so_at_the_top(sample_corpus):
    card = card_of(sample_corpus)
    first_lines = card.text.strip().splitlines()[:6]
    assert any("SYNTHETIC SAMPLE: NOT TED DATA" in line for line in first_lines)
    assert "SYNTHETIC" in card.data.pretty_name
    assert card.data.license == "other" and card.data.license_name == "unicode-license-v3"  # CLDR text, not TED's
    assert "synthetic" in card.data.tags


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_figures_are_linked_and_deterministic(sample_corpus, tmp_path):
    text = (sample_corpus / "README.md").read_text()
    for figure in card_figures.ALL_FIGURES:
        width, height = png_size(sample_corpus / figure.path)
        assert 500 <= width <= 4000 and 300 <= height <= 4000
        assert f"]({figure.path})" in text
    copy = shutil.copytree(sample_corpus, tmp_path / "copy")
    write_card(copy)
    for path in ["README.md", *(figure.path for figure in card_figures.ALL_FIGURES)]:
        assert (copy / path).read_bytes() == (sample_corpus / path).read_bytes(), path


def test_coverage_matrix_counts_each_pairs_own_rows(wit3_corpus, tmp_path):
    codes = ["en", "de", "ja", "zh-cn"]
    shards = sorted((wit3_corpus / "alignment").glob("*.parquet"))
    matrix = card_figures.coverage_matrix(shards, codes)
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            subset = [a] if a == b else [a, b]
            rows = ted2025.load_dataset(wit3_corpus, languages=subset, cache_dir=str(tmp_path))
            assert matrix[i, j] == sum(split.num_rows for split in rows.values()), (a, b)
    all_way = data_table(wit3_corpus).select(codes).to_pylist()
    assert matrix[0, 1] >= sum(1 for row in all_way if row["en"] is not None and row["de"] is not None)


def test_pair_files_hold_the_pairs_own_rows(wit3_corpus, tmp_path):
    """Each pair config holds what ted2025.load_dataset composes for the pair (rows with both)."""
    for folder in sorted((wit3_corpus / "pairs").iterdir()):
        pivot, other = (lang.code for lang in languages.parse_subset(folder.name))
        for path in sorted(folder.glob("*.parquet")):
            parquet = pq.ParquetFile(path)
            table = parquet.read()
            assert table.column_names == ["talk_id", "segment_id", pivot, other]
            assert table[pivot].null_count == 0 and table[other].null_count == 0
            row_group = parquet.metadata.row_group(0)
            assert row_group.column(0).compression == "ZSTD" and row_group.column(2).has_offset_index
            split = path.name.split("-")[0]
            composed = ted2025.load_dataset(wit3_corpus, folder.name, split=split, format="wide", cache_dir=str(tmp_path))
            assert table.to_pylist() == composed.select_columns(["talk_id", "segment_id", pivot, other]).to_list()


def test_card_command_adds_and_keeps_pair_configs(sample_corpus, tmp_path, capsys):
    corpus = shutil.copytree(sample_corpus, tmp_path / "corpus")
    assert not (corpus / "pairs").exists()
    assert cli(["card", str(corpus), "--pair-configs", "en", "--repo", "org/ted"]) == 0
    pairs = sorted(path.name for path in (corpus / "pairs").iterdir())
    assert len(pairs) == len(report_of(corpus)["languages"]) - 1 and "en-de" in pairs
    card = card_of(corpus)
    others = [code for code in sorted(report_of(corpus)["languages"], key=languages.rank) if code != "en"]
    assert [c["config_name"] for c in card.data.configs][1:] == [languages.subset_name(["en", code]) for code in others]
    assert 'load_dataset("org/ted"' in card.text
    assert cli(["card", str(corpus)]) == 0  # no flag: the pairs already there stay
    assert len(card_of(corpus).data.configs) == len(pairs) + 1
    assert not any(path.name.startswith(".") for path in corpus.iterdir())  # no staging left behind


def test_card_errors_are_clear(tmp_path, sample_corpus, capsys):
    assert cli(["card", str(tmp_path)]) == 2
    assert "no build_report.json" in capsys.readouterr().err
    corpus = shutil.copytree(sample_corpus, tmp_path / "corpus")
    assert cli(["card", str(corpus), "--pair-configs", "yue"]) == 2
    assert "not in the corpus" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects it
        cli(["card", str(corpus), "--pair-configs", "xx-yy"])
    assert "unknown language code" in capsys.readouterr().err


def test_build_checks_pair_pivots_before_building(tmp_path, capsys):
    write_sample(tmp_path / "raw")
    assert cli(["build", "--source", str(tmp_path / "raw"), "--out", str(tmp_path / "out"), "--quiet",
                "--pair-configs", "yue"]) == 2
    assert "not in the source" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_config_cap(recwarn):
    codes = list(languages.CODES)
    pairs = pair_names(codes, codes)
    assert len(pairs) == MAX_CONFIGS - 1  # + "all" = the viewer's limit
    assert any("exceed" in str(w.message) for w in recwarn)
    assert len({frozenset(pair) for pair in pairs}) == len(pairs)


def test_teddy_vtt_card_credits_the_acoli_corpora(vtt_dir, tmp_path):
    build_corpus(vtt_dir, tmp_path / "corpus", workers=1, progress=False)
    body = card_of(tmp_path / "corpus").text
    assert "HLS WebVTT" in body and "AColi Corpora" in body and "acoli-repo/acoli-corpora" in body
    assert "CC BY-NC-ND 4.0" in body and "TED Conferences LLC" in body
    assert "WIT3" not in body.split("## Licence")[1]


def test_plain_datasets_loads_every_pair_config_with_the_loaders_rows(wit3_corpus, tmp_path):
    """Without our package: datasets' own Parquet builder, driven by the card's configs and exact
    split sizes (default verification), gives the rows ted2025.load_dataset composes."""
    import datasets

    report = report_of(wit3_corpus)
    for code in (c for c in report["languages"] if c != "en"):
        name = languages.subset_name(["en", code])
        plain = datasets.load_dataset(str(wit3_corpus), name, cache_dir=str(tmp_path / "plain"))
        ours = ted2025.load_dataset(wit3_corpus, name, format="wide", cache_dir=str(tmp_path / "ours"))
        assert set(plain) == set(ours) == set(report["splits"])
        for split in plain:
            assert plain[split].column_names == ["talk_id", "segment_id", "en", code]
            assert plain[split].to_list() == ours[split].select_columns(["talk_id", "segment_id", "en", code]).to_list()
