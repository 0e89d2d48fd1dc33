"""A crawl's own state, beside the store it fills: ``RAW/.crawl/{manifest.json, log.jsonl}``.

:class:`Manifest` records each talk and transcript as ``ok``, ``missing`` (TED answered 404) or
``failed`` with a reason, and ``in_progress`` while a talk's transcripts are fetched; it holds no
timestamps, so the same outcomes give the same bytes. :class:`RunLog` is where times go: one line per
request outcome and per run start and end. :class:`CrawlSummary` counts a run's outcomes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .rawstore import TALK_DIR, write_atomic

STATE_DIR = ".crawl"  # a dot folder: the store reader never takes it for a talk
MANIFEST_FILE = "manifest.json"
LOG_FILE = "log.jsonl"


class RunLog:
    """``RAW/.crawl/log.jsonl``: one line per request outcome and per run start/end. Append only."""

    def __init__(self, path: Path):
        # A lone surrogate from the network (a rejected language code, say) cannot be UTF-8. It only
        # occurs inside a JSON string here, where backslashreplace writes it as the JSON escape \udXXX:
        # the line stays valid JSON and reads back as what was received.
        self._file = open(path, "a", encoding="utf-8", errors="backslashreplace")

    def write(self, **record) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **record}
        self._file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


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

