"""``ted2025``: a thin command line over the builder stages.

    ted2025 crawl --out RAW --id-range 1:100  fetch TED transcripts into a raw store (politely, resumable)
    ted2025 build --source RAW --out OUT      build the corpus folder (a ready Hub dataset repo)
    ted2025 sample --out RAW                  write the small offline demo store (synthetic, CLDR text)
    ted2025 synth --out RAW --talks 5000      write a synthetic TED-scale raw store (benchmarks)
    ted2025 show OUT en-de-zh-cn              load a language subset and print aligned rows
    ted2025 card OUT                          re-render the dataset card (README.md) and its figures
    ted2025 push OUT --repo ORG/NAME          upload OUT to a Hub dataset repo (private by default)
    ted2025 languages                         list every language code the registry knows
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, languages
from .clean import FilterSettings
from .contract import CARD, FIGURES_DIR, REPORT
from .segment import GRANULARITIES
from .splits import DEFAULT_SPLITS, parse_splits


def _languages_arg(value: str) -> tuple[str, ...]:
    try:
        return tuple(lang.code for lang in languages.parse_subset(value))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _splits_arg(value: str) -> dict:
    try:
        return parse_splits(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {number}")
    return number


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ted2025",
        description="Build, inspect and publish TED2025, a multi-way parallel corpus of TED talk transcripts.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ted2025 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build",
        help="build the corpus from a raw store or WIT3 XML",
        description=(
            "Build a multi-way aligned, cleaned, split Parquet corpus. SOURCE is a raw store "
            "(SOURCE/<talk_id>/{meta.json,<lang>.json,<lang>.vtt[.N]}) or a folder of WIT3/IWSLT "
            "mteval XML. OUT becomes a ready Hub dataset repo: data/<split>-NNNNN-of-NNNNN.parquet, "
            "metadata/talks.parquet, reports/drops.parquet and build_report.json."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    build.add_argument("--source", type=Path, required=True, help="raw store or WIT3 folder")
    build.add_argument("--out", type=Path, required=True, help="output folder (replaced atomically if it is an earlier build)")
    build.add_argument("--granularity", choices=GRANULARITIES, default="sentence", help="what one row holds")
    build.add_argument("--languages", type=_languages_arg, default=None,
                       help="only these languages, as a subset name: en-de-zh-cn or en+de+zh-cn; omitted = every language found")
    build.add_argument("--min-languages", type=_positive_int, default=2, help="drop rows with fewer languages than this")
    build.add_argument("--merge-quorum", type=float, default=0.0,
                       help="share of languages that must agree before sentences merge in all of them; "
                            "above 0, outvoted cells are dropped as alignment_conflict (finer rows)")
    build.add_argument("--splits", type=_splits_arg, default=dict(DEFAULT_SPLITS),
                       help="split fractions by talk, e.g. train=0.9,validation=0.05,test=0.05")
    build.add_argument("--no-langid", action="store_true", help="skip the language-ID filter")
    build.add_argument("--length-ratio", type=float, default=FilterSettings.length_ratio,
                       help="drop cells whose length vs the pivot is off by more than this factor (0 = off)")
    build.add_argument("--no-dedupe", action="store_true", help="keep repeated cells within a talk")
    build.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")
    pairs = build.add_mutually_exclusive_group()
    pairs.add_argument("--pair-configs", type=_languages_arg, default=None, metavar="PIVOTS",
                       help="write pair configs PIVOT-xx for every other language under OUT/pairs/, each at the "
                            "pair's own grain, for the Hub viewer and plain `datasets.load_dataset(OUT, 'en-de')` "
                            "(default: en, when the corpus has English)")
    pairs.add_argument("--no-pair-configs", action="store_true", help="write no pair configs")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=_build)

    crawl = commands.add_parser(
        "crawl",
        help="crawl TED talks into a raw store, politely and resumably",
        description=(
            "Fetch TED metadata and transcripts in every published language into the raw store the build "
            "reads: OUT/<talk_id>/meta.json and OUT/<talk_id>/<lang>.json (verbatim). Rerunning resumes: "
            "complete files are never fetched again. OUT/.crawl/manifest.json records each talk and "
            "transcript as ok, missing or failed (with a reason); OUT/.crawl/log.jsonl logs every request. "
            "Exits 1 when something failed: rerun to retry it. Please crawl slowly (see README)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    crawl.add_argument("--out", type=Path, required=True, help="raw store to create or complete")
    which = crawl.add_mutually_exclusive_group(required=True)
    which.add_argument("--talk-ids", type=Path, metavar="FILE",
                       help="one talk id per line, or a CSV with a 'Talk ID' column")
    which.add_argument("--id-range", metavar="A:B", help="talk ids A to B-1")
    which.add_argument("--latest", type=_positive_int, metavar="N", help="the newest N talks of TED's RSS feed")
    crawl.add_argument("--languages", type=_languages_arg, default=None,
                       help="only these languages, as a subset name: en-de-zh-cn; omitted = every language TED lists")
    crawl.add_argument("--concurrency", type=_positive_int, default=4, help="requests in flight")
    crawl.add_argument("--rate", type=float, default=2.0, help="requests per second per host")
    crawl.add_argument("--endpoint", default="https://www.ted.com", help="base URL (a mirror, or a test server)")
    crawl.add_argument("--max-attempts", type=_positive_int, default=5, help="tries per request, retries included")
    crawl.add_argument("--backoff", type=float, default=1.0, help="first retry delay in seconds; doubles, with jitter")
    crawl.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    crawl.add_argument("--contact", default=None,
                       help="URL or e-mail for the User-Agent, so TED can reach you (default: the project URL)")
    crawl.add_argument("--quiet", action="store_true", help="no progress bar")
    crawl.set_defaults(func=_crawl)

    sample = commands.add_parser("sample", help="write the small offline demo raw store (synthetic)",
                                 description="Write a small deterministic raw store made of Unicode CLDR text shipped in Babel. It is SYNTHETIC: no TED text.")
    sample.add_argument("--out", type=Path, required=True)
    sample.set_defaults(func=_sample)

    synth = commands.add_parser("synth", help="write a synthetic TED-shaped raw store of any size",
                                description="Deterministic synthetic raw store for tests and benchmarks: long-tailed languages, re-timed tracks.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    synth.add_argument("--out", type=Path, required=True)
    synth.add_argument("--talks", type=_positive_int, default=100)
    synth.add_argument("--languages", type=_positive_int, default=len(languages.LANGUAGES), help="size of the language pool")
    synth.add_argument("--cues", type=_positive_int, default=150, help="cues per talk-language")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=_positive_int, default=1)
    synth.set_defaults(func=_synth)

    show = commands.add_parser("show", help="load a language subset of a built corpus and print aligned rows",
                               description="Load SUBSET (e.g. en-de-zh-cn, or all) of a built corpus through "
                                           "ted2025.load_dataset and print the first rows of a split.",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    show.add_argument("corpus", help="built corpus folder, Hub repo id or hf:// path")
    show.add_argument("subset", help="languages, e.g. en-de-zh-cn")
    show.add_argument("--split", default="train")
    show.add_argument("--rows", type=_positive_int, default=3)
    show.add_argument("--min-languages", type=_positive_int, default=None,
                      help="keep rows with at least this many of the subset's languages (default: all of them)")
    show.set_defaults(func=_show)

    card = commands.add_parser(
        "card",
        help="re-render the dataset card (README.md) and figures of a built corpus",
        description=(
            "Write OUT/README.md, the Hub dataset card, from OUT/build_report.json and the data files: YAML "
            "metadata (languages, licence, configs and their exact sizes) and a body that says what the corpus "
            "is, how it was built and cleaned, how to load it, and how to attribute it. Draws the figures into "
            "OUT/figures/. `ted2025 build` already does this; run it to re-render, or to add pair configs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    card.add_argument("corpus", type=Path, help="built corpus folder")
    card.add_argument("--pair-configs", type=_languages_arg, default=None, metavar="PIVOTS",
                      help="(re)write pair configs PIVOT-xx under OUT/pairs/, e.g. en; omitted = keep those there")
    card.add_argument("--repo", default=None, metavar="ORG/NAME", help="repo id the card's loading examples name")
    card.add_argument("--top-languages", type=_positive_int, default=20, help="languages in the coverage heatmap")
    card.set_defaults(func=_card)

    push = commands.add_parser(
        "push",
        help="upload a built corpus to a Hugging Face Hub dataset repo (private unless --public)",
        description=(
            "Upload the corpus folder to the dataset repo ORG/NAME, creating it PRIVATE. TED content is licensed "
            "CC BY-NC-ND 4.0: a public repo needs --public together with --i-accept-cc-by-nc-nd. Only new or "
            "changed files are sent (compared by sha256 / git blob id with the repo), in one commit per batch, "
            "so an interrupted push resumes when rerun. The token comes from `hf auth login` or HF_TOKEN, and "
            "the endpoint from HF_ENDPOINT; the token is never printed."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    push.add_argument("corpus", type=Path, help="built corpus folder")
    push.add_argument("--repo", required=True, metavar="ORG/NAME", help="dataset repo id")
    push.add_argument("--public", action="store_true", help="make the repo public (needs --i-accept-cc-by-nc-nd)")
    push.add_argument("--i-accept-cc-by-nc-nd", dest="accept_licence", action="store_true",
                      help="acknowledge that publishing TED content is bound by CC BY-NC-ND 4.0 (attribution, "
                           "non-commercial, no derivatives)")
    push.add_argument("--batch-files", type=_positive_int, default=100, help="files per commit")
    push.set_defaults(func=_push)

    langs = commands.add_parser("languages", help="list the language registry")
    langs.set_defaults(func=lambda args: print(languages.table()) or 0)
    return parser


def _build(args) -> int:
    from .compose import build_corpus
    from .pipeline import BuildSettings

    settings = BuildSettings(
        granularity=args.granularity,
        languages=args.languages,
        min_languages=args.min_languages,
        merge_quorum=args.merge_quorum,
        splits=args.splits,
        filters=FilterSettings(langid=not args.no_langid, length_ratio=args.length_ratio, dedupe=not args.no_dedupe),
    )
    report = build_corpus(args.source, args.out, settings, workers=args.workers, progress=not args.quiet,
                          pair_configs=() if args.no_pair_configs else args.pair_configs)
    print(report["summary"])
    print(f"wrote {args.out} (report: {args.out / REPORT}, card: {args.out / CARD})")
    return 0


def _card(args) -> int:
    from dataset_card import write_card
    from dataset_card.card import load_report

    from .pairs import write_pairs

    if args.pair_configs:  # (re)write the pair shards first: the card lists what is on disk
        load_report(args.corpus)  # a built corpus, or the card's own error
        write_pairs(args.corpus, list(args.pair_configs))
    path = write_card(args.corpus, repo_id=args.repo, top_languages=args.top_languages)
    print(f"wrote {path} and {args.corpus / FIGURES_DIR}/")
    return 0


def _push(args) -> int:
    from huggingface_hub.errors import HfHubHTTPError

    from dataset_card import write_card

    from .push import open_repo, upload

    try:
        repo = open_repo(args.corpus, args.repo, public=args.public, licence_accepted=args.accept_licence,
                         batch_files=args.batch_files)
        write_card(args.corpus, repo_id=repo.repo_id, figures=False)  # its loading examples name this repo; cheap
        summary = upload(args.corpus, repo, batch_files=args.batch_files)
    except HfHubHTTPError as exc:
        print(f"ted2025 push: error from the Hub: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ted2025 push: interrupted; the commits made so far are kept: rerun to send the rest", file=sys.stderr)
        return 130
    print(summary.summary())
    return 0


def _crawl(args) -> int:
    from .crawl import CrawlConfig, crawl, parse_id_range, read_talk_ids
    from .fetch import USER_AGENT, FetchError, user_agent

    if args.talk_ids:
        talk_ids = read_talk_ids(args.talk_ids)
    elif args.id_range:
        talk_ids = parse_id_range(args.id_range)
    else:
        talk_ids = ()
    config = CrawlConfig(
        out=args.out,
        talk_ids=talk_ids,
        latest=args.latest,
        languages=args.languages,
        endpoint=args.endpoint,
        concurrency=args.concurrency,
        rate=args.rate,
        max_attempts=args.max_attempts,
        backoff_base_s=args.backoff,
        timeout_s=args.timeout,
        user_agent=user_agent(args.contact) if args.contact else USER_AGENT,
        progress=not args.quiet,
    )
    try:
        summary = crawl(config)
    except FetchError as exc:  # only the RSS feed for --latest: without it there is nothing to crawl
        print(f"ted2025 crawl: error: {exc}", file=sys.stderr)
        return 2
    print(summary.summary())
    print(f"wrote {args.out} (manifest: {args.out / '.crawl' / 'manifest.json'})")
    return 1 if summary.talks_failed or summary.transcripts_failed else 0


def _sample(args) -> int:
    from .fixtures.sample import SAMPLE_NOTICE, write_sample

    print(SAMPLE_NOTICE, file=sys.stderr)
    stats = write_sample(args.out)
    print(f"wrote {stats.talks} talks, {stats.tracks} tracks to {args.out}")
    return 0


def _synth(args) -> int:
    from .fixtures.synthetic import generate_store

    stats = generate_store(args.out, args.talks, seed=args.seed, num_languages=args.languages,
                           cues_per_track=args.cues, workers=args.workers, progress=True)
    print(f"wrote {stats.talks} talks, {stats.tracks} tracks, {stats.cues} cues to {args.out}")
    return 0


def _show(args) -> int:
    import httpx

    import ted2025

    # A missing folder, a corrupt or missing shard, a bad subset name, an empty subset, a Hub
    # error: one line on stderr, no traceback, exit 2 (as main() reports the other commands' errors).
    try:
        dataset = ted2025.load_dataset(args.corpus, args.subset, min_languages=args.min_languages)
        if args.split not in dataset:
            raise ValueError(f"no split {args.split!r}; the corpus has {', '.join(dataset)}")
    except (OSError, ValueError, TypeError, httpx.HTTPError) as exc:  # ShardError and Hub errors are OSErrors
        message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
        print(f"ted2025 show: error: {message}", file=sys.stderr)
        return 2
    sizes = ", ".join(f"{name}={len(split):,}" for name, split in dataset.items())
    print(f"{args.subset}: {sizes} rows")
    for row in dataset[args.split].select(range(min(args.rows, len(dataset[args.split])))):
        print(f"\n-- talk {row['talk_id']} segment {row['segment_id']} ({row['num_languages']} languages)")
        for code, text in row["translation"].items():
            if text is not None:
                print(f"   {code:>6}  {text}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError, ValueError) as exc:
        print(f"ted2025 {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ted2025 {args.command}: interrupted; nothing was replaced", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
