"""The smoke profile's corpus, built where the smoke configs name it (``dataset_name``), from real
TED text where the project's shared data sits beside the repository (``../shared``), else from the
demo's synthetic CLDR sample. Nothing is downloaded. Like the tiny model, it is made before the
smoke recipes run, so that the recipes themselves only read corpora::

    python recipes/smoke/corpus.py [OUT]     # OUT: .cache/ted2025/smoke-corpus, what the smoke configs read
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_TED_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "ted_real" / "wit3_iwslt17_test"
SMOKE_SPLITS = {"train": 0.6, "validation": 0.2, "test": 0.2}
SMOKE_CORPUS = ".cache/ted2025/smoke-corpus"  # the smoke configs' dataset_name, from the repository root


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


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the smoke profile's corpus (once; again after a format change).")
    parser.add_argument("out", nargs="?", default=str(REPO_ROOT / SMOKE_CORPUS),
                        help=f"corpus folder (default: {SMOKE_CORPUS} in the repository, what the smoke configs read)")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(smoke_corpus(parser.parse_args().out))


if __name__ == "__main__":
    main()
