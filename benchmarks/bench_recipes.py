"""The recipes' data pipeline, per CPT format: throughput, packing efficiency, equal budgets.

    python benchmarks/bench_recipes.py [--talks 1000] [--token-budget 800000] [--vocab-size 131072]

For each format (multiway, pairwise, unaligned, monolingual) it times what runs before the GPU
sees a token: formatting the texts, tokenising them with a real-sized BPE tokenizer and packing
them (BFD, as SFTTrainer packs) into ``max_length`` rows. It reports

* throughput: training tokens per second of formatting + tokenising + packing (the corpus read,
  ``ted2025.load_dataset``, is timed apart: it is shared by the formats and cached);
* packing efficiency: the share of the packed rows' ``max_length`` slots that hold tokens, i.e.
  one minus the padding fraction if the rows were padded;
* equal budget: each format's token count against the budget, and the largest gap between formats;
* aligned pairs: segments that two language blocks of one packed sequence share (0 is required
  for unaligned and monolingual; multiway and pairwise have many by design).

Targets: >= 10x the ~5k tokens/s a 7B QLoRA run consumes per GPU (so >= 50k tokens/s), >= 99 %
packing efficiency, < 1 % token gap between formats.

Inputs, all made here (nothing downloaded): a synthetic TED-shaped corpus (``builder.fixtures.synthetic``:
CLDR text, 113 languages with TED's long tail) and a byte-level BPE tokenizer trained on every
CLDR locale Babel ships (~37 M characters) with Qwen2.5's vocabulary size class. The subset,
minimum parallelism, talk window and ``max_length`` come from the consumer recipe,
recipes/qwen2.5-7b/cpt/config_qlora.yaml. Both inputs are cached under .cache/ted2025/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

CACHE = REPO_ROOT / ".cache" / "ted2025"
RECIPE = REPO_ROOT / "recipes" / "qwen2.5-7b" / "cpt" / "config_qlora.yaml"
GPU_TOKENS_PER_S = 5_000  # a 7B QLoRA run on one GPU, roughly
THROUGHPUT_TARGET = 10 * GPU_TOKENS_PER_S
PACKING_TARGET = 0.99
BUDGET_GAP_TARGET = 0.01


def corpus(num_talks: int, workers: int) -> Path:
    from builder.compose import build_corpus
    from builder.fixtures.synthetic import generate_store

    out = CACHE / "bench-recipes" / f"talks-{num_talks}" / "corpus"
    if not (out / "build_report.json").exists():
        raw = out.parent / "raw"
        print(f"# generating {num_talks} synthetic talks and building the corpus...", file=sys.stderr)
        generate_store(raw, num_talks, seed=0, workers=workers)
        build_corpus(raw, out, workers=workers, progress=False)
        shutil.rmtree(raw)
    return out


def tokenizer(vocab_size: int):
    from transformers import AutoTokenizer

    from recipes.smoke.make_tiny_model import cldr_texts, train_tokenizer

    out = CACHE / f"bench-tokenizer-{vocab_size}"
    if not (out / "tokenizer.json").exists():
        print(f"# training a {vocab_size:,}-token BPE tokenizer on all CLDR locales...", file=sys.stderr)
        start = time.perf_counter()
        train_tokenizer(cldr_texts(registry_only=False), vocab_size).save_pretrained(out)
        print(f"# trained in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return AutoTokenizer.from_pretrained(out)


def measure(windows, languages, fmt: str, budget: int, tok, settings: dict) -> dict:
    from trl import pack_dataset

    from recipes import data

    max_length = settings["max_length"]
    cpt_settings = data.CPTSettings(fmt, budget, settings["languages_per_example"], settings["talk_window"])
    start = time.perf_counter()
    dataset, summary = data.build_cpt_dataset(windows, languages, cpt_settings, tok, max_length, seed=0)
    formatted = time.perf_counter()
    packed = data.pack(dataset, max_length)  # exactly as SFTTrainer packs (BFD, 1,000 texts per map batch)
    packed_s = time.perf_counter()
    one_batch = pack_dataset(dataset.select_columns(["input_ids"]), max_length, "bfd", {"batch_size": len(dataset)})
    return {
        "format": fmt,
        "texts": summary["examples"],
        "tokens": summary["tokens"],
        "languages_per_text": summary["mean_languages_per_text"],
        "texts_cut": summary["counts"].get("texts_cut_to_max_length", 0),
        "format_tokenize_s": round(formatted - start, 3),
        "pack_s": round(packed_s - formatted, 3),
        "tokens_per_s": round(summary["tokens"] / (packed_s - start)),
        "packed_rows": len(packed),
        "non_pad_padding_free": non_pad_fraction(packed, settings["per_device_train_batch_size"], padding_free=True),
        "non_pad_padded": non_pad_fraction(packed, settings["per_device_train_batch_size"], padding_free=False),
        "row_fill": round(data.packing_efficiency(packed, max_length), 5),
        "row_fill_one_batch": round(data.packing_efficiency(one_batch, max_length), 5),
        "aligned_pairs_in_packed_rows": len(data.shared_segments(packed, dataset)),
    }


def non_pad_fraction(packed, batch_size: int, padding_free: bool) -> float:
    """Share of the collated training batches' positions that hold tokens, with TRL's collator."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    collate = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=padding_free)
    rows = [{"input_ids": ids, "seq_lengths": lengths} for ids, lengths in zip(packed["input_ids"], packed["seq_lengths"])]
    tokens = positions = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        tokens += sum(len(row["input_ids"]) for row in batch)
        positions += collate(batch)["input_ids"].numel()
    return round(tokens / positions, 5)


def markdown(results: list[dict], budget: int) -> str:
    lines = [
        "| format | texts | tokens | vs budget | langs/text | format+tokenise s | pack s | tokens/s "
        "| packed rows | non-pad, padding-free (trained) | non-pad, padded | row fill | row fill, one BFD batch "
        "| aligned pairs in a row |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['format']} | {r['texts']:,} | {r['tokens']:,} | {100 * (r['tokens'] / budget - 1):+.3f} % "
            f"| {r['languages_per_text']} | {r['format_tokenize_s']:.2f} | {r['pack_s']:.2f} | {r['tokens_per_s']:,} "
            f"| {r['packed_rows']:,} | {100 * r['non_pad_padding_free']:.2f} % | {100 * r['non_pad_padded']:.2f} % "
            f"| {100 * r['row_fill']:.2f} % | {100 * r['row_fill_one_batch']:.2f} % | {r['aligned_pairs_in_packed_rows']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--talks", type=int, default=1000, help="synthetic talks in the corpus")
    parser.add_argument("--token-budget", type=int, default=800_000, help="tokens per format")
    parser.add_argument("--vocab-size", type=int, default=131_072)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "benchmarks" / "results_recipes.json")
    args = parser.parse_args()

    from recipes import data

    recipe = yaml.safe_load(RECIPE.read_text())
    settings = {key: recipe[key] for key in ("dataset_config", "min_languages", "talk_window", "languages_per_example",
                                             "max_length", "per_device_train_batch_size")}
    tok = tokenizer(args.vocab_size)
    path = corpus(args.talks, args.workers)

    start = time.perf_counter()
    windows, languages = data.load_windows(str(path), settings["dataset_config"], "train", settings["min_languages"], settings["talk_window"])
    load_s = time.perf_counter() - start

    import trl  # noqa: F401 - imported before the clock starts

    results = [measure(windows, languages, fmt, args.token_budget, tok, settings) for fmt in data.FORMATS]
    tokens = [r["tokens"] for r in results]
    gap = (max(tokens) - min(tokens)) / args.token_budget
    slowest = min(r["tokens_per_s"] for r in results)
    worst_packing = min(r["non_pad_padding_free"] for r in results)
    worst_fill = min(r["row_fill"] for r in results)
    clean = all(r["aligned_pairs_in_packed_rows"] == 0 for r in results if r["format"] in ("unaligned", "monolingual"))

    print(f"\nsubset {settings['dataset_config']} (min_languages {settings['min_languages']}, talk window "
          f"{settings['talk_window']}), max_length {settings['max_length']}, budget {args.token_budget:,} tokens, "
          f"tokenizer vocabulary {len(tok):,}; corpus: {args.talks} synthetic talks, {len(windows):,} train windows "
          f"(read in {load_s:.1f} s)\n")
    print(markdown(results, args.token_budget))
    print(f"\nslowest format: {slowest:,} tokens/s = {slowest / GPU_TOKENS_PER_S:.0f}x a 7B QLoRA GPU "
          f"(target >= {THROUGHPUT_TARGET:,}): {'PASS' if slowest >= THROUGHPUT_TARGET else 'FAIL'}")
    print(f"packing efficiency, non-pad share of the training batches (padding-free BFD, as trained): "
          f"{100 * worst_packing:.2f} % (target >= {100 * PACKING_TARGET:.0f} %): {'PASS' if worst_packing >= PACKING_TARGET else 'FAIL'}")
    print(f"row fill (tokens / rows x max_length), worst format: {100 * worst_fill:.2f} % "
          f"({'>=' if worst_fill >= PACKING_TARGET else 'below'} {100 * PACKING_TARGET:.0f} %; see the README for why)")
    print(f"largest token gap between formats: {100 * gap:.3f} % of the budget (target < 1 %): "
          f"{'PASS' if gap < BUDGET_GAP_TARGET else 'FAIL'}")
    print(f"unaligned and monolingual packed rows free of aligned pairs: {'PASS' if clean else 'FAIL'}")

    import tokenizers
    import transformers

    args.json.write_text(json.dumps({
        "settings": {**settings, "token_budget": args.token_budget, "talks": args.talks, "vocab_size": len(tok),
                     "train_windows": len(windows), "corpus_read_s": round(load_s, 2)},
        "results": results,
        "summary": {"slowest_tokens_per_s": slowest, "worst_non_pad_fraction": worst_packing, "worst_row_fill": worst_fill,
                    "largest_budget_gap": round(gap, 6), "controls_clean": clean},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "tokenizers": tokenizers.__version__,
                    "transformers": transformers.__version__, "trl": trl.__version__},
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
