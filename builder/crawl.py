"""Crawl stage: TED talk ids -> the raw store ``RAW/<talk_id>/{meta.json, <lang>.json}`` that the build reads.

For each talk: its metadata (:func:`builder.ted_api.fetch_video`: the slug, the title, the published
subtitle languages), stored as ``meta.json``, then each transcript (:func:`builder.ted_api.fetch_transcript`),
stored verbatim. ``--latest N`` takes the talks from TED's RSS feed. Requests go through one polite
client (:mod:`builder.fetch`: rate limit per host, retries with backoff, TED's ``Retry-After``), whose
pauses the progress bar shows as ``paused=<host> <seconds>s``.

Resumable: every file is validated, then written atomically (:func:`builder.rawstore.write_atomic`), so
a file that exists is complete and is never fetched again. ``RAW/.crawl/manifest.json``
(:class:`builder.crawl_state.Manifest`) records each talk and transcript as ``ok``, ``missing`` (TED
answered 404) or ``failed`` with a reason; missing ones are not asked again, failed ones are retried on
the next run. A talk whose transcripts are being fetched is ``in_progress``, with the transcripts done
so far. The manifest is rewritten (atomically) at most every ``manifest_every_s`` seconds while anything
in it changes, during a talk as well as after one, and at the end of the run. Store files and the
manifest hold no timestamps, so a run killed at any point and rerun gives the same bytes as an
uninterrupted run; times go only to ``RAW/.crawl/log.jsonl``, one line per request outcome.

Safe: what TED sends is checked before it names a URL or a file (:mod:`builder.ted_api`), and file
names are the raw store's (:mod:`builder.rawstore`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from . import __version__, languages
from .crawl_state import LOG_FILE, MANIFEST_FILE, STATE_DIR, CrawlSummary, Manifest, RunLog
from .fetch import USER_AGENT, Fetcher, FetchError, pause_note
from .rawstore import (
    MAX_TALK_ID,
    META_FILE,
    TALK_ID_DIGITS,
    check_talk_id,
    parse_talk_id,
    remove_stale_temps,
    transcript_name,
    write_atomic,
)
from .records import InputError
from .ted_api import (
    MISSING_STATUSES,
    TED_ENDPOINT,
    check_slug,
    fetch_transcript,
    fetch_video,
    latest_talk_ids,
    ted_language,
)

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
    number = re.compile(rf"[0-9]{{1,{TALK_ID_DIGITS + 1}}}")  # B may be MAX_TALK_ID + 1: the range is half-open
    if not sep or not number.fullmatch(start) or not number.fullmatch(stop):
        raise ValueError(f"id range must look like A:B with integers A < B, got {spec!r}")
    first, end = max(1, int(start)), int(stop)
    if end > MAX_TALK_ID + 1:
        raise ValueError(f"talk ids end at {MAX_TALK_ID}, got {spec!r}")
    if end <= first:
        raise ValueError(f"empty id range {spec!r}: B must be greater than A")
    return tuple(range(first, end))


# -- the store files the crawler writes ------------------------------------------------------------


def meta_bytes(meta: dict) -> bytes:
    """Deterministic meta.json: sorted keys, no timestamps of ours, so reruns write the same bytes.
    ``meta`` is :func:`builder.ted_api.parse_video`'s, whose text is valid Unicode."""
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


# -- the talk pipeline: slug -> metadata -> transcripts --------------------------------------------


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
        meta = await asyncio.to_thread(read_stored_meta, folder / META_FILE)
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
            await asyncio.to_thread(write_atomic, folder / META_FILE, meta_bytes(meta))
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
        """TED's metadata of the talk (logging what was rejected or repaired); None: no such talk."""
        meta, rejected, repaired = await fetch_video(self.fetcher, talk_id)
        if rejected:
            self.summary.languages_rejected += len(rejected)
            self.log.write(event="rejected_languages", talk_id=talk_id, codes=[c[:80] for c in rejected[:50]])
        if repaired:
            self.summary.texts_repaired += len(repaired)
            self.log.write(event="repaired_text", talk_id=talk_id, replacement="U+FFFD", fields=repaired[:50])
        return meta

    async def crawl_transcript(self, talk_id: int, slug: str, code: str) -> dict:
        path = self.config.out / str(talk_id) / transcript_name(code)
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
        try:
            answer = await fetch_transcript(self.fetcher, slug, code)
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


# -- the run ---------------------------------------------------------------------------------------


def crawl(config: CrawlConfig) -> CrawlSummary:
    """Crawl the configured talks into ``config.out``; safe to rerun and to interrupt."""
    return asyncio.run(_crawl(config))


async def _crawl(config: CrawlConfig) -> CrawlSummary:
    started = time.monotonic()
    state = config.out / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(state)
    log = RunLog(state / LOG_FILE)
    log.write(event="start", version=__version__, endpoint=config.endpoint, user_agent=config.user_agent,
              talks=len(config.talk_ids) or f"latest {config.latest}", languages=config.languages,
              rate=config.rate, concurrency=config.concurrency)
    manifest = Manifest(state / MANIFEST_FILE)
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
        talk_ids = config.talk_ids or await latest_talk_ids(fetcher, config.latest)
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
