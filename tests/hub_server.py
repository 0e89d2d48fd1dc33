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

Errors carry the ``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``) that ``huggingface_hub.utils.hf_raise_for_status`` turns into its exceptions.
To add endpoints (upload: ``preupload``, ``commit``), add a method and a line to ``HubServer.ROUTES``.

Use::

    with serve_hub(tmp_path / "hub") as endpoint:       # or HubServer(root) for .requests
        hub_environment(monkeypatch, endpoint, tmp_path / "hf_home")
        ...
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
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
    ]

    def __init__(self, root: str | os.PathLike, page_size: int = 1000):
        self.root = Path(root)
        self.page_size = page_size
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self._routes = [
            (method, re.compile(pattern + r"$"), getattr(self, name)) for method, pattern, name in self.ROUTES
        ]
        self._blob_ids: dict[tuple[str, int, int], str] = {}
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def dispatch(self, method: str, target: str, body: bytes, headers) -> Response:
        url = urlsplit(target)
        self.requests.append((method, unquote(url.path)))
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

    def entry(self, repo: str, path: str) -> dict:
        target = self.repo_dir(repo) / path
        if target.is_file():
            return {"type": "file", "oid": self.blob_id(target), "size": target.stat().st_size, "path": path}
        if target.is_dir() and path:
            return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0, "path": path}
        raise HubError(404, "EntryNotFound", f"{path} does not exist in {repo}")

    # -- routes ---------------------------------------------------------------------------------

    def repo_info(self, repo: str, rev: str = DEFAULT_BRANCH, **_) -> Response:
        commit = self.check_revision(repo, rev)
        siblings = [{"rfilename": path} for path in self.files(repo)]
        info = {"id": repo, "author": repo.split("/")[0], "sha": commit, "private": False, "gated": False,
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
            next_url = f"{self.url}/api/datasets/{repo}/tree/{quote(rev, safe='')}/{quote(path)}?{next_query}"
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
        base = {"ETag": f'"{entry["oid"]}"', "X-Repo-Commit": commit, "Accept-Ranges": "bytes",
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

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
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
                        "HF_HOME": hf_home, "HF_HUB_CACHE": hub_cache}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(hub_constants, "ENDPOINT", endpoint)
    url_template = endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    monkeypatch.setattr(hub_constants, "HUGGINGFACE_CO_URL_TEMPLATE", url_template)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_constants, "HF_HOME", hf_home)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", hub_cache)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", endpoint)
    monkeypatch.setattr(datasets.config, "HUB_DATASETS_URL", endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
