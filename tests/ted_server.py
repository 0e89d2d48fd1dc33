"""A TED look-alike on loopback, so the crawler is tested with no network, under injected faults.

Serves what :mod:`builder.crawl` asks of ted.com:

=========================================================  ========================================
``GET  /talks/{id}``                                       301 to ``/talks/{slug}`` (or a talk's
                                                           ``redirect``: unsafe or off-site ones), 404
``POST /graphql``                                          ``{"data": {"video": ...}}`` for the slug
                                                           or id in ``variables.videoId``; null if none
``GET  /talks/{slug}/transcript.json?language={code}``     the transcript bytes, or 404
``GET  /talks/rss``                                        RSS 2.0 with ``jwplayer:talkId`` per item
=========================================================  ========================================

Talks: :func:`real_talks` renders the WebVTT cues of the shared real data (talks 10 and 1500) as
TED transcript JSON, with talk-level metadata made up from the id; :func:`synthetic_talks` adds
talks that exercise missing transcripts, unsafe slugs and language codes, off-site redirects,
malformed metadata, oversized and invalid transcripts.

Faults (:class:`Faults`) are decided per request by a hash of (seed, method, target, body, how many
times that same request came before), so they do not depend on the order in which concurrent
requests arrive, and each request is faulty at most ``per_request`` times, so enough retries always
get through. ``forced`` queues faults for a given request explicitly. Kinds:

- ``500``, ``503``: an error status; ``429``: Too Many Requests with ``Retry-After`` (alternately
  delay-seconds and an HTTP date);
- ``slow``: answers after ``slow_s``; ``timeout``: says nothing for ``hang_s``, then closes;
- ``truncate``: ``Content-Length`` of the whole body, half of it sent, then close;
- ``reset``: the connection is reset (RST) without an answer.

Use::

    with TedServer(real_talks(vtt_dir) + synthetic_talks(), Faults(rate=0.2)) as ted:
        crawl(CrawlConfig(out, talk_ids=(10,), endpoint=ted.url, ...))
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from builder.parse import parse_vtt_chunks
from builder.records import Cue

FAULT_KINDS = ("500", "503", "429", "slow", "timeout", "truncate", "reset")
PARAGRAPH_GAP_MS = 1500  # a pause this long starts a new paragraph in the rendered transcript


@dataclass
class FakeTalk:
    talk_id: int
    slug: str
    transcripts: dict[str, bytes]  # TED code -> transcript.json as served
    listed: list | None = None  # publishedSubtitleLanguages codes; default: the transcripts' codes
    redirect: str | None = None  # Location for /talks/{id}; default /talks/{slug}
    video: dict | None = None  # the GraphQL "video" object as served; default: made up from the id

    def video_json(self) -> dict:
        if self.video is not None:
            return self.video
        listed = list(self.transcripts) if self.listed is None else self.listed
        return {
            "id": str(self.talk_id),
            "slug": self.slug,
            "title": f"Talk {self.talk_id}",
            "description": f"Made-up description of talk {self.talk_id}.",
            "presenterDisplayName": f"Speaker {self.talk_id}",
            "publishedAt": f"20{10 + self.talk_id % 15:02d}-0{1 + self.talk_id % 9}-15T16:00:00Z",
            "duration": 60 + self.talk_id % 600,
            "publishedSubtitleLanguages": {"edges": [{"node": {"internalLanguageCode": c}} for c in listed]},
            "topics": {"nodes": [{"name": "science"}, {"name": f"topic {self.talk_id % 7}"}]},
        }


@dataclass
class Faults:
    rate: float = 0.0  # share of requests that get a fault (at most per_request times each)
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    per_request: int = 2
    slow_s: float = 0.05
    hang_s: float = 1.0  # longer than the client's timeout in tests
    retry_after_s: int = 0  # delay-seconds sent with 429; the HTTP-date variant is now + this
    forced: dict[str, list[str]] = field(default_factory=dict)  # "GET /path?query" -> kinds, in order


def transcript_json(cues: list[Cue]) -> bytes:
    """TED's transcript.json shape: paragraphs of cues with a start time in ms."""
    paragraphs, previous_end = [], None
    for cue in cues:
        if not paragraphs or (previous_end is not None and cue.start - previous_end >= PARAGRAPH_GAP_MS):
            paragraphs.append({"cues": []})
        paragraphs[-1]["cues"].append({"time": int(cue.start), "text": cue.text})
        previous_end = cue.end
    return json.dumps({"paragraphs": paragraphs}, ensure_ascii=False).encode("utf-8")


def real_talks(vtt_dir: Path) -> list[FakeTalk]:
    """Talks 10 and 1500 of the shared Teddy data, every language, rendered as transcript.json."""
    talks = []
    for folder in sorted(vtt_dir.iterdir(), key=lambda p: int(p.name)):
        chunks: dict[str, dict[int, Path]] = {}
        for path in folder.iterdir():
            match = re.fullmatch(r"(?P<code>.+)\.vtt(?:\.(?P<n>[0-9]+))?", path.name)
            if match:
                chunks.setdefault(match["code"], {})[int(match["n"] or 0)] = path
        transcripts = {
            code: transcript_json(parse_vtt_chunks([parts[i].read_bytes() for i in sorted(parts)]).cues)
            for code, parts in sorted(chunks.items())
        }
        talk_id = int(folder.name)
        talks.append(FakeTalk(talk_id, f"speaker_{talk_id}_real_talk", transcripts))
    return talks


def synthetic_transcript(code: str, talk_id: int, cues: int = 6) -> bytes:
    return transcript_json([Cue(i * 3000.0, i * 3000.0 + 2500, f"[{code}] Sentence {i} of talk {talk_id}.")
                            for i in range(cues)])


def synthetic_talks() -> list[FakeTalk]:
    def talk(talk_id: int, codes=("en", "de", "fr"), replace: dict[str, bytes] | None = None, **kwargs) -> FakeTalk:
        transcripts = {code: synthetic_transcript(code, talk_id) for code in codes} | (replace or {})
        return FakeTalk(talk_id, kwargs.pop("slug", f"synthetic_talk_{talk_id}"), transcripts, **kwargs)

    return [
        talk(9001, listed=["en", "de", "fr", "es"]),  # es is listed but not served: missing
        talk(9002, listed=["en", "de", "../../evil", "/etc/passwd", "en/../../x", "zz", "en\n", "EN", 5, None]),
        talk(9003, redirect="/talks/..%2F..%2Fx"),  # unsafe slug
        talk(9004, redirect="http://evil.example/talks/synthetic_talk_9004"),  # off-site
        talk(9005, video={"slug": "synthetic_talk_9005", "title": ["not", "a", "string"],
                          "publishedSubtitleLanguages": "en"}),  # malformed metadata
        talk(9006, codes=("en", "de"), slug="huge_talk_9006",  # en: about 1 MB
             replace={"en": synthetic_transcript("en", 9006, cues=20_000)}),
        talk(9007, codes=("en", "de"), slug="broken_talk_9007",  # de: not JSON, every time
             replace={"de": b"<html>Service temporarily unavailable</html>"}),
        talk(9008, slug="talk_9008"),  # plain; its redirect is an absolute URL (see _talk_redirect)
    ]


class TedServer:
    """Serves ``talks`` on 127.0.0.1; a context manager yielding itself (``.url``, ``.requests``)."""

    def __init__(self, talks: list[FakeTalk], faults: Faults | None = None, rss_ids: list[int] | None = None):
        self.by_id = {talk.talk_id: talk for talk in talks}
        self.by_slug = {talk.slug: talk for talk in talks}
        self.faults = faults or Faults()
        self.rss_ids = rss_ids if rss_ids is not None else sorted(self.by_id, reverse=True)
        self.requests: list[dict] = []  # method, target, user_agent, fault, time of every request
        self._seen: Counter = Counter()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> TedServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="ted-server",
                         daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def served(self, talk_id: int, code: str) -> bytes:
        return self.by_id[talk_id].transcripts[code]

    # -- faults ------------------------------------------------------------------------------------

    def fault_for(self, method: str, target: str, body: bytes) -> str | None:
        key = f"{method} {target}"
        with self._lock:
            forced = self.faults.forced.get(key)
            if forced:
                return forced.pop(0)
            request_key = f"{key} {hashlib.sha256(body).hexdigest()[:16]}"
            count = self._seen[request_key]
            self._seen[request_key] += 1
        faults = self.faults
        if count >= faults.per_request or not faults.rate:
            return None
        digest = hashlib.sha256(f"{faults.seed}|{request_key}|{count}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= faults.rate:
            return None
        return faults.kinds[digest[8] % len(faults.kinds)]

    def retry_after(self) -> str:
        with self._lock:
            n = sum(1 for r in self.requests if r["fault"] == "429")
        if n % 2:
            return email.utils.formatdate(time.time() + self.faults.retry_after_s, usegmt=True)
        return str(self.faults.retry_after_s)

    # -- routes ------------------------------------------------------------------------------------

    def dispatch(self, method: str, target: str, body: bytes) -> tuple[int, dict, bytes]:
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        if method == "GET" and (match := re.fullmatch(r"/talks/([0-9]+)", path)):
            talk = self.by_id.get(int(match[1]))
            if talk is None:
                return 404, {}, b"Not Found"
            return 301, {"Location": self._talk_redirect(talk)}, b""
        if method == "POST" and path == "/graphql":
            return self._graphql(body)
        if method == "GET" and (match := re.fullmatch(r"/talks/([^/]+)/transcript\.json", path)):
            talk = self.by_slug.get(match[1])
            code = (query.get("language") or [""])[0]
            if talk is None or code not in talk.transcripts:
                return 404, {"Content-Type": "application/json"}, b'{"error": "not found"}'
            return 200, {"Content-Type": "application/json; charset=utf-8"}, talk.transcripts[code]
        if method == "GET" and path == "/talks/rss":
            return 200, {"Content-Type": "application/rss+xml"}, self._rss()
        if method == "GET" and path.startswith("/talks/"):
            return 200, {"Content-Type": "text/html"}, b"<html>a talk page</html>"
        return 404, {}, b"Not Found"

    def _talk_redirect(self, talk: FakeTalk) -> str:
        if talk.redirect:
            return talk.redirect
        if talk.talk_id in (1500, 9008):  # TED sends absolute URLs too; same origin is fine
            return f"{self.url}/talks/{talk.slug}"
        return f"/talks/{talk.slug}"

    def _graphql(self, body: bytes) -> tuple[int, dict, bytes]:
        try:
            request = json.loads(body)
            video_id = request["variables"]["videoId"]
            query = request["query"]
        except (ValueError, KeyError, TypeError):
            return 400, {}, b'{"errors": [{"message": "bad request"}]}'
        if "publishedSubtitleLanguages" not in query or "internalLanguageCode" not in query:
            return 200, {}, b'{"errors": [{"message": "query lacks the language fields"}]}'
        talk = self.by_slug.get(video_id) or (self.by_id.get(int(video_id)) if str(video_id).isdigit() else None)
        video = talk.video_json() if talk else None
        # A lone surrogate in a made-up video (a hostile-text test) goes out as the JSON escape \udXXX,
        # as a JSON server sends it: it only occurs inside a string, where backslashreplace writes that.
        payload = json.dumps({"data": {"video": video}}, ensure_ascii=False).encode("utf-8", "backslashreplace")
        return 200, {"Content-Type": "application/json"}, payload

    def _rss(self) -> bytes:
        items = []
        for talk_id in self.rss_ids:
            talk = self.by_id[talk_id]
            items.append(
                f"<item><title>{escape(f'Talk {talk_id}')}</title>"
                f"<link>https://www.ted.com/talks/{escape(talk.slug)}</link>"
                f"<jwplayer:talkId>{talk_id}</jwplayer:talkId></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:jwplayer="http://rss.jwpcdn.com/"><channel><title>TED Talks</title>'
            + "".join(items) + "</channel></rss>\n"
        ).encode("utf-8")


def _handler_for(server: TedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx's connection pool expects

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fault = server.fault_for(self.command, self.path, body)
            with server._lock:
                server.requests.append({"method": self.command, "target": self.path, "fault": fault,
                                        "user_agent": self.headers.get("User-Agent"), "time": time.monotonic()})
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if fault == "timeout":
                time.sleep(server.faults.hang_s)
                self.close_connection = True
                return
            if fault == "slow":
                time.sleep(server.faults.slow_s)
            if fault in ("500", "503"):
                status, headers, payload = int(fault), {}, b"<html>Server Error</html>"
            elif fault == "429":
                status, headers, payload = 429, {"Retry-After": server.retry_after()}, b"Too Many Requests"
            else:
                try:
                    status, headers, payload = server.dispatch(self.command, self.path, body)
                except Exception as exc:  # a bug in a route: answer 500 rather than hang the client
                    status, headers, payload = 500, {}, f"{type(exc).__name__}: {exc}".encode()
            self.send_response(status, HTTPStatus(status).phrase)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if fault == "truncate":
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def handle(self) -> None:
            try:
                super().handle()
            except OSError:  # the client gave up (timeout) or we reset the connection on purpose
                pass

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:  # the socket was reset or shut down on purpose
                pass

        def log_message(self, format, *args) -> None:  # keep test output clean
            pass

    return Handler
