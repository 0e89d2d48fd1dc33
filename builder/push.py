"""Push stage: upload a built corpus folder to a Hub dataset repo, private unless told otherwise.

TED's licence is CC BY-NC-ND 4.0, so a repo is created **private**; a public push needs both
``public=True`` and ``licence_accepted=True``. The upload is resumable and incremental:

* every local file is compared with the repo's tree (the sha256 of LFS files, the git blob id of
  the others) and only new or changed files are sent;
* files go in batches, one commit per batch, so an interrupted push keeps what it committed and
  a rerun sends the rest (LFS/Xet objects already uploaded are not sent again either);
* the card (``README.md``) and ``build_report.json`` go in the last commit, with the deletion of stale files under
  ``data/``, ``pairs/`` and ``figures/``, so the viewer never reads a card naming missing files.

It uses ``HfApi.create_commit`` rather than ``upload_folder``: in huggingface_hub 2.4 the
resumable multi-commit ``upload_folder`` exists only on top of Xet, while ``create_commit``
works with Xet (the Hub, when ``hf_xet`` is installed) and with plain LFS alike.

The token comes from huggingface_hub (``HF_TOKEN``, or ``hf auth login``) and is only ever
handed to ``HfApi``; nothing here prints or logs it.

Push uploads what is in the folder and renders nothing. The card names the repo in its loading
examples, and the repo id is known only here, so ``ted2025 push`` re-renders the card between
:func:`open_repo` (checks, repo created, visibility settled) and :func:`upload`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.hf_api import RepoFile

from .contract import CARD, DATA_DIR, FIGURES_DIR, PAIRS_DIR, REPORT

MANAGED_FOLDERS = (DATA_DIR, PAIRS_DIR, FIGURES_DIR)  # remote files here that the build no longer has are stale
DEFAULT_BATCH_FILES = 100
LICENCE_NOTICE = (
    "TED talk transcripts are licensed CC BY-NC-ND 4.0 (TED Conferences LLC): attribution, non-commercial use "
    "only, no derivatives. A cleaned and aligned corpus may count as adapted material."
)


class PushError(ValueError):
    """A push that must not, or cannot, start; the message says what to do."""


@dataclass
class PushSummary:
    repo_id: str
    private: bool
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)

    def summary(self) -> str:
        visibility = "private" if self.private else "PUBLIC"
        return (f"{self.repo_id} ({visibility}): {_files(len(self.uploaded))} uploaded, {len(self.unchanged)} unchanged, "
                f"{len(self.deleted)} stale deleted, in {len(self.commits)} commit{'s' * (len(self.commits) != 1)}")


@dataclass(frozen=True)
class LocalFile:
    path: str  # in the repo, POSIX
    local: Path
    size: int
    sha256: str
    git_blob_id: str

    @classmethod
    def read(cls, root: Path, local: Path) -> LocalFile:
        size = local.stat().st_size
        sha256, git_blob = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())
        with open(local, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha256.update(block)
                git_blob.update(block)
        return cls(local.relative_to(root).as_posix(), local, size, sha256.hexdigest(), git_blob.hexdigest())

    def same_as(self, remote: RepoFile) -> bool:
        if remote.lfs is not None:
            return remote.lfs.sha256 == self.sha256
        return remote.blob_id == self.git_blob_id


def check_visibility(public: bool, licence_accepted: bool) -> None:
    if public and not licence_accepted:
        raise PushError(
            f"--public needs --i-accept-cc-by-nc-nd as well. {LICENCE_NOTICE} Publishing it openly is your "
            "decision under TED's terms, so it takes both flags; without --public the repo is private."
        )


def local_files(root: Path) -> list[LocalFile]:
    """Every file of the corpus folder, except hidden ones (staging folders, caches)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [LocalFile.read(root, Path(dirpath, name)) for name in sorted(filenames) if not name.startswith(".")]
    return found


LAST_FILES = (CARD, REPORT)  # they name the shards: published only once all are there


def plan_batches(changed: list[LocalFile], batch_files: int) -> list[list[LocalFile]]:
    """Batches of at most ``batch_files`` files; the card and the build report come last,
    together, so a half-pushed repo never has a report (or card) naming shards it lacks."""
    last = [f for f in changed if f.path in LAST_FILES]
    rest = [f for f in changed if f.path not in LAST_FILES]
    batches = [rest[i:i + batch_files] for i in range(0, len(rest), batch_files)]
    return batches + [last] if last else batches


@dataclass(frozen=True)
class Repo:
    """A dataset repo ready to receive a push: it exists, with the visibility asked for."""

    api: HfApi
    repo_id: str
    private: bool


def open_repo(
    root: str | os.PathLike,
    repo_id: str,
    *,
    public: bool = False,
    licence_accepted: bool = False,
    batch_files: int = DEFAULT_BATCH_FILES,
    endpoint: str | None = None,
    token: str | None = None,
    log: Callable[[str], None] = print,
) -> Repo:
    """Everything a push checks before it uploads, and the repo, created private unless ``public``."""
    root = Path(root)
    check_visibility(public, licence_accepted)
    if batch_files < 1:
        raise PushError(f"batch_files must be >= 1, got {batch_files}")
    if not (root / REPORT).is_file():
        raise PushError(f"{root} is not a built corpus (no {REPORT}); run `ted2025 build` first")
    token = token or get_token()
    if not token:
        raise PushError("no Hugging Face token: run `hf auth login`, or set HF_TOKEN to a token with write access")
    api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None, token=token)

    api.create_repo(repo_id, repo_type="dataset", private=not public, exist_ok=True)
    return Repo(api, repo_id, _settle_visibility(api, repo_id, public, log))


def upload(root: str | os.PathLike, repo: Repo, *, batch_files: int = DEFAULT_BATCH_FILES,
           log: Callable[[str], None] = print) -> PushSummary:
    """Send the files of ``root`` that the repo lacks or has otherwise, and delete its stale ones."""
    root, api, repo_id = Path(root), repo.api, repo.repo_id
    remote = {entry.path: entry for entry in api.list_repo_tree(repo_id, repo_type="dataset", recursive=True)
              if isinstance(entry, RepoFile)}
    files = local_files(root)
    changed = [file for file in files if not (file.path in remote and file.same_as(remote[file.path]))]
    present = {file.path for file in files}
    stale = [path for path in remote if path not in present and PurePosixPath(path).parts[0] in MANAGED_FOLDERS]
    commits = _commit_in_batches(api, repo_id, plan_batches(changed, batch_files), stale, log)
    return PushSummary(repo_id, repo.private, uploaded=[file.path for file in changed],
                       unchanged=sorted(present - {file.path for file in changed}), deleted=stale, commits=commits)


def push(
    root: str | os.PathLike,
    repo_id: str,
    *,
    public: bool = False,
    licence_accepted: bool = False,
    batch_files: int = DEFAULT_BATCH_FILES,
    endpoint: str | None = None,
    token: str | None = None,
    log: Callable[[str], None] = print,
) -> PushSummary:
    """Upload the built corpus at ``root``, as it is, to the dataset repo ``repo_id``. See the module docstring."""
    repo = open_repo(root, repo_id, public=public, licence_accepted=licence_accepted, batch_files=batch_files,
                     endpoint=endpoint, token=token, log=log)
    return upload(root, repo, batch_files=batch_files, log=log)


def _commit_in_batches(api: HfApi, repo_id: str, batches: list[list[LocalFile]], stale: list[str],
                       log: Callable[[str], None]) -> list[str]:
    """One commit per batch; the stale files are deleted by the last one. Returns the commit ids."""
    if stale and not batches:
        batches = [[]]
    if not batches:
        log(f"{repo_id} is up to date: nothing to upload")
    commits = []
    for number, batch in enumerate(batches, 1):
        last = number == len(batches)
        operations = [CommitOperationAdd(path_in_repo=f.path, path_or_fileobj=str(f.local)) for f in batch]
        operations += [CommitOperationDelete(path_in_repo=path) for path in stale] if last else []
        size_mb = sum(f.size for f in batch) / 1e6
        log(f"commit {number}/{len(batches)}: {_files(len(batch))} ({size_mb:,.1f} MB)"
            + (f", {_files(len(stale))} stale deleted" if last and stale else ""))
        info = api.create_commit(repo_id, operations, repo_type="dataset",
                                 commit_message=f"ted2025 push: batch {number} of {len(batches)}")
        commits.append(info.oid)
    return commits


def _files(count: int) -> str:
    return f"{count} file{'s' * (count != 1)}"


def _settle_visibility(api: HfApi, repo_id: str, public: bool, log: Callable[[str], None]) -> bool:
    """Make an existing repo's visibility match the request; never publish without the licence flags."""
    private = api.dataset_info(repo_id).private
    if public and private:
        api.update_repo_settings(repo_id, repo_type="dataset", private=False)
        log(f"{repo_id} was private; made it public (--public --i-accept-cc-by-nc-nd)")
        return False
    if not public and not private:
        raise PushError(
            f"{repo_id} already exists and is PUBLIC. {LICENCE_NOTICE} Pushing to it publishes the corpus, so "
            "pass --public --i-accept-cc-by-nc-nd, or push to another (private) repo."
        )
    return bool(private)
