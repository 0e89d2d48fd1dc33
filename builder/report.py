"""The build report: every count that explains the corpus, written as build_report.json."""

from __future__ import annotations

import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata

from .contract import FORMAT_VERSION
from .records import Skip

MAX_SKIPS_LISTED = 10_000


@dataclass
class TalkCounts:
    """What one talk contributed; summed into the report in the main process."""

    tracks_used: int = 0
    cues: int = 0
    cue_texts_in: int = 0
    sound_tags_removed: int = 0
    cues_emptied: int = 0
    rows: int = 0
    cells_kept: Counter = field(default_factory=Counter)  # language -> cells
    cells_dropped: Counter = field(default_factory=Counter)  # reason -> cells
    parallelism: Counter = field(default_factory=Counter)  # languages in row -> rows
    formats: Counter = field(default_factory=Counter)  # "json" | "vtt" | "wit3" -> tracks read
    cuts: Counter = field(default_factory=Counter)  # language -> units the aligner cut at a cue boundary


class BuildReport:
    def __init__(self, source: str, source_kind: str, settings: dict, synthetic: dict | None = None):
        self.started = time.monotonic()
        self.source, self.source_kind, self.settings = source, source_kind, settings
        self.synthetic = synthetic  # the generator's marker when the store is synthetic
        self.totals = TalkCounts()
        self.talks_seen = 0
        self.skips: list[Skip] = []
        self.skipped: dict[str, Counter] = {"talk": Counter(), "track": Counter()}
        self.splits: dict[str, dict] = {}
        self.talks_per_split: Counter = Counter()

    def skip(self, skip: Skip) -> None:
        self.skipped[skip.level][skip.reason] += 1
        if len(self.skips) < MAX_SKIPS_LISTED:
            self.skips.append(skip)

    def add_talk(self, counts: TalkCounts, split: str | None) -> None:
        t = self.totals
        for name in ("tracks_used", "cues", "cue_texts_in", "sound_tags_removed", "cues_emptied", "rows"):
            setattr(t, name, getattr(t, name) + getattr(counts, name))
        t.cells_kept.update(counts.cells_kept)
        t.cells_dropped.update(counts.cells_dropped)
        t.parallelism.update(counts.parallelism)
        t.formats.update(counts.formats)
        t.cuts.update(counts.cuts)
        if split is not None:
            self.talks_per_split[split] += 1

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def as_dict(self) -> dict:
        t = self.totals
        splits = {name: {**info, "num_talks": self.talks_per_split[name]} for name, info in self.splits.items()}
        return {
            "format_version": FORMAT_VERSION,
            "source": {"path": self.source, "kind": self.source_kind, "formats": dict(sorted(t.formats.items())),
                       "synthetic": self.synthetic},
            "settings": self.settings,
            "versions": _versions(),
            "talks": {"seen": self.talks_seen, "written": sum(self.talks_per_split.values()), "skipped": dict(self.skipped["talk"])},
            "tracks": {"used": t.tracks_used, "skipped": dict(self.skipped["track"])},
            "cues": {"in": t.cues, "sound_tags_removed": t.sound_tags_removed, "emptied_by_normalisation": t.cues_emptied},
            "cells": {"kept": sum(t.cells_kept.values()), "dropped": dict(sorted(t.cells_dropped.items()))},
            "rows": t.rows,
            "alignment": {"cuts": dict(sorted(t.cuts.items())), "cuts_total": sum(t.cuts.values())},
            "languages": dict(t.cells_kept.most_common()),
            "parallelism": {str(k): t.parallelism[k] for k in sorted(t.parallelism)},
            "splits": splits,
            "skips": [s.as_dict() for s in self.skips],
            "skips_truncated": sum(sum(c.values()) for c in self.skipped.values()) > len(self.skips),
            "elapsed_s": round(self.elapsed_s, 3),
        }

    def summary(self) -> str:
        d = self.as_dict()
        lines = [
            f"talks      {d['talks']['written']} written of {d['talks']['seen']} seen"
            + (f"; skipped {d['talks']['skipped']}" if d["talks"]["skipped"] else ""),
            f"tracks     {d['tracks']['used']} used" + (f"; skipped {d['tracks']['skipped']}" if d["tracks"]["skipped"] else ""),
            f"languages  {len(d['languages'])}",
            f"segments   {d['rows']} rows, {d['cells']['kept']} cells; max {max(map(int, d['parallelism']), default=0)}-way",
            "splits     " + ", ".join(f"{k}={v['num_rows']} rows/{v['num_talks']} talks" for k, v in d["splits"].items()),
            f"cleaning   {d['cues']['sound_tags_removed']} sound tags removed; cells dropped {d['cells']['dropped'] or 0}",
            f"time       {d['elapsed_s']:.1f} s ({d['cues']['in'] / max(d['elapsed_s'], 1e-9):,.0f} cue texts/s)",
        ]
        return "\n".join(lines)


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in ("ted2025", "pyarrow", "pycld2", "py3langid", "webvtt-py", "defusedxml", "babel"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions
