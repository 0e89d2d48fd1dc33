"""A Hugging Face Hub look-alike on loopback, so Hub code paths are tested with no network.

``{root}/{org}/{name}/`` is served as the dataset repo ``org/name``, at a single revision whose
commit id is a hash of the files' names, sizes and mtimes (so it changes when the folder does).

Only the endpoints huggingface_hub 2.4 calls to read a dataset repo are implemented (checked
against its source: ``HfApi.dataset_info``, ``list_repo_tree``, ``get_paths_info``,
``hf_hub_download``/``snapshot_download`` and ``HfFileSystem``):

=====================================================  ============================================
``GET  /api/datasets/{repo}[/revision/{rev}]``         repo info: ``id``, ``sha``, ``siblings``
``GET  /api/datasets/{repo}/tree/{rev}[/{path}]``      tree listing; ``recursive``; pages of
                                                       ``page_size`` entries linked by ``Link: rel=next``
``POST /api/datasets/{repo}/paths-info/{rev}``         info for the form fields ``paths``
``HEAD|GET /datasets/{repo}/resolve/{rev}/{path}``     the file, with ``ETag`` (git blob id),
                                                       ``X-Repo-Commit``, ``Content-Length``, ``Range``
=====================================================  ============================================

Writing (checked against ``HfApi.create_repo``, ``update_repo_settings``, ``create_commit`` and
``preupload_lfs_files``, i.e. ``_commit_api.py`` and ``lfs.py``):

=====================================================  ============================================
``POST /api/repos/create``                             a dataset repo; ``visibility`` is kept, 409
                                                       if it exists
``PUT  /api/datasets/{repo}/settings``                 ``visibility`` / ``private``
``POST /api/validate-yaml``                            only checks that the card's metadata is a
                                                       YAML mapping (the Hub checks much more)
``POST /api/datasets/{repo}/preupload/{rev}``          upload mode per file: ``lfs`` for binary
                                                       samples or files over 10 MB, else
                                                       ``regular``; ``oid`` of the file already
                                                       there, so unchanged files are skipped
``POST /datasets/{repo}.git/info/lfs/objects/batch``   LFS batch API, ``basic`` transfer only: an
                                                       upload and a verify action per object the
                                                       store lacks, no actions for one it has
``PUT  /lfs/objects/{sha256}``                         the upload URL; the body must hash to it
``POST /datasets/{repo}.git/info/lfs/objects/verify``  the verify action
``POST /api/datasets/{repo}/commit/{rev}``             NDJSON: ``header``, ``file`` (base64),
                                                       ``lfsFile`` (by sha256), ``deletedFile``,
                                                       ``deletedFolder``
=====================================================  ============================================

``HubServer(root, repo_type="model")`` serves ``{root}/{org}/{name}/`` as *model* repos instead, at
the model URLs: ``/api/models/{repo}/...`` for the API and ``/{repo}/resolve/...`` and
``/{repo}.git/info/lfs/...`` without the ``/datasets`` prefix (one repo type per server).

There is no Xet: huggingface_hub 2.4 uploads through Xet whenever ``hf_xet`` is installed, a
client-side decision (``utils._runtime.is_xet_available``) that no server answer changes, so
:func:`hub_environment` sets ``HF_HUB_DISABLE_XET`` and the client uses the LFS batch API.
Privacy is recorded and reported, not enforced; every ``Authorization`` header is kept in
``.authorizations`` so tests can check a token was sent.

Errors carry the ``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``) that ``huggingface_hub.utils.hf_raise_for_status`` turns into its exceptions.
To add endpoints, add a method and a line to ``HubServer.ROUTES``.

Use::

    with serve_hub(tmp_path / "hub") as endpoint:       # or HubServer(root) for .requests
        hub_environment(monkeypatch, endpoint, tmp_path / "hf_home")
        ...
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

REPO = r"(?P<repo>[^/]+/[^/]+)"
REV = r"(?P<rev>[^/]+)"
DEFAULT_BRANCH = "main"
SKIPPED_DIRS = {".git", ".cache"}
OID = r"(?P<oid>[0-9a-f]{64})"
REGULAR_MAX_BYTES = 10 * 1024 * 1024  # larger files go through LFS, as on the Hub
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None
    length: int | None = None  # Content-Length when it is not len(body) (HEAD)


class HubError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


class HubServer:
    """Serves the repos under ``root``; a context manager yielding itself (``.url``, ``.requests``)."""

    ROUTES = [
        ("GET", rf"/api/datasets/{REPO}", "repo_info"),
        ("GET", rf"/api/datasets/{REPO}/revision/{REV}", "repo_info"),
        ("GET", rf"/api/datasets/{REPO}/tree/{REV}(?:/(?P<path>.*))?", "tree"),
        ("POST", rf"/api/datasets/{REPO}/paths-info/{REV}", "paths_info"),
        ("HEAD", rf"/datasets/{REPO}/resolve/{REV}/(?P<path>.+)", "resolve"),
        ("GET", rf"/datasets/{REPO}/resolve/{REV}/(?P<path>.+)", "resolve"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("PUT", rf"/api/datasets/{REPO}/settings", "repo_settings"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", rf"/api/datasets/{REPO}/preupload/{REV}", "preupload"),
        ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", "lfs_batch"),
        ("PUT", rf"/lfs/objects/{OID}", "lfs_upload"),
        ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/verify", "lfs_verify"),
        ("POST", rf"/api/datasets/{REPO}/commit/{REV}", "commit_files"),
    ]

    def __init__(self, root: str | os.PathLike, page_size: int = 1000, repo_type: str = "dataset"):
        if repo_type not in ("dataset", "model"):
            raise ValueError(f"repo_type must be dataset or model, got {repo_type!r}")
        self.root = Path(root)
        self.page_size = page_size
        self.repo_type = repo_type
        # URL prefixes of this repo type: the routes are written for datasets, models drop "datasets/"
        self.web_prefix = "/datasets" if repo_type == "dataset" else ""
        self.api_prefix = f"/api/{repo_type}s"
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self._routes = [
            (method, re.compile(self._for_repo_type(pattern) + r"$"), getattr(self, name))
            for method, pattern, name in self.ROUTES
        ]
        self._blob_ids: dict[tuple[str, int, int], str] = {}
        self._sha256s: dict[tuple[str, int, int], str] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self.private: dict[str, bool] = {}  # repo -> private, for repos created or changed here
        self.authorizations: list[str] = []  # every Authorization header received
        self._lfs_paths: dict[tuple[str, str], tuple[str, int, int]] = {}  # (repo, path) -> (sha256, size, mtime_ns)
        self._lfs_store: Path | None = None  # uploaded LFS objects, by sha256, until a commit uses them
        self._commit_lock = threading.Lock()

    def _for_repo_type(self, pattern: str) -> str:
        if pattern.startswith("/api/datasets/"):
            return self.api_prefix + pattern.removeprefix("/api/datasets")
        if pattern.startswith("/datasets/"):
            return self.web_prefix + pattern.removeprefix("/datasets")
        return pattern

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubServer:
        self._lfs_store = Path(tempfile.mkdtemp(prefix="hub-lfs-"))
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        shutil.rmtree(self._lfs_store, ignore_errors=True)

    def dispatch(self, method: str, target: str, body: bytes, headers) -> Response:
        url = urlsplit(target)
        self.requests.append((method, unquote(url.path)))
        if headers.get("Authorization"):
            self.authorizations.append(headers["Authorization"])
        for route_method, pattern, handler in self._routes:
            if route_method == method and (match := pattern.match(url.path)):
                args = {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
                try:
                    return handler(**args, query=parse_qs(url.query), body=body, headers=headers, method=method)
                except HubError as e:
                    return _json(e.status, {"error": str(e)}, {"X-Error-Code": e.code, "X-Error-Message": str(e)})
        return _json(404, {"error": f"no route for {method} {url.path}"})

    # -- repository model -----------------------------------------------------------------------

    def repo_dir(self, repo: str) -> Path:
        folder = self.root / repo
        if not folder.is_dir():
            raise HubError(404, "RepoNotFound", f"Repository {repo} not found")
        return folder

    def files(self, repo: str) -> list[str]:
        folder = self.repo_dir(repo)
        found = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            found += [Path(dirpath, name).relative_to(folder).as_posix() for name in filenames]
        return sorted(found)

    def commit(self, repo: str) -> str:
        folder = self.repo_dir(repo)
        stats = {path: (folder / path).stat() for path in self.files(repo)}
        state = [(path, stat.st_size, stat.st_mtime_ns) for path, stat in stats.items()]
        return hashlib.sha1(repr(state).encode()).hexdigest()

    def check_revision(self, repo: str, rev: str) -> str:
        commit = self.commit(repo)
        if rev not in (DEFAULT_BRANCH, commit):
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return commit

    def blob_id(self, file: Path) -> str:
        """Git's blob id of the file, as the Hub reports for non-LFS files."""
        stat = file.stat()
        key = (str(file), stat.st_size, stat.st_mtime_ns)
        if key not in self._blob_ids:
            digest = hashlib.sha1(f"blob {stat.st_size}\0".encode())
            digest.update(file.read_bytes())
            self._blob_ids[key] = digest.hexdigest()
        return self._blob_ids[key]

    def sha256(self, file: Path) -> str:
        stat = file.stat()
        key = (str(file), stat.st_size, stat.st_mtime_ns)
        if key not in self._sha256s:
            digest = hashlib.sha256()
            with open(file, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            self._sha256s[key] = digest.hexdigest()
        return self._sha256s[key]

    def lfs_info(self, repo: str, path: str, file: Path) -> dict | None:
        """LFS pointer of a file committed through LFS (and not changed on disk since)."""
        recorded = self._lfs_paths.get((repo, path))
        stat = file.stat()
        if recorded is None or recorded[1:] != (stat.st_size, stat.st_mtime_ns):
            return None
        pointer = LFS_POINTER.format(oid=recorded[0], size=stat.st_size).encode()
        return {"oid": recorded[0], "size": stat.st_size, "pointerSize": len(pointer),
                "pointer_blob_id": hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()}

    def entry(self, repo: str, path: str) -> dict:
        target = self.repo_dir(repo) / path
        if target.is_file():
            if lfs := self.lfs_info(repo, path, target):
                # As on the Hub: the git oid is the pointer's blob id; the content's sha256 is under "lfs".
                blob_id = lfs.pop("pointer_blob_id")
                return {"type": "file", "oid": blob_id, "size": target.stat().st_size, "path": path, "lfs": lfs}
            return {"type": "file", "oid": self.blob_id(target), "size": target.stat().st_size, "path": path}
        if target.is_dir() and path:
            return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0, "path": path}
        raise HubError(404, "EntryNotFound", f"{path} does not exist in {repo}")

    # -- routes ---------------------------------------------------------------------------------

    def repo_info(self, repo: str, rev: str = DEFAULT_BRANCH, **_) -> Response:
        commit = self.check_revision(repo, rev)
        siblings = [{"rfilename": path} for path in self.files(repo)]
        info = {"id": repo, "author": repo.split("/")[0], "sha": commit, "private": self.private.get(repo, False), "gated": False,
                "disabled": False, "tags": [], "siblings": siblings, "lastModified": "2025-01-01T00:00:00.000Z"}
        return _json(200, info)

    def tree(self, repo: str, rev: str, query: dict, path: str = "", **_) -> Response:
        self.check_revision(repo, rev)
        path = path.strip("/")
        if path and self.entry(repo, path)["type"] != "directory":
            raise HubError(404, "EntryNotFound", f"{path} is not a folder of {repo}")
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        prefix = f"{path}/" if path else ""
        listed: dict[str, dict] = {}
        for file in self.files(repo):
            if not file.startswith(prefix):
                continue
            parts = file[len(prefix):].split("/")
            depth = len(parts) if recursive else 1
            for i in range(1, min(depth, len(parts)) + 1):
                relative = prefix + "/".join(parts[:i])
                listed.setdefault(relative, self.entry(repo, relative))
        entries = sorted(listed.values(), key=lambda e: (e["type"] != "directory", e["path"]))
        start = int(query.get("cursor", ["0"])[0])
        page = entries[start:start + self.page_size]
        headers = {}
        if start + self.page_size < len(entries):
            next_query = f"recursive={str(recursive).lower()}&cursor={start + self.page_size}"
            next_url = f"{self.url}{self.api_prefix}/{repo}/tree/{quote(rev, safe='')}/{quote(path)}?{next_query}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return _json(200, page, headers)

    def paths_info(self, repo: str, rev: str, body: bytes, headers, **_) -> Response:
        self.check_revision(repo, rev)
        if "json" in headers.get("Content-Type", ""):
            paths = json.loads(body or b"{}").get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        found = []
        for path in paths:
            with contextlib.suppress(HubError):
                found.append(self.entry(repo, path.strip("/")))
        return _json(200, found)

    def resolve(self, repo: str, rev: str, path: str, method: str, headers, **_) -> Response:
        commit = self.check_revision(repo, rev)
        entry = self.entry(repo, path)
        if entry["type"] != "file":
            raise HubError(404, "EntryNotFound", f"{path} is a folder of {repo}")
        file = self.repo_dir(repo) / path
        size = entry["size"]
        etag = entry["lfs"]["oid"] if "lfs" in entry else entry["oid"]  # the Hub's ETag of an LFS file is its sha256
        base = {"ETag": f'"{etag}"', "X-Repo-Commit": commit, "Accept-Ranges": "bytes",
                "Content-Type": "application/octet-stream"}
        start, end = 0, size - 1
        status = 200
        if (wanted := headers.get("Range")) and (span := _byte_range(wanted, size)):
            if span == "unsatisfiable":
                return Response(416, b"", {**base, "Content-Range": f"bytes */{size}"})
            (start, end), status = span, 206
            base["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        if method == "HEAD":
            return Response(status, b"", base, length=length)
        with open(file, "rb") as f:
            f.seek(start)
            return Response(status, f.read(length), base)


    # -- writing ----------------------------------------------------------------------------------

    def create_repo(self, body: bytes, **_) -> Response:
        payload = json.loads(body or b"{}")
        if payload.get("type", "model") != self.repo_type:
            raise HubError(400, "BadRequest", f"this loopback Hub serves {self.repo_type} repos only")
        if not payload.get("organization"):
            raise HubError(400, "BadRequest", "give the repo as org/name: this loopback Hub has no user namespace")
        repo = f"{payload['organization']}/{payload['name']}"
        folder = self.root / repo
        if folder.is_dir():  # the Hub's 409 carries the url, which create_repo(exist_ok=True) returns
            message = f"You already created this {self.repo_type} repo: {repo}"
            return _json(409, {"error": message, "url": f"{self.url}{self.web_prefix}/{repo}"}, {"X-Error-Message": message})
        folder.mkdir(parents=True)
        self.private[repo] = payload.get("visibility") == "private"
        return _json(200, {"url": f"{self.url}{self.web_prefix}/{repo}", "name": repo})

    def repo_settings(self, repo: str, body: bytes, **_) -> Response:
        self.repo_dir(repo)
        payload = json.loads(body or b"{}")
        if "visibility" in payload:
            self.private[repo] = payload["visibility"] == "private"
        elif "private" in payload:
            self.private[repo] = bool(payload["private"])
        return _json(200, {})

    def validate_yaml(self, body: bytes, **_) -> Response:
        import yaml  # huggingface_hub's dependency

        content = json.loads(body or b"{}").get("content", "")
        match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", content, re.DOTALL)
        try:
            metadata = yaml.safe_load(match.group(1)) if match else {}
        except yaml.YAMLError as e:
            return _json(400, {"errors": [{"message": f"invalid YAML: {e}"}]})
        if not isinstance(metadata, dict):
            return _json(400, {"errors": [{"message": "metadata must be a YAML mapping"}]})
        return _json(200, {"errors": [], "warnings": []})

    def preupload(self, repo: str, rev: str, body: bytes, query: dict, **_) -> Response:
        self.check_revision(repo, rev)
        if query.get("create_pr"):
            raise HubError(400, "BadRequest", "pull requests are not supported by this loopback Hub")
        files = []
        for file in json.loads(body or b"{}").get("files", []):
            sample = base64.b64decode(file["sample"])
            mode = "lfs" if b"\0" in sample or file["size"] > REGULAR_MAX_BYTES else "regular"
            existing = self.repo_dir(repo) / file["path"]
            oid = None
            if existing.is_file():  # as the client computes it: sha256 for LFS, git blob id otherwise
                oid = self.sha256(existing) if mode == "lfs" else self.blob_id(existing)
            files.append({"path": file["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return _json(200, {"files": files, "commitOid": self.commit(repo)})

    def lfs_object(self, oid: str) -> Path:
        return self._lfs_store / oid

    def lfs_batch(self, repo: str, body: bytes, **_) -> Response:
        self.repo_dir(repo)
        payload = json.loads(body or b"{}")
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubError(400, "BadRequest", "only uploads with the basic transfer are supported")
        objects = []
        for item in payload.get("objects", []):
            oid, size = item["oid"], item["size"]
            stored = self.lfs_object(oid)
            entry = {"oid": oid, "size": size, "authenticated": True}
            if not (stored.is_file() and stored.stat().st_size == size):  # no actions: already stored
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs/objects/{oid}", "header": {}},
                    "verify": {"href": f"{self.url}{self.web_prefix}/{repo}.git/info/lfs/objects/verify", "header": {}},
                }
            objects.append(entry)
        return _json(200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"})

    def lfs_upload(self, oid: str, body: bytes, **_) -> Response:
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, "BadRequest", f"uploaded content does not hash to {oid}")
        partial = self._lfs_store / f".{oid}.{threading.get_ident()}"
        partial.write_bytes(body)
        os.replace(partial, self.lfs_object(oid))
        return Response(200, b"", {"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def lfs_verify(self, repo: str, body: bytes, **_) -> Response:
        item = json.loads(body or b"{}")
        stored = self.lfs_object(item.get("oid", ""))
        if not (stored.is_file() and stored.stat().st_size == item.get("size")):
            raise HubError(404, "EntryNotFound", f"LFS object {item.get('oid')} was not uploaded")
        return _json(200, {})

    def commit_files(self, repo: str, rev: str, body: bytes, query: dict, **_) -> Response:
        if rev != DEFAULT_BRANCH:
            raise HubError(400, "BadRequest", f"this loopback Hub commits to {DEFAULT_BRANCH} only")
        if query.get("create_pr"):
            raise HubError(400, "BadRequest", "pull requests are not supported by this loopback Hub")
        folder = self.repo_dir(repo)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "BadRequest", "a commit starts with a header line")
        with self._commit_lock:
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                target = folder / value["path"].strip("/")
                if not target.resolve().is_relative_to(folder.resolve()):
                    raise HubError(400, "BadRequest", f"path outside the repo: {value['path']}")
                if key == "file":
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(base64.b64decode(value["content"]))
                    self._lfs_paths.pop((repo, value["path"]), None)
                elif key == "lfsFile":
                    stored = self.lfs_object(value["oid"])
                    if not stored.is_file():
                        raise HubError(400, "BadRequest", f"LFS object {value['oid']} of {value['path']} was never uploaded")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(stored, target)
                    stat = target.stat()
                    self._lfs_paths[(repo, value["path"])] = (value["oid"], stat.st_size, stat.st_mtime_ns)
                elif key == "deletedFile":
                    target.unlink(missing_ok=True)
                elif key == "deletedFolder":
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    raise HubError(400, "BadRequest", f"unsupported commit operation {key!r}")
            commit = self.commit(repo)
        return _json(200, {"commitUrl": f"{self.url}{self.web_prefix}/{repo}/commit/{commit}", "commitOid": commit,
                           "pullRequestUrl": None})

def _byte_range(header: str, size: int):
    """(first, last) byte of a single ``bytes=`` range, "unsatisfiable", or None to send everything."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        return (max(0, size - int(last)), size - 1) if size else "unsatisfiable"
    first = int(first)
    last = min(int(last), size - 1) if last else size - 1
    if first >= size or last < first:
        return "unsatisfiable"
    return first, last


def _json(status: int, payload, headers: dict | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


def _handler_for(server: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()  # the CRLF after each chunk
                while self.rfile.readline().strip():  # trailers, up to the blank line
                    pass
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            body = self._read_body()
            try:
                response = server.dispatch(self.command, self.path, body, self.headers)
            except Exception as e:  # a bug in a route: answer 500 rather than hang the client
                response = _json(500, {"error": f"{type(e).__name__}: {e}"})
            self.send_response(response.status, HTTPStatus(response.status).phrase)
            for name, value in (response.headers or {}).items():
                self.send_header(name, value)
            length = len(response.body) if response.length is None else response.length
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format, *args) -> None:  # keep test output clean
            pass

    return Handler


@contextlib.contextmanager
def serve_hub(root_dir: str | os.PathLike, page_size: int = 1000) -> Iterator[str]:
    """Serve the repos under ``root_dir`` (``{org}/{name}/``) and yield the endpoint URL."""
    with HubServer(root_dir, page_size=page_size) as server:
        yield server.url


def hub_environment(monkeypatch, endpoint: str, hf_home: str | os.PathLike) -> None:
    """Point huggingface_hub and datasets at ``endpoint``, online, with a fresh cache under ``hf_home``.

    Both libraries read these variables once, at import, into module constants; the environment
    is set for code that reads it later (ted2025 does) and the constants for code that does not.
    """
    import datasets.config
    import huggingface_hub.constants as hub_constants

    hf_home = str(hf_home)
    hub_cache = os.path.join(hf_home, "hub")
    for name, value in {"HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0",
                        "HF_HOME": hf_home, "HF_HUB_CACHE": hub_cache, "HF_HUB_DISABLE_XET": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(hub_constants, "HF_HUB_DISABLE_XET", True)  # this server speaks LFS, not Xet
    monkeypatch.setattr(hub_constants, "ENDPOINT", endpoint)
    url_template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", url_template)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HOME", hf_home)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", hub_cache)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", endpoint)
    monkeypatch.setattr(datasets.config, "HUB_DATASETS_URL", endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
