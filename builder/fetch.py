"""The crawler's HTTP client: one polite client for a run, with retries, a size cap and a request log.

Polite: one client, a global limit on requests in flight, a token bucket per host, a User-Agent that
says who is asking, backoff with jitter on 5xx and network errors, and the server's ``Retry-After`` on
429 (capped at ``retry_after_max_s``), which pauses every request to that host and to no other:
requests wait out a host's pause holding none of the slots in flight (:meth:`Fetcher.pauses` says
which hosts are paused, for the progress bar's ``paused=<host> <seconds>s``).

Safe: redirects are followed only on the same origin, bodies are streamed with a size cap, and a body
is handed to the caller's ``validate`` before it counts as an answer (a garbled one is retried). It
knows nothing of TED (that is :mod:`builder.ted_api`) nor of the store (:mod:`builder.crawl`).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__
from .records import InputError

PROJECT_URL = "https://github.com/ted2025/ted2025"  # placeholder until the repository is public
MAX_REDIRECTS = 5


def user_agent(contact: str = PROJECT_URL) -> str:
    """Who is asking: the crawler, its version and a contact (URL or e-mail) for TED to write to."""
    if not re.fullmatch(r"[\x21-\x7e]{1,200}", contact) or any(c in contact for c in "();"):
        raise ValueError(f"contact must be a URL or e-mail address without spaces, got {contact!r}")
    return f"ted2025-crawler/{__version__} (+{contact}; research corpus)"


USER_AGENT = user_agent()


class ClientSettings(Protocol):
    """What the client reads from its configuration (:class:`builder.crawl.CrawlConfig` has it all)."""

    endpoint: str  # base URL: the origin redirects must stay on
    concurrency: int  # requests in flight, all hosts together
    rate: float  # requests per second per host (token bucket)
    burst: int  # token bucket size
    max_attempts: int  # per request, retries included
    backoff_base_s: float  # first retry waits about this long, then doubling, with jitter
    backoff_max_s: float
    retry_after_max_s: float  # cap on a 429's Retry-After
    timeout_s: float  # whole request, body included
    max_bytes: int
    user_agent: str


class EventLog(Protocol):
    """Where each request outcome goes (:class:`builder.crawl_state.RunLog`)."""

    def write(self, **record) -> None: ...


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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class FetchStats:
    requests: int = 0
    retries: int = 0
    bytes: int = 0


class Fetcher:
    """One HTTP client for the run. :meth:`fetch` retries what is worth retrying and logs every outcome.

    ``on_pause`` is called with :meth:`pauses` whenever a 429 pauses a host (the progress bar's note).
    """

    def __init__(self, config: ClientSettings, log: EventLog,
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

