"""Shared test fixtures and helpers. Real TED data is read in place from ../shared and never copied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

TED_REAL = REPO_ROOT.parent / "shared" / "data" / "ted_real"
WIT3_DIR = TED_REAL / "wit3_iwslt17_test"
VTT_DIR = TED_REAL / "teddy_hls_vtt" / "vtt"
# What the recipes' subprocesses run with: offline, and no tokenizer threads forked into workers.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


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


def write_store(root: Path, talks: dict[int, dict[str, bytes]]) -> Path:
    """A raw store ``root/<talk_id>/<file name>`` with the given bytes in each file."""
    for talk_id, files in talks.items():
        folder = root / str(talk_id)
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    return root


def run(command: list[str]) -> subprocess.CompletedProcess:
    """A command from the README, in the repository root; its output is shown when it fails."""
    result = subprocess.run(command, cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return result


@pytest.fixture(scope="session")
def smoke_corpus() -> str:
    """`python recipes/smoke/corpus.py`, as the README writes it: the corpus the smoke configs read."""
    run([sys.executable, "recipes/smoke/corpus.py"])
    return str(REPO_ROOT / ".cache" / "ted2025" / "smoke-corpus")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> str:
    """`python recipes/smoke/make_tiny_model.py TINY`, as the README writes it: one per session."""
    out = tmp_path_factory.mktemp("tiny") / "TINY"
    run([sys.executable, "recipes/smoke/make_tiny_model.py", str(out)])
    return str(out)
