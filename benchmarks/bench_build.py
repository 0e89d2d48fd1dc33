"""Builder benchmarks: throughput and peak memory by store size, and alignment coverage.

    python benchmarks/bench_build.py throughput --sizes 100 500 2000 5000 [--workers 2]
    python benchmarks/bench_build.py coverage
    python benchmarks/bench_build.py hostile --sizes 100 500

``throughput`` generates a synthetic TED-shaped store per size (cached under --work), runs
``ted2025 build`` on it in a subprocess, and samples the RSS of the whole process tree
(main + workers) to get the peak. ``coverage`` compares, on the real WebVTT talks in
../shared, the fraction of each language's text that lands in multi-way rows under naive
exact-timestamp matching against our overlap aligner. Both print a markdown table and write
JSON next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

VTT_DIR = REPO.parent / "shared" / "data" / "ted_real" / "teddy_hls_vtt" / "vtt"


def run_with_peak_rss(cmd: list[str]) -> tuple[float, int, str]:
    """Wall time, peak RSS of the process tree (bytes), and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out = proc.stdout.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}")
    return time.perf_counter() - start, peak, out


def synthetic_store(work: Path, size: int, workers: int) -> Path:
    """The synthetic store of ``size`` talks under ``work`` (generated once, then reused)."""
    from builder.fixtures.synthetic import generate_store

    store = work / f"synth-{size}"
    if not (store / ".complete").exists():
        t0 = time.perf_counter()
        stats = generate_store(store, size, workers=workers)
        (store / ".complete").write_text(json.dumps({"cues": stats.cues, "tracks": stats.tracks}))
        print(f"generated {size} talks in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return store


def throughput(sizes: list[int], workers: int, work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        store = synthetic_store(work, size, workers)
        meta = json.loads((store / ".complete").read_text())
        out = work / f"corpus-{size}"
        cmd = [sys.executable, "-m", "builder.cli", "build", "--source", str(store), "--out", str(out),
               "--quiet", "--workers", str(workers)]
        wall, peak, _ = run_with_peak_rss(cmd)
        report = json.loads((out / "build_report.json").read_text())
        rows.append({
            "talks": size, "tracks": meta["tracks"], "cue_texts": report["cues"]["in"], "rows": report["rows"],
            "max_way": max(map(int, report["parallelism"])), "wall_s": round(wall, 1),
            "cue_texts_per_s": round(report["cues"]["in"] / wall), "peak_rss_mb": round(peak / 2**20),
        })
        print(rows[-1], file=sys.stderr)
    return rows


def hostile(sizes: list[int], workers: int, work: Path) -> list[dict]:
    """The same synthetic store built as it is and with one of each hostile file of
    tests/test_hostile.py added (a 3 GiB sparse transcript, a FIFO meta.json, a link to
    /dev/zero, lone surrogates, malformed cues, duplicates, ...): bounded reads mean the hostile
    build takes no longer and no more memory."""
    import shutil

    sys.path.insert(0, str(REPO / "tests"))
    import test_hostile

    rows = []
    for size in sizes:
        clean = synthetic_store(work, size, workers)
        dirty = work / f"hostile-{size}"
        shutil.rmtree(dirty, ignore_errors=True)
        shutil.copytree(clean, dirty / "raw", copy_function=os.link, symlinks=True)  # hard links: no copy of the data
        for i, kind in enumerate(test_hostile.HOSTILE):
            kind(dirty / "raw", 900_000 + i)
        for name, store in (("clean", clean), ("hostile", dirty / "raw")):
            out = work / f"corpus-{name}-{size}"
            cmd = [sys.executable, "-m", "builder.cli", "build", "--source", str(store), "--out", str(out),
                   "--quiet", "--workers", str(workers), "--no-pair-configs"]
            wall, peak, _ = run_with_peak_rss(cmd)
            report = json.loads((out / "build_report.json").read_text())
            rows.append({"talks": size, "store": name, "wall_s": round(wall, 1), "peak_rss_mb": round(peak / 2**20),
                         "rows": report["rows"], "skips": sum(report["talks"]["skipped"].values()) + sum(report["tracks"]["skipped"].values()),
                         "malformed_cue drops": report["cells"]["dropped"].get("malformed_cue", 0)})
            print(rows[-1], file=sys.stderr)
        shutil.rmtree(dirty)
    return rows


def coverage() -> list[dict]:
    """Share of each language's characters that end up in rows with >= 2 and with all languages."""
    from builder.clean import FilterSettings
    from builder.pipeline import BuildSettings, _clean_cues, build_talk
    from builder.report import TalkCounts
    from builder.store import discover, read_talk

    rows = []
    folders, _ = discover(VTT_DIR)
    for folder in folders:
        talk, _ = read_talk(folder)
        n = len(talk.tracks)
        cleaned = {code: _clean_cues(track, TalkCounts()) for code, track in talk.tracks.items()}
        chars = lambda text: len("".join(text.split()))  # noqa: E731  (joins add spaces; count letters)
        total = {code: sum(chars(c.text) for c in cues) for code, cues in cleaned.items()}

        by_start: dict[float, dict[str, int]] = defaultdict(dict)  # naive: identical start times
        for code, cues in cleaned.items():
            for cue in cues:
                by_start[cue.start][code] = by_start[cue.start].get(code, 0) + chars(cue.text)
        naive2, naive_all = defaultdict(int), defaultdict(int)
        for group in by_start.values():
            for code, count in group.items():
                if len(group) >= 2:
                    naive2[code] += count
                if len(group) == n:
                    naive_all[code] += count

        no_filters = FilterSettings(langid=False, length_ratio=0, dedupe=False)  # alignment alone
        result = build_talk(talk, BuildSettings(min_languages=1, filters=no_filters))
        ours2, ours_all = defaultdict(int), defaultdict(int)
        for row in range(result.num_rows):
            present = [c for c in talk.tracks if result.columns.get(c, [None] * result.num_rows)[row] is not None]
            for code in present:
                count = chars(result.columns[code][row])
                if len(present) >= 2:
                    ours2[code] += count
                if len(present) == n:
                    ours_all[code] += count
        for code in sorted(talk.tracks):
            rows.append({
                "talk": talk.talk_id, "language": code, "languages_in_talk": n,
                "naive_2way": round(naive2[code] / total[code], 3), "ours_2way": round(ours2[code] / total[code], 3),
                "naive_all": round(naive_all[code] / total[code], 3), "ours_all": round(ours_all[code] / total[code], 3),
            })
        rows.append({"talk": talk.talk_id, "language": "segments", "languages_in_talk": n,
                     "naive_2way": sum(len(g) >= 2 for g in by_start.values()), "ours_2way": result.num_rows,
                     "naive_all": sum(len(g) == n for g in by_start.values()),
                     "ours_all": sum(v == n for v in result.columns["num_languages"])})
    return rows


def markdown(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000, 5000])
    t.add_argument("--workers", type=int, default=2)
    t.add_argument("--work", type=Path, default=Path("/tmp/ted2025-bench"))
    h = sub.add_parser("hostile", help="the same store with and without hostile files: time and memory")
    h.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    h.add_argument("--workers", type=int, default=2)
    h.add_argument("--work", type=Path, default=Path("/tmp/ted2025-bench"))
    sub.add_parser("coverage")
    args = parser.parse_args()
    if args.what in ("throughput", "hostile"):
        args.work.mkdir(parents=True, exist_ok=True)
        rows = (throughput if args.what == "throughput" else hostile)(args.sizes, args.workers, args.work)
    else:
        rows = coverage()
    print(markdown(rows))
    (REPO / "benchmarks" / f"results_build_{args.what}.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
