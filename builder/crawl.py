"""Crawl stage: TED talk ids -> the raw store ``RAW/<talk_id>/{meta.json, <lang>.json}`` that the build reads.

For each talk: ``GET /talks/<id>`` redirects to ``/talks/<slug>``; ``POST /graphql`` (:data:`VIDEO_QUERY`)
gives the metadata and the published subtitle languages; ``GET /talks/<slug>/transcript.json?language=<code>``
gives each transcript, which is stored verbatim. ``GET /talks/rss`` lists the latest talks.

Polite: one client, a global limit on requests in flight, a token bucket per host, a User-Agent that
says who is asking, backoff with jitter on 5xx and network errors, and TED's ``Retry-After`` on 429
(capped at ``retry_after_max_s``), which pauses every request to that host and to no other: requests
wait out a host's pause holding none of the slots in flight, and the progress bar shows
``paused=<host> <seconds>s`` meanwhile.

Resumable: every file is validated, then written atomically (temp file, fsync, ``os.replace``), so a
file that exists is complete and is never fetched again. ``RAW/.crawl/manifest.json`` records each talk
and transcript as ``ok``, ``missing`` (TED answered 404) or ``failed`` with a reason; missing ones are
not asked again, failed ones are retried on the next run. A talk whose transcripts are being fetched
is ``in_progress``, with the transcripts done so far. The manifest is rewritten (atomically) at most
every ``manifest_every_s`` seconds while anything in it changes, during a talk as well as after one,
and at the end of the run. Store files and the manifest hold no timestamps, so a run killed at any
point and rerun gives the same bytes as an uninterrupted run; times go only to
``RAW/.crawl/log.jsonl``, one line per request outcome.

Safe: a slug or language code from the network must match a strict pattern (and the language
registry) before it names a URL or a file; redirects are followed only on the same origin; bodies
are streamed with a size cap; JSON is type-checked field by field, and text is checked as the build
checks it (:func:`builder.parse.unicode_problem`): a transcript with a lone surrogate is rejected like
any invalid body, and one in the metadata is replaced by U+FFFD (see :func:`parse_video`). No shell,
no pickle.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import email.utils
import io
import json
import math
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import defusedxml.ElementTree as SafeET
import httpx
from tqdm.auto import tqdm

from . import __version__, languages
from .parse import LONE_SURROGATE, parse_transcript_json, unicode_problem
from .records import InputError
from .store import LANG_FILE, TALK_DIR

TED_ENDPOINT = "https://www.ted.com"
PROJECT_URL = "https://github.com/ted2025/ted2025"  # placeholder until the repository is public


def user_agent(contact: str = PROJECT_URL) -> str:
    """Who is asking: the crawler, its version and a contact (URL or e-mail) for TED to write to."""
    if not re.fullmatch(r"[\x21-\x7e]{1,200}", contact) or any(c in contact for c in "();"):
        raise ValueError(f"contact must be a URL or e-mail address without spaces, got {contact!r}")
    return f"ted2025-crawler/{__version__} (+{contact}; research corpus)"


USER_AGENT = user_agent()

# The seed pipeline's video query, plus ``id`` (for RSS items without a talk id) and ``duration``.
# ``first: 999``: the languages are a connection; without it TED may return only its default page.
VIDEO_QUERY = """
query ($videoId: ID!) {
  video(id: $videoId) {
    id
    slug
    title
    description
    presenterDisplayName
    publishedAt
    duration
    publishedSubtitleLanguages(first: 999) { edges { node { internalLanguageCode } } }
    topics { nodes { name } }
  }
}
""".strip()

SLUG = re.compile(r"[a-z0-9_]{1,200}")
TED_CODE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")  # the code part of store.LANG_FILE
MAX_TALK_ID = 9_999_999_999  # store.TALK_DIR: up to 10 digits
MAX_REDIRECTS = 5
TEMP_PREFIX = ".tmp-"  # the store skips dot files, so a temp file left by a kill is never read as data
MISSING_STATUSES = frozenset({404, 410})
HOUSEKEEPING_TICK_S = 0.5  # how often the progress bar's pause note and the manifest's due time are checked


# -- configuration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrawlConfig:
    out: Path
    talk_ids: tuple[int, ...] = ()  # crawl these, in this order ...
    latest: int | None = None  # ... or the newest N talks of TED's RSS feed
    languages: tuple[str, ...] | None = None  # registry codes; None = every language TED lists
    endpoint: str = TED_ENDPOINT
    concurrency: int = 4  # requests in flight, all hosts together
    rate: float = 2.0  # requests per second per host (token bucket)
    burst: int = 2  # token bucket size
    max_attempts: int = 5  # per request, retries included
    backoff_base_s: float = 1.0  # first retry waits about this long, then doubling, with jitter
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 120.0  # cap on a 429's Retry-After
    timeout_s: float = 30.0  # whole request, body included
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = USER_AGENT
    manifest_every_s: float = 10.0  # at most this often while it changes; also at the end, however the run ends
    progress: bool = True

    def __post_init__(self):
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "endpoint", _check_endpoint(self.endpoint))
        object.__setattr__(self, "talk_ids", tuple(check_talk_id(t) for t in self.talk_ids))
        if bool(self.talk_ids) == (self.latest is not None):
            raise ValueError("give either talk ids or latest=N")
        if self.latest is not None and self.latest < 1:
            raise ValueError(f"latest must be >= 1, got {self.latest}")
        if self.languages is not None:
            object.__setattr__(self, "languages", tuple(languages.get(c).code for c in self.languages))
        for name in ("concurrency", "burst", "max_attempts", "max_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("rate", "timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("backoff_base_s", "backoff_max_s", "retry_after_max_s", "manifest_every_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def _check_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"endpoint must be an http(s) base URL such as {TED_ENDPOINT}, got {endpoint!r}")
    return endpoint.rstrip("/")


def check_talk_id(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TALK_ID:
        raise ValueError(f"talk ids are integers from 1 to {MAX_TALK_ID}, got {value!r}")
    return value


def parse_talk_id(text: str) -> int:
    text = text.strip()
    if not TALK_DIR.fullmatch(text):
        raise ValueError(f"not a talk id: {text[:40]!r}")
    return check_talk_id(int(text))


def read_talk_ids(path: Path) -> tuple[int, ...]:
    """One talk id per line (``#`` comments allowed), or a CSV with a ``Talk ID`` column (the seed's)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    ids: list[int] = []
    if "Talk ID" in header:
        for row_number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            cell = (row.get("Talk ID") or "").strip()
            if cell:  # the seed writes an empty cell where it found no id
                ids.append(_numbered(parse_talk_id, cell, path, row_number))
    else:
        for line_number, line in enumerate(lines, start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                ids.append(_numbered(parse_talk_id, line, path, line_number))
    return tuple(dict.fromkeys(ids))


def _numbered(parse: Callable[[str], int], text: str, path: Path, line: int) -> int:
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"{path}:{line}: {exc}") from None


def parse_id_range(spec: str) -> tuple[int, ...]:
    """``"A:B"``: talk ids A, A+1, ..., B-1 (half-open, as Python's ``range`` and the seed script).

    Talk ids start at 1; ``0:B`` (the seed's default) is read as ``1:B``.
    """
    start, sep, stop = (part.strip() for part in spec.partition(":"))
    if not sep or not re.fullmatch(r"[0-9]{1,10}", start) or not re.fullmatch(r"[0-9]{1,10}", stop):
        raise ValueError(f"id range must look like A:B with integers A < B, got {spec!r}")
    first, end = max(1, int(start)), int(stop)
    if end > MAX_TALK_ID + 1:
        raise ValueError(f"talk ids end at {MAX_TALK_ID}, got {spec!r}")
    if end <= first:
        raise ValueError(f"empty id range {spec!r}: B must be greater than A")
    return tuple(range(first, end))


# -- fetching: rate limit, retries, size cap, run log ----------------------------------------------


class FetchError(Exception):
    """A request that did not succeed; ``reason`` goes into the manifest."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


class _TooLarge(Exception):
    pass


@dataclass
class Response:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


class TokenBucket:
    """``rate`` requests per second with bursts of up to ``capacity``; ``pause`` stops it for a while."""

    def __init__(self, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.capacity, self.clock = rate, capacity, clock
        self.tokens = float(capacity)
        self.updated = clock()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, wait_out_pause: bool = True) -> bool:
        """Take a token, waiting for one; True once taken. While the bucket is paused: wait the pause
        out, or, with ``wait_out_pause=False``, return False at once (see :meth:`wait_unpaused`)."""
        async with self._lock:  # waiters queue here, so they are served in order
            while True:
                now = self.clock()
                if now < self.paused_until:
                    if not wait_out_pause:
                        return False
                    await asyncio.sleep(self.paused_until - now)
                    continue
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return True
                await asyncio.sleep((1 - self.tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    def paused_for(self) -> float:
        """Seconds the pause still lasts; 0.0 when not paused."""
        return max(0.0, self.paused_until - self.clock())

    async def wait_unpaused(self) -> None:
        while (left := self.paused_for()) > 0:
            await asyncio.sleep(left)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,10}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RunLog:
    """``RAW/.crawl/log.jsonl``: one line per request outcome and per run start/end. Append only."""

    def __init__(self, path: Path):
        # A lone surrogate from the network (a rejected language code, say) cannot be UTF-8. It only
        # occurs inside a JSON string here, where backslashreplace writes it as the JSON escape \udXXX:
        # the line stays valid JSON and reads back as what was received.
        self._file = open(path, "a", encoding="utf-8", errors="backslashreplace")

    def write(self, **record) -> None:
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **record}
        self._file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    bytes: int = 0


class Fetcher:
    """One HTTP client for the run. :meth:`fetch` retries what is worth retrying and logs every outcome.

    ``on_pause`` is called with :meth:`pauses` whenever a 429 pauses a host (the progress bar's note).
    """

    def __init__(self, config: CrawlConfig, log: RunLog,
                 on_pause: Callable[[dict[str, float]], None] | None = None):
        self.config, self.log, self.on_pause = config, log, on_pause
        self.origin = _origin(config.endpoint)
        self.stats = FetchStats()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._buckets: dict[str, TokenBucket] = {}
        self._random = random.Random()
        self._client = httpx.AsyncClient(
            headers={"User-Agent": config.user_agent},
            timeout=httpx.Timeout(config.timeout_s),
            follow_redirects=False,  # redirects are checked by hand: same origin only
            limits=httpx.Limits(max_connections=config.concurrency),
            trust_env=False,
        )

    async def close(self) -> None:
        await self._client.aclose()

    def url(self, path: str) -> str:
        return self.config.endpoint + path

    async def fetch(self, method: str, url: str, *, json_body: dict | None = None, follow_redirects: bool = True,
                    validate: Callable[[bytes], object] | None = None) -> Response:
        """The first answer that is not worth retrying: 2xx (valid, if ``validate`` is given), 3xx, 4xx.

        Retried, up to ``max_attempts`` in all: 5xx, 429 (after its Retry-After), timeouts, connection
        errors, truncated bodies and 2xx bodies that ``validate`` rejects (raises InputError or ValueError).
        Raises FetchError when the attempts run out, and at once for an oversized body or an off-site
        or endless redirect.
        """
        config, redirects, attempt = self.config, 0, 0
        last_reason = "no_attempt"
        while attempt < config.max_attempts:
            attempt += 1
            response, reason, delay = await self._attempt(method, url, json_body, attempt, validate)
            if reason is None and 300 <= response.status < 400 and follow_redirects:
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise FetchError("too_many_redirects", url)
                url = self.same_origin(url, response.headers.get("location", ""))
                attempt -= 1  # a redirect is not a failed attempt
                continue
            if reason is None:
                return response
            last_reason = reason
            if attempt < config.max_attempts:
                self.stats.retries += 1
                await asyncio.sleep(delay if delay is not None else self._backoff(attempt))
        raise FetchError(last_reason, f"after {attempt} attempts")

    async def _attempt(self, method, url, json_body, attempt, validate
                       ) -> tuple[Response | None, str | None, float | None]:
        """One request: (response, reason to retry or None, wait before retrying or None for backoff)."""
        config = self.config
        bucket = self._bucket(url)
        status, size, error, too_large, response = None, 0, None, None, None
        started = time.monotonic()
        async with self._turn(bucket):
            self.stats.requests += 1
            try:
                async with asyncio.timeout(config.timeout_s):
                    async with self._client.stream(method, url, json=json_body) as r:
                        status = r.status_code
                        declared = r.headers.get("content-length", "")
                        if declared.isdigit() and int(declared) > config.max_bytes:
                            raise _TooLarge(f"Content-Length {declared} > {config.max_bytes}")
                        chunks = []
                        async for chunk in r.aiter_bytes():
                            size += len(chunk)
                            if size > config.max_bytes:
                                raise _TooLarge(f"more than {config.max_bytes} bytes")
                            chunks.append(chunk)
                        response = Response(url, status, r.headers, b"".join(chunks))
            except _TooLarge as exc:
                too_large = str(exc)
            except (TimeoutError, httpx.TimeoutException):
                error = "timeout"
            except httpx.RemoteProtocolError as exc:  # e.g. closed before Content-Length bytes arrived
                error = f"protocol_error: {_first_line(exc)}"
            except httpx.TransportError as exc:  # connection refused or reset, DNS, ...
                error = f"network_error: {type(exc).__name__}"
            except httpx.DecodingError as exc:  # a corrupt gzip/br body: retried like a truncated one
                error = f"decoding_error: {_first_line(exc)}"
        if response is not None and validate is not None and 200 <= status < 300:
            try:
                validate(response.body)
            except (InputError, ValueError, RecursionError) as exc:  # garbled on the way: worth a retry
                error = f"invalid_body: {getattr(exc, 'reason', None) or type(exc).__name__}"
        self.stats.bytes += size
        self.log.write(method=method, url=url, status=status, attempt=attempt, bytes=size,
                       error=f"too_large: {too_large}" if too_large else error,
                       elapsed_ms=round((time.monotonic() - started) * 1000))
        if too_large:  # it will not shrink on a retry
            raise FetchError("too_large", too_large)
        if error:
            return None, error, None
        if response.status == 429:
            wait = retry_after_s(response.headers.get("retry-after"))
            wait = min(config.retry_after_max_s, wait) if wait is not None else self._backoff(attempt)
            bucket.pause(wait)  # every request to this host waits, not just this one; other hosts' don't
            if self.on_pause is not None:
                self.on_pause(self.pauses())
            return response, "http_429", wait
        if response.status >= 500:
            return response, f"http_{response.status}", None
        return response, None, None

    @contextlib.asynccontextmanager
    async def _turn(self, bucket: TokenBucket):
        """A slot (of ``concurrency``, all hosts together) and a token from the host's bucket. A paused
        host is waited out holding no slot, so its requests never hold up those to other hosts."""
        while True:
            await bucket.wait_unpaused()
            async with self._slots:
                if await bucket.acquire(wait_out_pause=False):  # False: paused while we queued for a slot
                    yield
                    return

    def pauses(self) -> dict[str, float]:
        """Host -> seconds its pause (a 429's Retry-After) still lasts, for each host paused now."""
        return {host: left for host, bucket in sorted(self._buckets.items()) if (left := bucket.paused_for()) > 0}

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (attempt - 1))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)  # "equal jitter"

    def _bucket(self, url: str) -> TokenBucket:
        host = urlsplit(url).netloc
        if host not in self._buckets:
            self._buckets[host] = TokenBucket(self.config.rate, self.config.burst)
        return self._buckets[host]

    def same_origin(self, url: str, location: str) -> str:
        """The absolute redirect target; FetchError unless it stays on the endpoint's origin."""
        target = urljoin(url, location)
        if not location or _origin(target) != self.origin:
            raise FetchError("offsite_redirect", location[:200])
        return target


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def pause_note(pauses: dict[str, float]) -> str:
    """The progress bar's postfix for :meth:`Fetcher.pauses`: ``paused=www.ted.com 37s``; "" if none."""
    if not pauses:
        return ""
    return "paused=" + ", ".join(f"{host} {math.ceil(left)}s" for host, left in pauses.items())


# -- parsing what TED sends, defensively -----------------------------------------------------------


def check_slug(value) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise FetchError("unsafe_slug", repr(value)[:80])
    return value


def ted_language(value) -> languages.Language | None:
    """The registry language of a TED code from the network, or None when it is not a safe, known code."""
    if not isinstance(value, str) or not TED_CODE.fullmatch(value):
        return None
    try:
        return languages.from_ted(value)
    except languages.UnknownLanguageError:
        return None


def _dig(doc, *keys):
    """doc[k1][k2]... where every step is a dict; None otherwise."""
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _node_values(connection, container: str, key: str) -> list:
    """Values of ``key`` in ``{container: [{"node": {...}}]}`` or ``{container: [{...}]}``, skipping bad items."""
    items = connection.get(container) if isinstance(connection, dict) else None
    if not isinstance(items, list):
        raise InputError("malformed_metadata", f"{container!r} is not a list")
    values = []
    for item in items:
        node = item.get("node", item) if isinstance(item, dict) else None
        if isinstance(node, dict) and key in node:
            values.append(node[key])
    return values


def safe_text(value: str) -> tuple[str, str | None]:
    """``value`` with every lone surrogate replaced by U+FFFD, and the problem found
    (:func:`builder.parse.unicode_problem`), or None when there was none."""
    problem = unicode_problem(value)
    return (value, None) if problem is None else (LONE_SURROGATE.sub("\ufffd", value), problem)


def parse_video(doc, talk_id: int, slug: str | None) -> tuple[dict | None, list, list[str]]:
    """GraphQL answer -> (meta.json dict in store.META_FIELDS terms, or None when TED has no such
    talk; TED language codes that were rejected; text repairs). Raises InputError on a malformed answer.

    Text fields (title, speaker, description, published, each topic) may hold a lone surrogate: valid
    JSON (``"\\ud800"``), but no UTF-8 file holds it and the build refuses it. Such a field is kept, with
    each lone surrogate replaced by U+FFFD (:func:`safe_text`), rather than dropped: one bad character
    costs one character, not the whole title, and U+FFFD is what a UTF-8 decoder gives for the same
    damage. Each repair is returned as ``"<field>: <problem>"``; the caller logs it (``repaired_text``).
    Slugs and language codes are never repaired: they must match their patterns or are rejected.
    """
    if not isinstance(doc, dict):
        raise InputError("malformed_metadata", "not a JSON object")
    video = _dig(doc, "data", "video")
    if video is None:
        if doc.get("errors"):
            raise InputError("graphql_error", json.dumps(doc["errors"], ensure_ascii=False)[:200])
        if slug is not None:  # the talk page exists: a null video is TED's hiccup, not a 404
            raise InputError("no_video_metadata", f"/talks/{talk_id} redirects to {slug}, but GraphQL has no video")
        return None, [], []
    if not isinstance(video, dict):
        raise InputError("malformed_metadata", "'video' is not an object")
    slug = slug or check_slug(video.get("slug"))
    codes = _node_values(video.get("publishedSubtitleLanguages"), "edges", "internalLanguageCode")
    listed, rejected = [], []
    for code in codes:
        lang = ted_language(code)
        if lang is None:
            rejected.append(code if isinstance(code, str) else repr(code))
        elif lang.ted_code not in listed:  # canonical TED spelling: it names the file and the URL
            listed.append(lang.ted_code)
    repaired: list[str] = []

    def text(name: str, value: str) -> str:
        value, problem = safe_text(value)
        if problem:
            repaired.append(f"{name}: {problem}")
        return value

    topics = []
    if video.get("topics") is not None:
        topics = [t for t in _node_values(video["topics"], "nodes", "name") if isinstance(t, str)]
        topics = [text(f"topics[{i}]", t) for i, t in enumerate(topics)]
    # The url is TED's canonical one even when crawling a mirror: it names the talk, not our source.
    meta = {"id": talk_id, "slug": slug, "url": f"{TED_ENDPOINT}/talks/{slug}", "languages": listed,
            "topics": topics}
    for key, source in (("title", "title"), ("speaker", "presenterDisplayName"),
                        ("description", "description"), ("published", "publishedAt")):
        if isinstance(video.get(source), str):
            meta[key] = text(key, video[source])
    duration = video.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and 0 <= duration < 1e7:
        meta["duration_s"] = int(duration)
    return meta, rejected, repaired


def meta_bytes(meta: dict) -> bytes:
    """Deterministic meta.json: sorted keys, no timestamps of ours, so reruns write the same bytes.
    ``meta`` is :func:`parse_video`'s, whose text is valid Unicode."""
    return (json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def read_stored_meta(path: Path) -> dict | None:
    """A meta.json this crawler wrote earlier, re-checked as if it came from the network; None if unusable."""
    try:
        meta = json.loads(path.read_bytes())
        check_slug(meta["slug"])
        if not isinstance(meta["languages"], list):
            return None
    except (OSError, ValueError, KeyError, TypeError, FetchError):
        return None
    return meta


def parse_rss(body: bytes) -> list[tuple[int | None, str | None]]:
    """(talk id, slug) of each RSS item, newest first; either may be None. Unsafe values become None."""
    try:
        root = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises several types: ParseError, EntitiesForbidden, ...
        raise InputError("malformed_rss", type(exc).__name__) from None
    items = []
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in item}
        talk_id = None
        try:
            talk_id = parse_talk_id(fields.get("talkId", ""))
        except ValueError:
            pass
        slug = None
        path = unquote(urlsplit(fields.get("link", "")).path)
        if path.startswith("/talks/") and SLUG.fullmatch(path[len("/talks/"):].rstrip("/")):
            slug = path[len("/talks/"):].rstrip("/")
        items.append((talk_id, slug))
    return items


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# -- the store: atomic writes and the manifest -----------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename over ``path``, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def remove_stale_temps(folder: Path) -> None:
    """Temp files a killed run left behind: partial by definition."""
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
                entry.unlink()


class Manifest:
    """``RAW/.crawl/manifest.json``: talk id -> {status, reason?, slug?, transcripts: {code: {status, reason?}}}.

    A talk's status is ``ok``, ``missing`` or ``failed`` once crawled, ``in_progress`` while its
    transcripts are fetched (:meth:`start_talk`, :meth:`record_transcript`). Written whole and
    atomically, in talk id order, with no timestamps: the same outcomes give the same bytes. A run
    merges into what earlier runs recorded.
    """

    def __init__(self, path: Path):
        self.path = path
        self.talks: dict[int, dict] = {}
        self.dirty = False  # changed since the last save
        self._saved_at = time.monotonic()
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return  # none yet, or unreadable: the store itself still says which files are complete
        talks = doc.get("talks") if isinstance(doc, dict) else None
        for key, entry in (talks.items() if isinstance(talks, dict) else ()):
            if TALK_DIR.fullmatch(str(key)) and isinstance(entry, dict) and isinstance(entry.get("status"), str):
                if not isinstance(entry.get("transcripts", {}), dict):
                    entry.pop("transcripts")
                self.talks[int(key)] = entry

    def talk_status(self, talk_id: int) -> str | None:
        return self.talks.get(talk_id, {}).get("status")

    def transcript_status(self, talk_id: int, code: str) -> str | None:
        entry = self.talks.get(talk_id, {}).get("transcripts", {}).get(code)
        return entry.get("status") if isinstance(entry, dict) else None

    def record(self, talk_id: int, status: str, reason: str | None = None, slug: str | None = None,
               transcripts: dict[str, dict] | None = None) -> None:
        entry: dict = {"status": status}
        if reason:
            entry["reason"] = reason
        if slug:
            entry["slug"] = slug
        if transcripts is not None:
            merged = {**self.talks.get(talk_id, {}).get("transcripts", {}), **transcripts}
            entry["transcripts"] = {code: merged[code] for code in sorted(merged)}
        self.talks[talk_id] = entry
        self.dirty = True

    def start_talk(self, talk_id: int, slug: str) -> None:
        """The talk's transcripts are being fetched: ``in_progress``, keeping those recorded before."""
        self.record(talk_id, "in_progress", slug=slug, transcripts={})

    def record_transcript(self, talk_id: int, code: str, outcome: dict) -> None:
        """One transcript's outcome, while its talk is in progress."""
        self.record(talk_id, "in_progress", slug=self.talks.get(talk_id, {}).get("slug"), transcripts={code: outcome})

    def save(self) -> None:
        # One talk per line: readable, diffable, and still one JSON document. A lone surrogate (in a
        # reason quoting TED's answer) is written as the JSON escape \udXXX: it is always in a string.
        lines = [f"{json.dumps(str(talk_id))}: {json.dumps(self.talks[talk_id], ensure_ascii=False)}"
                 for talk_id in sorted(self.talks)]
        text = '{"format": 1, "talks": {\n' + ",\n".join(lines) + "\n}}\n"
        write_atomic(self.path, text.encode("utf-8", "backslashreplace"))
        self.dirty = False
        self._saved_at = time.monotonic()

    def save_every(self, seconds: float) -> None:
        """Save if anything changed and the last save is ``seconds`` old or more."""
        if self.dirty and time.monotonic() - self._saved_at >= seconds:
            self.save()


# -- the talk pipeline: slug -> metadata -> transcripts --------------------------------------------


@dataclass
class CrawlSummary:
    talks_ok: int = 0
    talks_missing: int = 0
    talks_failed: int = 0
    transcripts_fetched: int = 0
    transcripts_cached: int = 0  # complete before this run: not fetched again
    transcripts_missing: int = 0
    transcripts_failed: int = 0
    languages_rejected: int = 0  # unsafe or unknown codes in TED's metadata, see the log
    texts_repaired: int = 0  # metadata text with lone surrogates, stored with U+FFFD; see the log
    requests: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def transcripts_ok(self) -> int:
        return self.transcripts_fetched + self.transcripts_cached

    def summary(self) -> str:
        talks = self.talks_ok + self.talks_missing + self.talks_failed
        transcripts = self.transcripts_ok + self.transcripts_missing + self.transcripts_failed
        text = (
            f"talks: {talks} ({self.talks_ok} ok, {self.talks_missing} missing on TED, {self.talks_failed} failed); "
            f"transcripts: {transcripts} ({self.transcripts_ok} ok of which {self.transcripts_cached} already stored, "
            f"{self.transcripts_missing} missing on TED, {self.transcripts_failed} failed); "
            f"{self.requests} requests, {self.retries} retries, {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s"
        )
        if self.languages_rejected:
            text += f"; {self.languages_rejected} unsafe or unknown language codes rejected"
        if self.texts_repaired:
            text += f"; {self.texts_repaired} metadata texts with lone surrogates stored with U+FFFD"
        if self.failures:
            text += "\nfailures: " + ", ".join(f"{reason} {n}" for reason, n in sorted(self.failures.items()))
        return text

    def as_dict(self) -> dict:
        return asdict(self) | {"transcripts_ok": self.transcripts_ok}


class TalkCrawler:
    def __init__(self, config: CrawlConfig, fetcher: Fetcher, manifest: Manifest, summary: CrawlSummary,
                 log: RunLog, bars: tuple[tqdm, tqdm]):
        self.config, self.fetcher, self.manifest, self.summary, self.log = config, fetcher, manifest, summary, log
        self.talk_bar, self.transcript_bar = bars
        self.wanted = frozenset(config.languages) if config.languages else None

    async def crawl_talk(self, talk_id: int) -> None:
        status = await self._talk_outcome(talk_id)
        setattr(self.summary, f"talks_{status}", getattr(self.summary, f"talks_{status}") + 1)
        self.talk_bar.update()
        self.manifest.save_every(self.config.manifest_every_s)

    async def _talk_outcome(self, talk_id: int) -> str:
        folder = self.config.out / str(talk_id)
        await asyncio.to_thread(remove_stale_temps, folder)
        if self.manifest.talk_status(talk_id) == "missing":  # TED said so before: don't ask again
            return "missing"
        meta = await asyncio.to_thread(read_stored_meta, folder / "meta.json")
        if meta is None:
            try:
                meta = await self.fetch_meta(talk_id)
            except (FetchError, InputError) as exc:
                self.manifest.record(talk_id, "failed", reason=str(exc))
                self._count_failure(str(exc))
                return "failed"
            if meta is None:
                self.manifest.record(talk_id, "missing", reason="not on TED")
                return "missing"
            await asyncio.to_thread(write_atomic, folder / "meta.json", meta_bytes(meta))
        codes = [code for code in meta["languages"] if (lang := ted_language(code))
                 and (self.wanted is None or lang.code in self.wanted)]
        self.transcript_bar.total += len(codes)
        self.transcript_bar.refresh()
        self.manifest.start_talk(talk_id, meta["slug"])
        self.manifest.save_every(self.config.manifest_every_s)
        outcomes = await asyncio.gather(*(self.crawl_transcript(talk_id, meta["slug"], code) for code in codes))
        self.manifest.record(talk_id, "ok", slug=meta["slug"], transcripts=dict(zip(codes, outcomes)))
        return "ok"

    async def fetch_meta(self, talk_id: int) -> dict | None:
        """Slug from the /talks/<id> redirect, then the GraphQL metadata. None: TED has no such talk."""
        fetcher = self.fetcher
        answer = await fetcher.fetch("GET", fetcher.url(f"/talks/{talk_id}"), follow_redirects=False)
        if answer.status in MISSING_STATUSES:
            return None
        slug = None
        if 300 <= answer.status < 400:
            target = fetcher.same_origin(answer.url, answer.headers.get("location", ""))
            path = unquote(urlsplit(target).path)
            prefix = urlsplit(self.config.endpoint).path + "/talks/"
            if not path.startswith(prefix):
                raise FetchError("unexpected_redirect", path[:200])
            slug = check_slug(path[len(prefix):].rstrip("/"))
        elif answer.status != 200:  # 200: no redirect (a mirror, say); GraphQL knows talks by id too
            raise FetchError(f"http_{answer.status}", answer.url)
        meta, rejected, repaired = parse_video(await self.query_video(slug or str(talk_id)), talk_id, slug)
        if rejected:
            self.summary.languages_rejected += len(rejected)
            self.log.write(event="rejected_languages", talk_id=talk_id, codes=[c[:80] for c in rejected[:50]])
        if repaired:
            self.summary.texts_repaired += len(repaired)
            self.log.write(event="repaired_text", talk_id=talk_id, replacement="U+FFFD", fields=repaired[:50])
        return meta

    async def query_video(self, video_id: str) -> dict:
        """TED's GraphQL answer (a JSON object) for a slug or a talk id."""
        fetcher = self.fetcher
        answer = await fetcher.fetch("POST", fetcher.url("/graphql"), validate=_json_object,
                                     json_body={"query": VIDEO_QUERY, "variables": {"videoId": video_id}})
        if answer.status != 200:
            raise FetchError(f"http_{answer.status}", "graphql")
        return json.loads(answer.body)

    async def crawl_transcript(self, talk_id: int, slug: str, code: str) -> dict:
        name = f"{code}.json"
        if not LANG_FILE.fullmatch(name):  # codes come from the registry; this is a second lock
            raise AssertionError(f"unsafe file name {name!r}")
        path = self.config.out / str(talk_id) / name
        outcome = await self._transcript_outcome(talk_id, slug, code, path)
        self.manifest.record_transcript(talk_id, code, outcome)
        self.manifest.save_every(self.config.manifest_every_s)
        if outcome["status"] == "missing":
            self.summary.transcripts_missing += 1
        elif outcome["status"] == "failed":
            self.summary.transcripts_failed += 1
            self._count_failure(outcome["reason"])
        self.transcript_bar.update()
        return outcome

    async def _transcript_outcome(self, talk_id: int, slug: str, code: str, path: Path) -> dict:
        if path.exists():
            self.summary.transcripts_cached += 1
            return {"status": "ok"}
        if self.manifest.transcript_status(talk_id, code) == "missing":
            return {"status": "missing"}
        fetcher = self.fetcher
        try:
            answer = await fetcher.fetch("GET", fetcher.url(f"/talks/{slug}/transcript.json?language={code}"),
                                         validate=parse_transcript_json)
        except FetchError as exc:
            return {"status": "failed", "reason": str(exc)}
        if answer.status in MISSING_STATUSES:
            return {"status": "missing"}
        if answer.status != 200:
            return {"status": "failed", "reason": f"http_{answer.status}"}
        await asyncio.to_thread(write_atomic, path, answer.body)  # verbatim, as TED served it
        self.summary.transcripts_fetched += 1
        return {"status": "ok"}

    def _count_failure(self, reason: str) -> None:
        key = reason.split(":", 1)[0]
        self.summary.failures[key] = self.summary.failures.get(key, 0) + 1


def _json_object(body: bytes) -> dict:
    doc = json.loads(body)
    if not isinstance(doc, dict):
        raise InputError("malformed_json", "not a JSON object")
    return doc


async def latest_talk_ids(fetcher: Fetcher, count: int, crawler: TalkCrawler) -> tuple[int, ...]:
    """The newest ``count`` talks of TED's RSS feed. An item without a talk id is looked up by slug."""
    answer = await fetcher.fetch("GET", fetcher.url("/talks/rss"), validate=parse_rss)
    if answer.status != 200:
        raise FetchError(f"http_{answer.status}", "RSS feed")
    ids: list[int] = []
    for talk_id, slug in parse_rss(answer.body):
        if len(ids) == count:
            break
        if talk_id is None and slug is not None:
            try:
                video_id = _dig(await crawler.query_video(slug), "data", "video", "id")
            except FetchError:
                video_id = None
            talk_id = parse_talk_id(video_id) if isinstance(video_id, str) and TALK_DIR.fullmatch(video_id) else None
        if talk_id is not None and talk_id not in ids:
            ids.append(talk_id)
    return tuple(ids)


# -- the run ---------------------------------------------------------------------------------------


def crawl(config: CrawlConfig) -> CrawlSummary:
    """Crawl the configured talks into ``config.out``; safe to rerun and to interrupt."""
    return asyncio.run(_crawl(config))


async def _crawl(config: CrawlConfig) -> CrawlSummary:
    started = time.monotonic()
    state = config.out / ".crawl"
    state.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(state)
    log = RunLog(state / "log.jsonl")
    log.write(event="start", version=__version__, endpoint=config.endpoint, user_agent=config.user_agent,
              talks=len(config.talk_ids) or f"latest {config.latest}", languages=config.languages,
              rate=config.rate, concurrency=config.concurrency)
    manifest = Manifest(state / "manifest.json")
    summary = CrawlSummary()
    bars = (tqdm(total=len(config.talk_ids), unit="talk", desc="talks", position=0, disable=not config.progress),
            tqdm(total=0, unit="file", desc="transcripts", position=1, disable=not config.progress))
    shown = [""]

    def show_pauses(pauses: dict[str, float]) -> None:  # on the talks bar: paused=www.ted.com 37s
        if (note := pause_note(pauses)) != shown[0]:
            shown[0] = note
            bars[0].set_postfix_str(note)

    fetcher = Fetcher(config, log, on_pause=show_pauses)
    crawler = TalkCrawler(config, fetcher, manifest, summary, log, bars)
    housekeeping = asyncio.create_task(_housekeeping(config, manifest, fetcher, show_pauses))
    try:
        talk_ids = config.talk_ids or await latest_talk_ids(fetcher, config.latest, crawler)
        bars[0].total = len(talk_ids)
        pending = iter(talk_ids)

        async def worker() -> None:
            for talk_id in pending:  # shared: each worker takes the next talk when it is free
                await crawler.crawl_talk(talk_id)

        workers = [asyncio.create_task(worker()) for _ in range(min(config.concurrency, len(talk_ids)))]
        try:
            await asyncio.gather(*workers)
        finally:  # on an error in one worker, stop the others before the client closes
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
    finally:
        housekeeping.cancel()
        await asyncio.gather(housekeeping, return_exceptions=True)
        show_pauses({})
        manifest.save()
        await fetcher.close()
        for bar in bars:
            bar.close()
        stats = fetcher.stats
        summary.requests, summary.retries, summary.bytes = stats.requests, stats.retries, stats.bytes
        summary.seconds = time.monotonic() - started
        log.write(event="end", summary=summary.as_dict())
        log.close()
    return summary


async def _housekeeping(config: CrawlConfig, manifest: Manifest, fetcher: Fetcher,
                        show_pauses: Callable[[dict[str, float]], None]) -> None:
    """For the whole run: keeps the progress bar's pause note current, and saves the manifest when it
    is due even if nothing else changes for a while (a long stall still shows the progress so far)."""
    tick = min(HOUSEKEEPING_TICK_S, max(config.manifest_every_s, 0.01))
    while True:
        await asyncio.sleep(tick)
        show_pauses(fetcher.pauses())
        manifest.save_every(config.manifest_every_s)
