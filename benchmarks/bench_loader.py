"""How fast, and in how much memory, a TED2025 subset is materialised, four ways side by side.

    python benchmarks/bench_loader.py --sizes 100 500 1000

For each size (number of talks) the script generates a synthetic raw store
(:mod:`builder.fixtures.synthetic`), builds the wide corpus from it (:func:`builder.compose.build_corpus`), derives
two older formats from the built corpus, and then materialises each subset with:

(a) ``jsonl``     the seed pipeline's JSON lines (``{"talk_id", "timestamp", "lang_list",
                  "para_data": {lang: text}, "parallelism"}``), ``json.loads`` per line and a
                  Python filter keeping rows that have every requested language;
(b) ``pandas``    one Parquet file per language, merged with pandas on (talk_id, segment_id);
(c) ``pyarrow``   a pyarrow read of just the needed columns with the filter pushed down: the floor;
(d) ``ours``      ``ted2025.load_dataset(corpus, subset)`` into a fresh datasets cache (cold), and
    ``ours-cached`` the same call again on that cache, timed separately;
(e) ``ours-stream`` ``load_dataset(..., streaming=True)``, iterated to the end (Python rows);
(f) ``baseline``  the loader as it was before subsets were composed (format 1: the all-way rows
                  that have every requested language, filtered in the Parquet scan), taken from
                  git history (``BASELINE_REVISION``) and run on the same corpus, cold.

(a), (b), (c) and (f) return the all-way rows; ``ours`` returns the subset's own, finer rows
(the point of composing), so the two groups are checked for agreement separately.

Every measurement runs in a fresh subprocess: wall time of the load alone (imports excluded,
reported apart) and the peak resident set size of the process (VmHWM, or ``ru_maxrss`` off
Linux), also given above the post-import baseline. The median of ``--repeats`` runs is reported
(with their min–max), after ``--warmup`` untimed runs of each variant (so that every timed run
finds its files in the OS page cache). The variants take turns, one run each per round, in an
order shuffled for each round. All variants must agree on the number of rows.
Results go to a markdown table on stdout and to ``--json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

VARIANTS = ("jsonl", "pandas", "pyarrow", "baseline", "ours", "ours-cached", "ours-stream")
ALL_WAY_VARIANTS = ("jsonl", "pandas", "pyarrow", "baseline")
BASELINE_REVISION = "236b68b"  # main before the loader composed subsets (issue 11)
SMALL_SUBSET = "en-zh-sw"


# --------------------------------------------------------------------------------------------
# Inputs: the wide corpus and the formats derived from it
# --------------------------------------------------------------------------------------------


def prepare_corpus(workdir: Path, num_talks: int, workers: int, seed: int = 0) -> Path:
    """A built wide corpus of ``num_talks`` synthetic talks (reused if already built)."""
    from builder.compose import build_corpus
    from builder.fixtures.synthetic import generate_store

    corpus = workdir / f"talks-{num_talks}" / "corpus"
    if (corpus / "build_report.json").exists():
        return corpus
    raw = corpus.parent / "raw"
    print(f"# generating {num_talks} synthetic talks and building the corpus...", file=sys.stderr)
    generate_store(raw, num_talks, seed=seed, workers=workers)
    build_corpus(raw, corpus, workers=workers, progress=False, pair_configs=())  # the loader reads no pair files
    shutil.rmtree(raw)
    return corpus


def corpus_files(corpus: Path) -> list[Path]:
    report = json.loads((corpus / "build_report.json").read_text())
    return [corpus / f for split in report["splits"].values() for f in split["files"]]


def corpus_languages(corpus: Path) -> list[str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(corpus_files(corpus)[0])
    return json.loads(schema.metadata[b"ted2025"])["languages"]


def derive_formats(corpus: Path) -> dict[str, Path]:
    """Write (a) the seed JSONL and (b) one Parquet file per language, from the wide corpus."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    derived = corpus.parent / "derived"
    jsonl, per_language = derived / "seed.jsonl", derived / "per_language"
    if jsonl.exists() and per_language.is_dir():
        return {"jsonl": jsonl, "per_language": per_language}
    shutil.rmtree(derived, ignore_errors=True)
    per_language.mkdir(parents=True)
    wide = pa.concat_tables(pq.read_table(f) for f in corpus_files(corpus))
    languages = corpus_languages(corpus)
    with open(jsonl, "w", encoding="utf-8") as out:
        for batch in wide.to_batches(50_000):
            for row in batch.to_pylist():
                para_data = {code: row[code] for code in languages if row[code] is not None}
                record = {
                    "talk_id": row["talk_id"],
                    "timestamp": [row["start_ms"], row["end_ms"]],
                    "lang_list": list(para_data),
                    "para_data": para_data,
                    "parallelism": len(para_data),
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    keys = wide.select(["talk_id", "segment_id"])
    for code in languages:
        column = wide[code]
        table = keys.append_column("text", column).filter(column.is_valid())
        pq.write_table(table, per_language / f"{code}.parquet")
    return {"jsonl": jsonl, "per_language": per_language}


# --------------------------------------------------------------------------------------------
# The variants (each runs in its own subprocess, see measure())
# --------------------------------------------------------------------------------------------


def load_jsonl(inputs: dict, languages: list[str]) -> int:
    rows = []
    with open(inputs["jsonl"], encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            para_data = record["para_data"]
            if all(code in para_data for code in languages):
                rows.append({"talk_id": record["talk_id"], "translation": {c: para_data[c] for c in languages}})
    return len(rows)


def load_pandas(inputs: dict, languages: list[str]) -> int:
    import pandas as pd

    frames = [
        pd.read_parquet(Path(inputs["per_language"]) / f"{code}.parquet").rename(columns={"text": code})
        for code in languages
    ]
    merged = functools.reduce(lambda left, right: left.merge(right, on=["talk_id", "segment_id"]), frames)
    return len(merged)


def load_pyarrow(inputs: dict, languages: list[str]) -> int:
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    present = functools.reduce(operator.and_, [pc.field(code).is_valid() for code in languages])
    dataset = ds.dataset([str(f) for f in corpus_files(Path(inputs["corpus"]))], format="parquet")
    return dataset.to_table(columns=["talk_id", "segment_id", *languages], filter=present).num_rows


def load_ours(inputs: dict, languages: list[str], streaming: bool = False) -> int:
    import ted2025

    loaded = ted2025.load_dataset(
        inputs["corpus"], "-".join(languages), streaming=streaming, cache_dir=inputs["cache_dir"]
    )
    if streaming:
        return sum(1 for split in loaded.values() for _ in split)
    return sum(loaded.num_rows.values())


def baseline_module(workdir: Path) -> Path:
    """The pre-composition loader from git, as ``ted2025_baseline.py`` in ``workdir``. Its one
    import of a moved name (the format version) is pointed at the corpus contract."""
    source = subprocess.run(["git", "-C", str(REPO_ROOT), "show", f"{BASELINE_REVISION}:ted2025.py"],
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from builder.write import FORMAT_VERSION", "from builder.contract import FORMAT_VERSION")
    path = workdir / "ted2025_baseline.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def load_baseline(inputs: dict, languages: list[str]) -> int:
    sys.path.insert(0, inputs["baseline_dir"])
    import ted2025_baseline

    loaded = ted2025_baseline.load_dataset(inputs["corpus"], "-".join(languages), cache_dir=inputs["cache_dir"])
    return sum(loaded.num_rows.values())


def _imports(variant: str) -> None:
    """What a user of each variant imports before loading; timed apart from the load."""
    if variant == "pandas":
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    elif variant == "pyarrow":
        import pyarrow.dataset  # noqa: F401
    elif variant.startswith("ours") or variant == "baseline":
        import datasets

        import ted2025  # noqa: F401

        datasets.disable_progress_bars()


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far.

    VmHWM belongs to the address space, which exec replaces, so it counts this interpreter only;
    ru_maxrss (the fallback off Linux) can carry over the parent's peak across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def run_variant(variant: str, inputs: dict, languages: list[str]) -> dict:
    start = time.perf_counter()
    _imports(variant)
    import_s = time.perf_counter() - start
    baseline_mib = peak_rss_mib()
    start = time.perf_counter()
    if variant == "jsonl":
        rows = load_jsonl(inputs, languages)
    elif variant == "pandas":
        rows = load_pandas(inputs, languages)
    elif variant == "pyarrow":
        rows = load_pyarrow(inputs, languages)
    elif variant == "baseline":
        rows = load_baseline(inputs, languages)
    else:
        rows = load_ours(inputs, languages, streaming=variant == "ours-stream")
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "import_s": import_s, "peak_mib": peak_rss_mib(),
            "baseline_mib": baseline_mib}


def measure(variant: str, inputs: dict, languages: list[str]) -> dict:
    """Run one variant in a fresh interpreter and return what it reported."""
    command = [sys.executable, __file__, "--run-variant", variant, "--inputs", json.dumps(inputs),
               "--languages", ",".join(languages)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_subset(inputs: dict, languages: list[str], repeats: int, variants: list[str], warmup: int = 1) -> dict[str, dict]:
    """``repeats`` timed rounds after ``warmup`` untimed ones; a round runs every variant once, in
    turn. The untimed rounds put the files each variant reads into the OS page cache, so no
    timed run reads the disk (this machine's kernel pages out files left untouched for a while;
    a first run read 816 KiB from disk). Interleaving the variants means that a slow spell of
    the machine (its timings drift by a third over minutes) falls on every variant of a round,
    not on whichever variant happened to run then. Each round has its own order, shuffled with
    the round's number as seed (so a rerun repeats it), so that no variant always runs right
    after the same one (JSONL leaves up to 700 MiB behind)."""
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for attempt in range(warmup + repeats):
        order = list(variants)
        random.Random(attempt).shuffle(order)
        for variant in order:
            cache = inputs["cache_root"] / f"{variant}-{attempt}"
            if variant == "ours-cached":
                cache = inputs["cache_root"] / "warm"
                if not cache.exists():  # prepare once, untimed: the cold load is measured by "ours"
                    measure("ours", {**inputs, "cache_dir": str(cache), "cache_root": None}, languages)
            run_inputs = {**inputs, "cache_dir": str(cache), "cache_root": None}
            result = measure(variant, run_inputs, languages)
            if attempt >= warmup:
                runs[variant].append(result)
            if variant != "ours-cached":
                shutil.rmtree(cache, ignore_errors=True)
    results = {}
    for variant, timed in runs.items():
        results[variant] = {
            "rows": timed[0]["rows"],
            "seconds": statistics.median(r["seconds"] for r in timed),
            "import_s": statistics.median(r["import_s"] for r in timed),
            "peak_mib": max(r["peak_mib"] for r in timed),
            "baseline_mib": statistics.median(r["baseline_mib"] for r in timed),
            "runs": timed,
        }
    for group in (ALL_WAY_VARIANTS, tuple(v for v in VARIANTS if v not in ALL_WAY_VARIANTS)):
        row_counts = {r["rows"] for variant in group if variant in runs for r in runs[variant]}
        if len(row_counts) > 1:
            raise AssertionError(f"variants disagree on the number of rows: {results}")
    return results


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def markdown(all_results: list[dict]) -> str:
    lines = []
    for entry in all_results:
        results = entry["results"]
        floor, jsonl, ours = results.get("pyarrow"), results.get("jsonl"), results.get("ours")
        lines += [
            f"\n### {entry['talks']} talks, {entry['corpus_rows']:,} corpus rows, {entry['corpus_languages']} languages"
            f" — subset `{entry['subset']}` ({len(entry['languages'])} languages)\n",
            "| variant | rows | load s | min–max s | × pyarrow | imports s | peak RSS MiB | over baseline MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for variant, r in results.items():
            ratio = f"{r['seconds'] / floor['seconds']:.1f}" if floor else ""
            spread = sorted(run["seconds"] for run in r["runs"])
            lines.append(f"| {variant} | {r['rows']:,} | {r['seconds']:.3f} | {spread[0]:.3f}–{spread[-1]:.3f} | "
                         f"{ratio} | {r['import_s']:.2f} | {r['peak_mib']:.0f} | {r['peak_mib'] - r['baseline_mib']:.0f} |")
        if jsonl and ours:
            speedup = jsonl["seconds"] / ours["seconds"]
            summary = f"\nours (cold) is **{speedup:.0f}×** faster than JSONL (target ≥ 20×)"
            if floor:
                slowdown = ours["seconds"] / floor["seconds"]
                summary += f" and takes **{slowdown:.1f}×** the pyarrow floor (target ≤ 3×)"
            lines.append(summary + ".")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500], help="corpus sizes, in talks")
    parser.add_argument("--subsets", nargs="+", default=None,
                        help=f"subset specs (default: {SMALL_SUBSET} and the 10 most popular languages)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds (one run of each variant) before the timed ones")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="for generating and building")
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / "bench_out" / "loader")
    parser.add_argument("--json", type=Path, default=None, help="results file (default: WORKDIR/results.json)")
    parser.add_argument("--run-variant", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    parser.add_argument("--languages", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.run_variant:  # child process: one measurement, one JSON line
        print(json.dumps(run_variant(args.run_variant, json.loads(args.inputs), args.languages.split(","))))
        return

    from builder import languages as registry

    all_results = []
    baseline = baseline_module(args.workdir)
    for talks in args.sizes:
        corpus = prepare_corpus(args.workdir, talks, args.workers)
        derived = derive_formats(corpus)
        report = json.loads((corpus / "build_report.json").read_text())
        available = corpus_languages(corpus)
        subsets = args.subsets or [SMALL_SUBSET, "-".join(available[:10])]
        for subset in subsets:
            languages = [lang.code for lang in registry.parse_subset(subset)]
            inputs = {"corpus": str(corpus), "jsonl": str(derived["jsonl"]),
                      "per_language": str(derived["per_language"]), "baseline_dir": str(baseline.parent)}
            with tempfile.TemporaryDirectory(prefix="ted2025-bench-cache-") as cache_root:
                results = bench_subset({**inputs, "cache_root": Path(cache_root)}, languages, args.repeats,
                                       args.variants, args.warmup)
            all_results.append({
                "talks": talks, "subset": subset, "languages": languages, "results": results,
                "corpus_rows": sum(s["num_rows"] for s in report["splits"].values()),
                "corpus_languages": len(available),
            })
            print(markdown(all_results[-1:]), flush=True)

    out = args.json or args.workdir / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    out.write_text(json.dumps({"environment": environment, "args": {k: str(v) for k, v in vars(args).items()},
                               "results": all_results}, indent=2))
    print(f"\nresults: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
