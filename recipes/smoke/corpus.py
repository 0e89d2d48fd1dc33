"""The smoke profile's corpus: built on first use where the smoke configs name it (``dataset_name``
with ``build_smoke_corpus: true``), from real TED text where the project's shared data sits beside
the repository (``../shared``), else from the demo's synthetic CLDR sample. Nothing is downloaded."""

from __future__ import annotations

import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_TED_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "ted_real" / "wit3_iwslt17_test"
SMOKE_SPLITS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def smoke_corpus(dataset_name: str) -> str:
    """The smoke corpus in the folder ``dataset_name``, built there on first use, and again when it
    was built in an older corpus format."""
    from builder.compose import build_corpus
    from builder.contract import FORMAT_VERSION, REPORT
    from builder.pipeline import BuildSettings

    out = Path(dataset_name)
    report = out / REPORT
    if not report.is_file() or json.loads(report.read_text(encoding="utf-8")).get("format_version") != FORMAT_VERSION:
        source = SHARED_TED_SAMPLE
        if not source.is_dir():
            from builder.fixtures.sample import write_sample

            source = out.with_name(out.name + "-sample-raw")
            write_sample(source)
        logger.info("building the smoke corpus %s from %s", out, source)
        build_corpus(source, out, BuildSettings(splits=SMOKE_SPLITS), progress=False)
    return str(out)
