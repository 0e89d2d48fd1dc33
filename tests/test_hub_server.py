"""The loopback Hub answers huggingface_hub's read calls as the Hub does."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

from hub_server import HubServer, hub_environment

FILES = {"README.md": b"# card\n", "data/train-00000-of-00001.parquet": bytes(range(256)) * 40, "data/x/y.txt": b"y"}


@pytest.fixture
def hub(tmp_path, monkeypatch):
    repo = tmp_path / "hub" / "org" / "name"
    for path, content in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content)
    with HubServer(tmp_path / "hub", page_size=2) as server:
        hub_environment(monkeypatch, server.url, tmp_path / "hf_home")
        yield server


def test_repo_info_and_revisions(hub):
    api = HfApi(endpoint=hub.url)
    info = api.dataset_info("org/name")
    assert len(info.sha) == 40 and sorted(s.rfilename for s in info.siblings) == sorted(FILES)
    assert api.dataset_info("org/name", revision=info.sha).sha == info.sha
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info("org/name", revision="v2")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("org/other")


def test_tree_is_paginated_and_recursive(hub):
    api = HfApi(endpoint=hub.url)
    everything = {f.path for f in api.list_repo_tree("org/name", repo_type="dataset", recursive=True)}
    assert everything == set(FILES) | {"data", "data/x"}
    assert sum("/tree/" in path for _, path in hub.requests) == 3  # 5 entries, 2 per page
    top = {f.path for f in api.list_repo_tree("org/name", repo_type="dataset")}
    assert top == {"README.md", "data"}
    assert {f.path for f in api.list_repo_tree("org/name", "data", repo_type="dataset")} == {
        "data/train-00000-of-00001.parquet", "data/x"}


def test_paths_info_and_blob_ids(hub):
    found = HfApi(endpoint=hub.url).get_paths_info("org/name", ["README.md", "data", "nope"], repo_type="dataset")
    assert [f.path for f in found] == ["README.md", "data"]
    git_blob_id = hashlib.sha1(b"blob 7\0# card\n").hexdigest()
    assert found[0].blob_id == git_blob_id and found[0].size == 7


def test_downloads_and_ranges(hub, tmp_path):
    path = hf_hub_download("org/name", "data/train-00000-of-00001.parquet", repo_type="dataset")
    assert open(path, "rb").read() == FILES["data/train-00000-of-00001.parquet"]
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("org/name", "missing.txt", repo_type="dataset")
    folder = snapshot_download("org/name", repo_type="dataset", allow_patterns=["data/x/*"])
    assert (tmp_path / "hf_home" / "hub").as_posix() in folder
    url = f"{hub.url}/datasets/org/name/resolve/main/README.md"
    assert httpx.get(url, headers={"Range": "bytes=2-5"}).content == b"card"
    assert httpx.get(url, headers={"Range": "bytes=-2"}).status_code == 206
    assert httpx.get(url, headers={"Range": "bytes=99-"}).status_code == 416
    head = httpx.head(url)
    assert head.headers["Content-Length"] == "7" and head.headers["X-Repo-Commit"]


def test_hf_file_system_reads_byte_ranges(hub):
    fs = HfFileSystem(endpoint=hub.url, skip_instance_cache=True)
    data = FILES["data/train-00000-of-00001.parquet"]
    with fs.open("datasets/org/name/data/train-00000-of-00001.parquet", "rb", block_size=1000) as f:
        f.seek(5000)
        assert f.read(300) == data[5000:5300]
    assert set(fs.ls("datasets/org/name/data", detail=False)) == {
        "datasets/org/name/data/train-00000-of-00001.parquet", "datasets/org/name/data/x"}
    assert any(method == "GET" and "/resolve/" in path for method, path in hub.requests)
