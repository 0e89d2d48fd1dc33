"""Shared test fixtures. Real TED data is read in place from ../shared and never copied."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

TED_REAL = REPO_ROOT.parent / "shared" / "data" / "ted_real"
WIT3_DIR = TED_REAL / "wit3_iwslt17_test"
VTT_DIR = TED_REAL / "teddy_hls_vtt" / "vtt"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real TED data not found at {path} (it lives in ../shared beside the repo; CI has it)")
    return path


@pytest.fixture(scope="session")
def wit3_dir() -> Path:
    return _require(WIT3_DIR)


@pytest.fixture(scope="session")
def vtt_dir() -> Path:
    return _require(VTT_DIR)
