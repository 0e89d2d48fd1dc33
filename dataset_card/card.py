"""Fill the dataset card (``README.md``) of a built corpus from its build report, files and statistics.

:func:`write_card` is the card stage: figures, then the card itself, rendered from
``template.md`` with huggingface_hub's ``DatasetCard.from_template``. Everything the card says is
read from the corpus folder (the pair configs are those the build's pair step wrote), and the
card writes no data, so ``ted2025 card OUT`` re-renders it at any time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

from builder import languages
from builder.contract import ALIGNMENT_DIR, CARD, REPORT
from builder.records import Drop

from . import configs as viewer_configs
from . import figures as card_figures

TEMPLATE = Path(__file__).with_name("template.md")
CARD_NAME = CARD
PLACEHOLDER_REPO = "ORG/NAME"
LICENSE = "cc-by-nc-nd-4.0"
PAPER_URL = "https://arxiv.org/abs/2505.14045"
SIZE_CATEGORIES = [(1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"), (1e6, "100K<n<1M"), (1e7, "1M<n<10M"),
                   (1e8, "10M<n<100M"), (1e9, "100M<n<1B"), (1e10, "1B<n<10B")]
PARALLELISM_MILESTONES = (2, 3, 5, 10, 20, 30, 50, 80, 100)


def write_card(
    root: str | os.PathLike,
    *,
    repo_id: str | None = None,
    figures: bool = True,
    top_languages: int = card_figures.TOP_LANGUAGES,
) -> Path:
    """Write ``root/README.md`` (and ``root/figures/``), listing the configs on disk.

    Args:
        root: a built corpus folder (it has ``build_report.json``).
        repo_id: the Hub repo the card's loading examples name (default: a placeholder).
        figures: draw the figures (reads every data shard once); ``False`` links those already drawn.
        top_languages: languages in the coverage heatmap.
    """
    root = Path(root)
    report = load_report(root)
    configs = viewer_configs.discover(root, _split_order(report))
    if figures:
        shards = sorted((root / ALIGNMENT_DIR).glob("*.parquet")) if configs else []  # coverage counts composed rows
        drawn = card_figures.render(root, report["languages"], {int(k): v for k, v in report["parallelism"].items()},
                                    shards, top_languages)
    else:
        drawn = card_figures.existing(root)
    card = render_card(root, report, configs, drawn, repo_id)
    path = root / CARD_NAME
    partial = root / f".{CARD_NAME}.partial"
    card.save(partial)
    os.replace(partial, path)
    return path


def load_report(root: Path) -> dict:
    path = root / REPORT
    if not path.is_file():
        raise FileNotFoundError(f"{root} is not a built corpus: no {REPORT} (run `ted2025 build` first)")
    return json.loads(path.read_text(encoding="utf-8"))


def is_synthetic(root: Path, report: dict) -> bool:
    """Built from generated text (a store written by `ted2025 sample` or `ted2025 synth`)."""
    # `ted2025 synth` and `ted2025 sample` mark their stores; the build copies the marker into
    # build_report.json. Titles are no evidence: a real talk may be called "Synthetic biology".
    return bool(report.get("source", {}).get("synthetic"))


def render_card(root: Path, report: dict, configs: list, drawn: list, repo_id: str | None) -> DatasetCard:
    synthetic = is_synthetic(root, report)
    data = card_data(report, configs, synthetic)
    context = corpus_facts(root, report, configs, drawn, synthetic, repo_id or PLACEHOLDER_REPO)
    return DatasetCard.from_template(data, template_path=str(TEMPLATE), corpus=context)


def card_data(report: dict, configs: list, synthetic: bool) -> DatasetCardData:
    """The card's YAML metadata."""
    langs = _corpus_languages(report)
    iso_codes = list(dict.fromkeys(lang.iso639_1 or lang.iso639_3 for lang in langs))
    licence = {"license": LICENSE}
    if synthetic:  # the sample's text is Unicode CLDR data, not TED's
        licence = {"license": "other", "license_name": "unicode-license-v3",
                   "license_link": "https://www.unicode.org/license.txt"}
    return DatasetCardData(
        pretty_name="TED2025 (SYNTHETIC sample, not TED data)" if synthetic else "TED2025",
        language=iso_codes,
        language_details=[lang.code for lang in langs],
        **licence,
        multilinguality=["multilingual", "translation"],
        task_categories=["translation", "text-generation"],
        size_categories=[_size_category(report["rows"])],
        tags=["ted", "parallel-corpus", "multi-way-parallel"] + (["synthetic"] if synthetic else []),
        **viewer_configs.to_card_data(configs),
    )


def corpus_facts(root: Path, report: dict, configs: list, drawn: list, synthetic: bool, repo_id: str) -> dict:
    """Everything the template's body says, as plain values."""
    langs = _corpus_languages(report)
    segments = report["languages"]
    by_segments = sorted(langs, key=lambda lang: (-segments[lang.code], languages.rank(lang.code)))
    rows_by_degree = {int(k): v for k, v in report["parallelism"].items()}
    max_degree = max(rows_by_degree, default=0)
    settings = report.get("settings", {})
    filters = settings.get("filters", {})
    example = [lang.code for lang in by_segments[:3]]
    example.sort(key=languages.rank)
    return {
        "synthetic": synthetic,
        "repo_id": repo_id,
        "paper_url": PAPER_URL,
        "talks": report["talks"]["written"],
        "rows": report["rows"],
        "cells": report["cells"]["kept"],
        "num_languages": len(langs),
        "max_degree": max_degree,
        "at_least": [(k, sum(v for d, v in rows_by_degree.items() if d >= k))
                     for k in PARALLELISM_MILESTONES if k <= max_degree],
        "splits": [{"name": name, **report["splits"][name]} for name in _split_order(report)],
        "configs": [{"name": c.name, "default": c.default, "languages": c.languages, "rows": c.num_rows_by_split,
                     "folder": c.folder} for c in configs],
        "pair_configs": [c.name for c in configs if not c.default],
        "figures": drawn,
        "languages": [{"code": lang.code, "name": lang.name, "iso": lang.iso639_1 or lang.iso639_3,
                       "script": lang.script, "segments": segments[lang.code]} for lang in by_segments],
        "source": _source(report),
        "granularity": settings.get("granularity"),
        "min_languages": settings.get("min_languages"),
        "merge_quorum": settings.get("merge_quorum"),
        "cuts": report.get("alignment", {}).get("cuts_total", 0),
        "split_fractions": settings.get("splits", {}),
        "filters": filters,
        "cues": report["cues"],
        "drops": [{"reason": reason, "count": count, "what": _drop_text(reason).format(**filters, **settings)}
                  for reason, count in report["cells"]["dropped"].items()],
        "dropped_total": sum(report["cells"]["dropped"].values()),
        "skipped_talks": report["talks"].get("skipped", {}),
        "skipped_tracks": report["tracks"].get("skipped", {}),
        "versions": report.get("versions", {}),
        "example_subset": languages.subset_name(example) if example else "en-de",
        "example_columns": example[:2] or ["en", "de"],
    }


def _drop_text(reason: str) -> str:
    """What the card says about a drop reason (a reason this version does not know: the report)."""
    try:
        return Drop(reason).what
    except ValueError:
        return f"see {REPORT}"


def _source(report: dict) -> dict:
    """What the corpus was built from, for the card's provenance and attribution. The formats
    come from the build report (tracks read per format), not from the source folder, which may
    be gone or elsewhere by the time the card is rendered or pushed."""
    source = report.get("source", {})
    formats = {name for name, tracks in (source.get("formats") or {}).items() if tracks}
    return {"kind": source.get("kind"), "name": Path(source.get("path", "")).name,
            "json": "json" in formats, "vtt": "vtt" in formats, "formats_known": bool(formats)}


def _corpus_languages(report: dict) -> list[languages.Language]:
    return sorted((languages.get(code) for code, cells in report["languages"].items() if cells),
                  key=lambda lang: languages.rank(lang.code))


def _split_order(report: dict) -> list[str]:
    """Splits with rows, in the order the build was asked for (train, validation, test)."""
    asked = list(report.get("settings", {}).get("splits", {}))
    present = [name for name, info in report["splits"].items() if info.get("num_rows")]
    return [name for name in asked if name in present] + [name for name in present if name not in asked]


def _size_category(rows: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if rows < limit), "n>1T")
