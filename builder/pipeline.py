"""The build: read -> clean -> align -> filter -> split -> write, talk by talk.

:func:`build_talk` turns one talk into rows and drops; it is pure and runs in worker
processes. :func:`build` streams talks through it in talk-id order and writes as it goes, so
memory does not grow with the corpus. What else goes into the corpus folder before its atomic
commit (the pair shards, the card) is passed in as :class:`BeforeCommit` steps by the layer
that composes the stages (:mod:`builder.compose`); this module calls no other stage.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import pyarrow as pa
from tqdm.auto import tqdm

from . import languages
from .align import TIMED, UNTIMED, align
from .clean import CellFilter, FilterSettings, clean_text
from .contract import ALIGNMENT_DIR, BASE_MERGE, REPORT, UNIT_COLUMN, alignment_schema, merge_column, wide_schema
from .records import Drop, Skip, Talk, Track
from .report import BuildReport, TalkCounts
from .segment import GRANULARITIES, coarser_timing, cue_units, timing_quantum, units_for
from .splits import DEFAULT_SPLITS, assign
from .store import discover, languages_in, read_talk, synthetic_marker
from .wit3 import is_wit3, read_wit3
from .write import (
    TOOL,
    CorpusWriter,
    RowStream,
    check_output,
    check_replaceable,
    commit,
    output_lock,
    recover,
    staging_for,
    write_table,
)


@dataclass(frozen=True)
class BuildSettings:
    granularity: str = "sentence"
    languages: tuple[str, ...] | None = None  # registry codes; None = every language found
    min_languages: int = 2
    merge_quorum: float = 0.0  # see align.py: 0 = any language's merge request is granted
    splits: dict = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    filters: FilterSettings = field(default_factory=FilterSettings)

    def __post_init__(self):
        if self.granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, got {self.granularity!r}")
        if not 0 <= self.merge_quorum <= 1:
            raise ValueError(f"merge_quorum must be in [0, 1], got {self.merge_quorum}")
        if self.min_languages < 1:
            raise ValueError(f"min_languages must be >= 1, got {self.min_languages}")


@dataclass
class TalkResult:
    talk_id: int
    columns: dict[str, list] = field(default_factory=dict)
    num_rows: int = 0
    finest: dict[str, list] = field(default_factory=dict)  # the alignment/ rows: one per pivot unit
    num_finest: int = 0
    drops: list[tuple] = field(default_factory=list)  # (talk_id, segment_id or None before alignment, language, reason, text)
    counts: TalkCounts = field(default_factory=TalkCounts)
    skips: list[Skip] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)

    def drop(self, segment_id: int | None, language: str, reason: Drop, text: str) -> None:
        """Count a dropped cell and keep its text for drops.parquet (``segment_id`` None: before alignment)."""
        self.drops.append((self.talk_id, segment_id, language, reason.value, text))
        self.counts.cells_dropped[reason.value] += 1


def build_talk(talk: Talk, settings: BuildSettings) -> TalkResult:
    """Clean, align and filter one talk. Pure: the same talk gives the same result."""
    result = TalkResult(talk.talk_id, meta=talk.meta)
    counts = result.counts
    units_by_language = {}
    resolution = {}  # code -> timing quantum of its track
    timed = True
    for code, track in talk.tracks.items():
        for text in track.malformed:  # cue blocks that did not parse: no segment, but not lost
            result.drop(None, code, Drop.MALFORMED_CUE, text)
        counts.cues += len(track.cues)
        counts.formats[track.source] += 1
        cues = _clean_cues(track, counts)
        timed = track.timed
        # Untimed (WIT3) segments are already sentences, with exact positions: keep them whole.
        units = units_for(cues, settings.granularity, languages.get(code).script) if track.timed else cue_units(cues)
        if units:
            units_by_language[code] = units
            resolution[code] = timing_quantum(cues) if track.timed else 0.0
        else:
            result.skips.append(Skip("track", "empty_after_cleaning", talk.talk_id, code))
    if len(units_by_language) < 2:
        result.skips.append(Skip("talk", "single_language", talk.talk_id,
                                 detail=f"usable languages after cleaning: {sorted(units_by_language) or 'none'}"))
        return result
    counts.tracks_used = len(units_by_language)

    pivot = "en" if "en" in units_by_language else max(units_by_language, key=lambda c: (len(units_by_language[c]), -languages.rank(c)))
    order = sorted(units_by_language, key=lambda c: (c != pivot, languages.rank(c)))
    for code in order[1:]:  # a track timed on another grid than the pivot's is less certain
        if resolution[code] != resolution[pivot]:
            units_by_language[code] = coarser_timing(units_by_language[code], max(resolution[code], resolution[pivot]))
    tolerance = replace(TIMED if timed else UNTIMED, merge_quorum=settings.merge_quorum)
    alignment = align(units_by_language, pivot, tolerance, settings.granularity, timed)
    segments = alignment.segments
    counts.cuts.update(+alignment.cuts)

    cell_filter = CellFilter(settings.filters, pivot)
    rows: list[tuple[int, object, dict[str, str]]] = []
    for segment_id, segment in enumerate(segments):
        kept: dict[str, str] = {}
        for code in order:
            texts = segment.units.get(code)
            if texts is None:
                continue
            text = languages.joiner(code).join(texts)
            reason = Drop.ALIGNMENT_CONFLICT if code in segment.conflicts else cell_filter.check(code, text, kept.get(pivot))
            if reason:
                result.drop(segment_id, code, reason, text)
            else:
                kept[code] = text
        if len(kept) < settings.min_languages:
            for code, text in kept.items():
                result.drops.append((talk.talk_id, segment_id, code, Drop.BELOW_MIN_LANGUAGES.value, text))
            counts.cells_dropped[Drop.BELOW_MIN_LANGUAGES.value] += len(kept)  # even 0: the report then names the reason
            continue
        rows.append((segment_id, segment, kept))
    if not rows:
        result.skips.append(Skip("talk", "no_rows_after_cleaning", talk.talk_id,
                                 detail=f"cells dropped: {dict(counts.cells_dropped)}"))

    columns: dict[str, list] = {
        "talk_id": [talk.talk_id] * len(rows),
        "segment_id": [segment_id for segment_id, _, _ in rows],
        "start_ms": [round(s.start) if timed else None for _, s, _ in rows],
        "end_ms": [round(s.end) if timed else None for _, s, _ in rows],
        "num_languages": [len(kept) for _, _, kept in rows],
    }
    for code in order:
        values = [kept.get(code) for _, _, kept in rows]
        if any(v is not None for v in values):
            columns[code] = values
            counts.cells_kept[code] = sum(v is not None for v in values)
    counts.parallelism.update(columns["num_languages"])
    counts.rows = len(rows)
    result.columns, result.num_rows = columns, len(rows)
    result.languages = [code for code in order if code in columns]
    if rows:
        result.finest = _finest_rows(talk.talk_id, units_by_language[pivot], alignment, result.drops, order, timed)
        result.num_finest = len(units_by_language[pivot])
    return result


def _finest_rows(talk_id: int, pivot_units, alignment, drops: list[tuple], order: list[str], timed: bool) -> dict[str, list]:
    """The talk's rows of the finest table (builder.contract): each pivot unit, each language's
    texts anchored there, and the merges each language asks for. A cell the all-way build
    dropped stays dropped here (its text and reason are in drops.parquet), except for
    ``below_min_languages``, which depends on the subset and is the loader's to apply."""
    unanchored = (Drop.BELOW_MIN_LANGUAGES, Drop.MALFORMED_CUE)
    dropped = {(segment_id, code) for _, segment_id, code, reason, _ in drops if reason not in unanchored}
    n = len(pivot_units)
    pieces: dict[str, list[list[str]]] = {code: [[] for _ in range(n)] for code in order}
    pivot = order[0]
    for k, unit in enumerate(pivot_units):
        if (alignment.segment_of[k], pivot) not in dropped:
            pieces[pivot][k].append(unit.text)
    for code, placements in alignment.placements.items():
        for placement in placements:
            if (placement.segment, code) not in dropped:
                pieces[code][placement.anchor].append(placement.text)
    columns: dict[str, list] = {
        "talk_id": [talk_id] * n,
        UNIT_COLUMN: list(range(n)),
        "start_ms": [round(u.start) if timed else None for u in pivot_units],
        "end_ms": [round(u.end) if timed else None for u in pivot_units],
        BASE_MERGE: [*alignment.base_merges, False],
    }
    for code in order:
        joiner = languages.joiner(code)
        columns[code] = [joiner.join(texts) if texts else None for texts in pieces[code]]
        requested = alignment.requests.get(code, ())
        columns[merge_column(code)] = [k in requested for k in range(n)]
    return columns


def _clean_cues(track: Track, counts: TalkCounts):
    cleaned = []
    for cue in track.cues:
        text, tags = clean_text(cue.text)
        counts.sound_tags_removed += tags
        if cue.text.strip():
            counts.cue_texts_in += 1
        if not text:
            counts.cues_emptied += bool(cue.text.strip())
            continue
        cleaned.append(type(cue)(cue.start, cue.end, text, cue.paragraph))
    return cleaned


def _process(job: tuple[Path | Talk, BuildSettings, frozenset | None]) -> TalkResult:
    item, settings, wanted = job
    if isinstance(item, Talk):
        return build_talk(item, settings)
    talk, skips = read_talk(item, wanted, root=item.parent)
    if talk is None:
        result = TalkResult(int(item.name))
    else:
        result = build_talk(talk, settings)
    result.skips[:0] = skips
    return result


def _scan_languages(folders: list[Path], wanted: frozenset | None) -> list[str]:
    """Languages that have at least one file: the wide table's columns, in registry order."""
    found = set().union(*(languages_in(folder) for folder in folders))
    if wanted is not None:
        found &= wanted
    return sorted(found, key=languages.rank)


TALK_SCHEMA = pa.schema([
    ("talk_id", pa.int64()), ("split", pa.string()), ("source", pa.string()), ("slug", pa.string()),
    ("title", pa.string()), ("speaker", pa.string()), ("published", pa.string()), ("url", pa.string()),
    ("topics", pa.list_(pa.string())), ("languages", pa.list_(pa.string())), ("num_segments", pa.int32()),
])
SKIPS_FILE = "reports/skips.parquet"
SKIP_SCHEMA = pa.schema([
    ("level", pa.string()), ("reason", pa.string()), ("talk_id", pa.string()), ("language", pa.string()),
    ("path", pa.string()), ("detail", pa.string()),
])
DROP_SCHEMA = pa.schema([
    ("talk_id", pa.int64()), ("segment_id", pa.int32()), ("language", pa.string()), ("reason", pa.string()), ("text", pa.string()),
])


class BeforeCommit(Protocol):
    """A step run on the staging folder once its tables and build report are written, before the
    atomic commit (e.g. :class:`builder.pairs.PairShards`, the card). An error in it leaves OUT
    as it was, and no staging folder behind."""

    def check(self, corpus_languages: list[str]) -> None:
        """Refuse (ValueError) what the source cannot give, once its languages are known and
        before any talk is built."""

    def __call__(self, staging: Path) -> None: ...


def build(
    source: Path,
    out: Path,
    settings: BuildSettings | None = None,
    *,
    workers: int | None = None,
    progress: bool = True,
    before_commit: Sequence[BeforeCommit] = (),
) -> dict:
    """Build the corpus folder ``out`` from a raw store or a WIT3 folder. Returns the report.

    ``out`` gets the tables (data/, alignment/), metadata/talks.parquet, reports/ and
    build_report.json, and whatever the ``before_commit`` steps add, in order, to the staging
    folder; it is replaced only once all of them have run. ``ted2025 build``
    (:func:`builder.compose.build_corpus`) passes the pair shards and the card.
    """
    settings = settings or BuildSettings()
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise FileNotFoundError(f"source {source} is not a folder")
    check_output(out)
    with output_lock(out):  # one build owns OUT until its commit
        recover(out)
        check_replaceable(out)  # again: a build that held the lock may have just replaced OUT
        return _build(source, out, settings, workers=workers, progress=progress, before_commit=before_commit)


def _build(source: Path, out: Path, settings: BuildSettings, *, workers, progress, before_commit) -> dict:
    wanted = frozenset(languages.get(c).code for c in settings.languages) if settings.languages else None
    kind = "wit3" if is_wit3(source) else "raw"
    report = BuildReport(str(source), kind, _settings_dict(settings), synthetic=synthetic_marker(source))

    if kind == "wit3":
        talks, skips = read_wit3(source, wanted)
        jobs: list = talks
        columns = sorted({code for talk in talks for code in talk.tracks}, key=languages.rank)
    else:
        jobs, skips = discover(source)
        columns = _scan_languages(jobs, wanted)
    for step in before_commit:
        step.check(columns)

    staging = staging_for(out)
    writer = CorpusWriter(staging, wide_schema(columns, settings.granularity), alignment_schema(columns, settings.granularity))
    drops = RowStream(staging / "reports" / "drops.parquet", DROP_SCHEMA)
    skips_file = RowStream(staging / SKIPS_FILE, SKIP_SCHEMA, batch_rows=10_000)  # every skip: the JSON lists 10,000

    def record_skip(item: Skip) -> None:
        report.skip(item)
        skips_file.extend([_skip_row(item)])

    for early in skips:
        record_skip(early)
    talk_rows = []  # one small row per talk
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    work = ((job, settings, wanted) for job in jobs)
    bar = tqdm(total=len(jobs), unit="talk", desc="build", disable=not progress)
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(_process, work, chunksize=4) if pool else map(_process, work)
        for result in results:
            report.talks_seen += 1
            for talk_skip in result.skips:
                record_skip(talk_skip)
            split = assign(result.talk_id, settings.splits) if result.num_rows else None
            report.add_talk(result.counts, split)
            if split:
                writer.write(split, result.columns, result.num_rows)
                writer.write(split, result.finest, result.num_finest, ALIGNMENT_DIR)
                talk_rows.append(_talk_row(result, split, kind))
            drops.extend(result.drops)
            bar.update()
            bar.set_postfix(rows=report.totals.rows, refresh=False)
    except BaseException:
        # Ctrl-C or an error: stop the workers now (close() would let them finish the whole
        # corpus) and leave no staging folder behind; OUT is untouched.
        if pool:
            pool.terminate()
        writer.abort()
        drops.close()
        skips_file.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        bar.close()
        if pool:
            pool.close()
            pool.join()

    try:  # an error from here on also leaves no staging folder, and OUT as it was
        report.splits = writer.close()
        write_table(staging / "metadata" / "talks.parquet", pa.Table.from_pylist(talk_rows, TALK_SCHEMA))
        drops.close()
        skips_file.close()
        summary = report.as_dict() | {"tool": TOOL, "skips_file": SKIPS_FILE}
        # Every name in it went through store.shown(); backslashreplace is the last guard for JSON.
        text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        (staging / REPORT).write_bytes(text.encode("utf-8", "backslashreplace"))
        for step in before_commit:
            step(staging)
        commit(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary | {"summary": report.summary()}


def _skip_row(skip: Skip) -> tuple:
    safe = lambda value: None if value is None else str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    return tuple(safe(getattr(skip, name)) for name in SKIP_SCHEMA.names)


def _talk_row(result: TalkResult, split: str, kind: str) -> dict:
    meta = result.meta
    return {
        "talk_id": result.talk_id, "split": split, "source": kind,
        "slug": meta.get("slug"), "title": meta.get("title"), "speaker": meta.get("speaker"),
        "published": meta.get("published"), "url": meta.get("url"),
        "topics": meta.get("topics") or [t.strip() for t in meta.get("keywords", "").split(",") if t.strip()],
        "languages": result.languages, "num_segments": result.num_rows,
    }


def _settings_dict(settings: BuildSettings) -> dict:
    d = asdict(settings)
    d["languages"] = list(settings.languages) if settings.languages else None
    return d
