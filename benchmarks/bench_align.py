"""Alignment quality on the real TED talks in ../shared: grain, time consistency, WIT3 precision,
subset grain.

    python benchmarks/bench_align.py [--talks 10 200] [--json out.json]

Four measures, all computed from ``build_talk`` (the code path of ``ted2025 build``), with the
default settings unless noted:

- **grain**: all-way rows that hold English, divided by the number of English sentence ends
  (the English track's sentence units). 1.0 means one row per English sentence.
- **time consistency**: every cell's text is located in its own language's cues (the cues it
  was cut from, by character position, so no interpolation is involved). The span of those
  cues must overlap the span of the row's English cues by at least half of the longer of the
  two, less one second of slack when either track has whole-second timing. Measured in the
  all-way build and in ``--languages en-xx`` builds of every pair (filters off, so only the
  alignment is judged).
- **WIT3 precision**: WIT3 pairs are segment-parallel by seg id. A row is correct for a pair
  en-x when the x segments in it are exactly the gold twins of the English segments in it
  (a union of gold beads); precision is the share of rows (with both languages) that are;
- **subset grain**: rows of each en-x subset ÷ rows of a dedicated en-x build, filters off:
  as the all-way rows that have both (how subsets were served before format 2) and as
  composed from the finest table (how ``ted2025.load_dataset`` serves them now).

The method is general: nothing here knows a talk id or a language.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from builder.clean import FilterSettings  # noqa: E402
from builder.pipeline import BuildSettings, _clean_cues, build_talk  # noqa: E402
from builder.report import TalkCounts  # noqa: E402
from builder.segment import sentence_units, timing_quantum  # noqa: E402
from builder.store import discover, read_talk  # noqa: E402
from builder.wit3 import read_wit3  # noqa: E402

REAL = REPO.parent / "shared" / "data" / "ted_real"
VTT_DIR = REAL / "teddy_hls_vtt" / "vtt"
WIT3_DIR = REAL / "wit3_iwslt17_test"
NO_FILTERS = FilterSettings(langid=False, length_ratio=0, dedupe=False)


def _squeezed_len(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def cells_by_language(result, codes) -> dict[str, list[tuple[int, str]]]:
    """Every cell, kept or dropped, as (segment_id, text) in segment order, per language."""
    cells: dict[str, dict[int, str]] = defaultdict(dict)
    for row, segment_id in enumerate(result.columns.get("segment_id", [])):
        for code in codes:
            text = result.columns.get(code, [None] * result.num_rows)[row]
            if text is not None:
                cells[code][segment_id] = text
    for _, segment_id, code, _, text in result.drops:
        cells[code][segment_id] = text
    return {code: sorted(by_id.items()) for code, by_id in cells.items()}


def cue_spans(cells: list[tuple[int, str]], cues) -> dict[int, tuple[float, float, int, int]]:
    """segment_id -> (start, end, first cue, last cue) of the cues that hold the cell's text."""
    bounds = [0]
    for cue in cues:
        bounds.append(bounds[-1] + _squeezed_len(cue.text))
    spans, offset, i = {}, 0, 0
    for segment_id, text in cells:
        length = _squeezed_len(text)
        while i + 1 < len(bounds) and bounds[i + 1] <= offset:
            i += 1
        j = i
        while j + 1 < len(cues) and bounds[j + 1] < offset + length:
            j += 1
        spans[segment_id] = (cues[i].start, cues[j].end, i, j)
        offset += length
    return spans


def time_consistency(talk, settings: BuildSettings) -> tuple[int, int, list[str]]:
    """(cells that pass, cells checked, examples of failures)."""
    result = build_talk(talk, settings)
    cues = {code: _clean_cues(track, TalkCounts()) for code, track in talk.tracks.items()}
    cells = cells_by_language(result, talk.tracks)
    spans = {code: cue_spans(cells[code], cues[code]) for code in cells}
    passed = checked = 0
    failures = []
    for code in cells:
        if code == "en":
            continue
        slack = 1000.0 if timing_quantum(cues[code]) or timing_quantum(cues["en"]) else 0.0
        for segment_id, text in cells[code]:
            if segment_id not in spans.get("en", {}):
                continue
            xs, xe, *_ = spans[code][segment_id]
            es, ee, *_ = spans["en"][segment_id]
            overlap = min(xe, ee) - max(xs, es)
            checked += 1
            if overlap >= 0.5 * max(xe - xs, ee - es) - slack:
                passed += 1
            elif len(failures) < 5:
                failures.append(f"{talk.talk_id} {code} seg {segment_id}: {xs/1000:.1f}-{xe/1000:.1f} vs en "
                                f"{es/1000:.1f}-{ee/1000:.1f}: {text[:40]!r}")
    return passed, checked, failures


def grain(talk) -> dict:
    result = build_talk(talk, BuildSettings())
    en_cues = _clean_cues(talk.tracks["en"], TalkCounts())
    sentences = len(sentence_units(en_cues))
    en_rows = sum(v is not None for v in result.columns.get("en", []))
    return {"rows": result.num_rows, "en_rows": en_rows, "en_sentences": sentences,
            "grain": round(en_rows / sentences, 3), "cuts": sum(result.counts.cuts.values())}


def vtt_measures(talk_ids: list[str] | None) -> list[dict]:
    folders, _ = discover(VTT_DIR)
    rows = []
    for folder in folders:
        if talk_ids and folder.name not in talk_ids:
            continue
        talk, _ = read_talk(folder)
        g = grain(talk)
        all_pass, all_n, failures = time_consistency(talk, BuildSettings(min_languages=1, filters=NO_FILTERS))
        pair_pass = pair_n = 0
        pair_worst = (1.0, None)
        for code in talk.tracks:
            if code == "en":
                continue
            sub = type(talk)(talk.talk_id, {c: talk.tracks[c] for c in ("en", code)}, talk.meta, talk.source)
            p, n, f = time_consistency(sub, BuildSettings(min_languages=1, filters=NO_FILTERS))
            pair_pass, pair_n = pair_pass + p, pair_n + n
            failures += f[:1]
            if n and p / n < pair_worst[0]:
                pair_worst = (p / n, code)
        rows.append({
            "talk": talk.talk_id, "languages": len(talk.tracks), **g,
            "consistent_all_way": round(all_pass / all_n, 4), "cells_all_way": all_n,
            "consistent_pairs": round(pair_pass / pair_n, 4), "cells_pairs": pair_n,
            "worst_pair": f"{pair_worst[1]} {pair_worst[0]:.3f}" if pair_worst[1] else "-",
            "failures": failures[:8],
        })
    return rows


def subset_grain(talks) -> list[dict]:
    """Rows of each en-xx subset ÷ rows of a dedicated en-xx build of the same talk, filters off:
    *all-way* is what a subset was before (the all-way rows that have both), *composed* what
    ted2025.load_dataset returns now (the finest table composed for the pair)."""
    import pyarrow as pa

    from builder import contract

    settings = BuildSettings(filters=NO_FILTERS)
    rows = []
    for talk in talks:
        everything = build_talk(talk, settings)
        ratios_before, ratios_after = [], []
        for code in talk.tracks:
            if code == "en":
                continue
            pair = type(talk)(talk.talk_id, {c: talk.tracks[c] for c in ("en", code)}, talk.meta, talk.source)
            dedicated = build_talk(pair, settings).num_rows
            if not dedicated:
                continue
            both = sum(1 for en, x in zip(everything.columns["en"], everything.columns[code]) if en and x)
            composed = contract.compose(pa.table(everything.finest), ["en", code])
            composed_both = sum(1 for en, x in zip(composed["en"].to_pylist(), composed[code].to_pylist()) if en and x)
            ratios_before.append(both / dedicated)
            ratios_after.append(composed_both / dedicated)
        rows.append({
            "talk": talk.talk_id, "languages": len(talk.tracks),
            "all_way_grain": f"{min(ratios_before):.2f}–{max(ratios_before):.2f} (mean {sum(ratios_before) / len(ratios_before):.2f})",
            "composed_grain": f"{min(ratios_after):.2f}–{max(ratios_after):.2f} (mean {sum(ratios_after) / len(ratios_after):.2f})",
        })
    return rows


def wit3_precision() -> list[dict]:
    """Per language x: share of rows with en and x whose x segments are exactly the gold twins
    of their English segments, in the all-way build and in an en-x build."""
    talks, _ = read_wit3(WIT3_DIR)
    out: dict[tuple[str, str], Counter] = defaultdict(Counter)
    settings = BuildSettings(min_languages=1, filters=NO_FILTERS)
    for talk in talks:
        everything = build_talk(talk, settings)
        for code in talk.tracks:
            if code == "en":
                continue
            pair = type(talk)(talk.talk_id, {c: talk.tracks[c] for c in ("en", code)}, talk.meta, talk.source)
            for mode, sub, result in (("all-way", talk, everything), ("pair", pair, build_talk(pair, settings))):
                out[(code, mode)].update(_bead_precision(result, sub, code))
    return [{"language": code, "build": mode, "rows": c["rows"], "precision": round(c["correct"] / max(1, c["rows"]), 4)}
            for (code, mode), c in sorted(out.items())]


def _bead_precision(result, talk, code: str) -> Counter:
    """The WIT3 reader puts each x segment on its English twin's span of the reference English
    axis, so the gold twins of x segments are the English segments their intervals overlap."""
    counts = Counter()
    cells = cells_by_language(result, talk.tracks)
    cues = {c: _clean_cues(talk.tracks[c], TalkCounts()) for c in ("en", code)}
    en_spans = cue_spans(cells["en"], cues["en"])
    for segment_id, (_, _, xi, xj) in cue_spans(cells.get(code, []), cues[code]).items():
        if segment_id not in en_spans:
            continue
        _, _, ei, ej = en_spans[segment_id]
        x_intervals = [(cues[code][k].start, cues[code][k].end) for k in range(xi, xj + 1)]
        twins = {k for k, c in enumerate(cues["en"]) if any(min(c.end, e) - max(c.start, s) > 0 for s, e in x_intervals)}
        counts["rows"] += 1
        counts["correct"] += twins == set(range(ei, ej + 1))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--talks", nargs="*", help="WebVTT talk ids (default: every one in ../shared)")
    parser.add_argument("--no-wit3", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results_align.json")
    args = parser.parse_args()
    vtt = vtt_measures(args.talks)
    for row in vtt:
        print({k: v for k, v in row.items() if k != "failures"})
        for failure in row["failures"]:
            print("   ", failure)
    wit3 = [] if args.no_wit3 else wit3_precision()
    for row in wit3:
        print(row)
    folders, _ = discover(VTT_DIR)
    talks = [read_talk(folder)[0] for folder in folders if not args.talks or folder.name in args.talks]
    grain_rows = subset_grain(talks + ([] if args.no_wit3 else read_wit3(WIT3_DIR)[0]))
    for row in grain_rows:
        print(row)
    args.json.write_text(json.dumps({"vtt": vtt, "wit3": wit3, "subset_grain": grain_rows}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
