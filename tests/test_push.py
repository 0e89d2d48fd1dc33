"""`ted2025 push` against the loopback Hub: the real huggingface_hub client creates the repo,
preuploads, uploads LFS objects and commits; ted2025.load_dataset then reads the repo back.

Counts of upload requests come from the server's request log: PUT /lfs/objects/<sha256> is one
LFS upload, POST .../commit/main one commit.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, HfApi
from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

import ted2025
from builder.cli import main as cli
from builder.compose import build_corpus
from builder.fixtures.sample import write_sample
from builder.pipeline import BuildSettings
from builder.push import local_files
from dataset_card import write_card

from hub_server import HubServer, Response, hub_environment

# huggingface_hub's own LFS upload passes `data=` to httpx; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

REPO = "org/ted"
TOKEN = "hf_loopbackSecret0123456789abcdefXYZ"
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("built")
    write_sample(root / "raw")
    settings = BuildSettings(splits={"train": 0.6, "validation": 0.2, "test": 0.2})
    build_corpus(root / "raw", root / "corpus", settings, workers=2, progress=False, pair_configs=("en",))
    return root / "corpus"


@pytest.fixture
def corpus(built, tmp_path) -> Path:
    return shutil.copytree(built, tmp_path / "corpus")  # push re-renders the card: one copy per test


@pytest.fixture
def hub(tmp_path, monkeypatch):
    with HubServer(tmp_path / "hub") as server:
        hub_environment(monkeypatch, server.url, tmp_path / "hf_home")
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        disable_progress_bars()
        try:
            yield server
        finally:
            enable_progress_bars()


def uploads(server: HubServer) -> list[str]:
    return [path for method, path in server.requests if method == "PUT" and path.startswith("/lfs/objects/")]


def commits(server: HubServer) -> list[str]:
    return [path for method, path in server.requests if method == "POST" and path.endswith("/commit/main")]


def remote_files(server: HubServer, repo: str = REPO) -> dict[str, bytes]:
    return {path: (server.root / repo / path).read_bytes() for path in server.files(repo)}


def local_bytes(corpus: Path) -> dict[str, bytes]:
    return {file.path: file.local.read_bytes() for file in local_files(corpus)}


def test_push_is_private_and_reads_back(hub, corpus, capsys):
    assert cli(["push", str(corpus), "--repo", REPO, "--batch-files", "20"]) == 0
    assert "(private)" in capsys.readouterr().out
    assert hub.private[REPO] is True
    assert remote_files(hub) == local_bytes(corpus)
    binary = [path for path in local_bytes(corpus) if path.endswith((".parquet", ".png"))]
    assert len(uploads(hub)) == len(binary)  # Parquet and PNG through LFS; README and JSON inline
    assert len(commits(hub)) == -(-(len(local_bytes(corpus)) - 2) // 20) + 1  # batches, then card + report
    assert f'load_dataset("{REPO}"' in DatasetCard.load(corpus / "README.md").text
    tree = {entry.path: entry for entry in HfApi().list_repo_tree(REPO, repo_type="dataset", recursive=True)}
    local = {file.path: file for file in local_files(corpus)}
    assert tree["README.md"].lfs is None and tree["README.md"].blob_id == local["README.md"].git_blob_id
    shard = "data/train-00000-of-00001.parquet"
    assert tree[shard].lfs.sha256 == local[shard].sha256 and tree[shard].blob_id != local[shard].git_blob_id
    assert any(auth == f"Bearer {TOKEN}" for auth in hub.authorizations)

    local = ted2025.load_dataset(str(corpus), "en-de-ja", split="train")
    remote = ted2025.load_dataset(REPO, "en-de-ja", split="train")
    assert remote.to_list() == local.to_list() and len(remote) > 0
    # The viewer's way, over the same endpoint: a pair config from the card's YAML, streamed.
    first = next(iter(datasets.load_dataset(REPO, "en-de", split="train", streaming=True)))
    assert list(first) == ["talk_id", "segment_id", "en", "de"] and first["en"] and first["de"]
    # Plain datasets, prepared with its default verification of the card's split sizes: the
    # pair's own rows, as ted2025 composes them.
    plain = datasets.load_dataset(REPO, "en-de", split="train")
    ours = ted2025.load_dataset(REPO, "en-de", split="train", format="wide")
    assert plain.to_list() == ours.select_columns(["talk_id", "segment_id", "en", "de"]).to_list() and len(plain) > 0


def test_repush_sends_only_what_changed(hub, corpus):
    assert cli(["push", str(corpus), "--repo", REPO]) == 0
    hub.requests.clear()
    assert cli(["push", str(corpus), "--repo", REPO]) == 0
    assert uploads(hub) == [] and commits(hub) == []
    assert not any("/preupload/" in path for _, path in hub.requests)

    write_card(corpus, top_languages=3, repo_id=REPO)  # redraws the heatmap only
    hub.requests.clear()
    assert cli(["push", str(corpus), "--repo", REPO]) == 0
    assert len(uploads(hub)) == 1 and len(commits(hub)) == 1
    assert remote_files(hub) == local_bytes(corpus)


def test_stale_files_are_deleted_with_the_last_commit(hub, corpus):
    assert cli(["push", str(corpus), "--repo", REPO]) == 0
    shutil.rmtree(corpus / "pairs" / "en-de")
    write_card(corpus, figures=False)
    assert cli(["push", str(corpus), "--repo", REPO]) == 0
    assert not any(path.startswith("pairs/en-de/") for path in hub.files(REPO))
    assert remote_files(hub) == local_bytes(corpus)


def test_an_interrupted_push_resumes(hub, corpus, monkeypatch):
    real_dispatch = hub.dispatch
    commits_seen = []

    def dispatch_failing_the_third_commit(method, target, body, headers):
        if method == "POST" and target.split("?")[0].endswith("/commit/main"):
            commits_seen.append(target)
            if len(commits_seen) == 3:
                return Response(500, b'{"error": "connection lost"}', {"Content-Type": "application/json"})
        return real_dispatch(method, target, body, headers)

    monkeypatch.setattr(hub, "dispatch", dispatch_failing_the_third_commit)
    assert cli(["push", str(corpus), "--repo", REPO, "--batch-files", "10"]) == 1
    kept = set(hub.files(REPO))
    assert len(kept) == 20 and "README.md" not in kept  # two batches committed, no card yet
    sent_before = set(uploads(hub))  # includes the third batch's objects, uploaded before its commit failed
    monkeypatch.setattr(hub, "dispatch", real_dispatch)
    hub.requests.clear()
    assert cli(["push", str(corpus), "--repo", REPO, "--batch-files", "10"]) == 0
    assert uploads(hub) and not set(uploads(hub)) & sent_before  # no object is sent twice
    assert remote_files(hub) == local_bytes(corpus)


def test_public_needs_the_licence_flag(hub, corpus, capsys):
    assert cli(["push", str(corpus), "--repo", REPO, "--public"]) == 2
    err = capsys.readouterr().err
    assert "--i-accept-cc-by-nc-nd" in err and "CC BY-NC-ND 4.0" in err
    assert hub.requests == [] and not (hub.root / REPO).exists()
    assert cli(["push", str(corpus), "--repo", REPO, "--public", "--i-accept-cc-by-nc-nd"]) == 0
    assert hub.private[REPO] is False


def test_existing_public_repo_needs_the_flags_too(hub, corpus, capsys):
    (hub.root / REPO).mkdir(parents=True)  # a repo someone made public
    assert cli(["push", str(corpus), "--repo", REPO]) == 2
    assert "already exists and is PUBLIC" in capsys.readouterr().err
    assert hub.files(REPO) == []
    hub.private[REPO] = True  # a private repo is made public only with both flags
    assert cli(["push", str(corpus), "--repo", REPO, "--public", "--i-accept-cc-by-nc-nd"]) == 0
    assert hub.private[REPO] is False


def test_missing_token_and_bad_folder(hub, corpus, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("builder.push.get_token", lambda: None)
    monkeypatch.delenv("HF_TOKEN")
    assert cli(["push", str(corpus), "--repo", REPO]) == 2
    assert "no Hugging Face token" in capsys.readouterr().err
    assert cli(["push", str(tmp_path), "--repo", REPO]) == 2
    assert "not a built corpus" in capsys.readouterr().err


def test_token_is_never_printed(hub, corpus, tmp_path):
    """A real `ted2025 push` process, with huggingface_hub logging at debug level."""
    env = {**os.environ, "HF_TOKEN": TOKEN, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1",
           "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_VERBOSITY": "debug", "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, "-m", "builder.cli", "push", str(corpus), "--repo", REPO],
                            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "commit 1/" in result.stdout and "(authenticated: True)" in result.stderr  # the debug log did run
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    assert f"Bearer {TOKEN}" in hub.authorizations  # yet the client did send it


def test_token_is_not_logged_in_process(hub, corpus, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("huggingface_hub").setLevel(logging.DEBUG)
        try:
            assert cli(["push", str(corpus), "--repo", REPO]) == 0
        finally:
            logging.getLogger("huggingface_hub").setLevel(logging.WARNING)
    captured = capsys.readouterr()
    assert caplog.records and TOKEN not in caplog.text
    assert TOKEN not in captured.out + captured.err
