"""Continued-pretraining texts tokenised to fill one token budget, kept in Arrow, cached on disk."""

from __future__ import annotations

import hashlib
import json
import random
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from itertools import islice
from pathlib import Path

import datasets
import pyarrow as pa

from builder.contract import REPORT
from recipes.data.corpus import Window, load_windows
from recipes.data.formats import Block, BudgetError, CPTSettings, cpt_examples, format_blocks

BUDGET_TOLERANCE = 0.001  # a budget is met within 0.1 %
BUDGET_SHORTFALL = 0.005  # a format more than 0.5 % short of its budget cannot be compared: error
MAX_CONSECUTIVE_MISSES = 1000  # texts too long for the budget's last gap before giving up on filling it
TOKENIZE_BATCH = 512


def build_cpt_dataset(
    windows: Sequence[Window],
    languages: Sequence[str],
    settings: CPTSettings,
    tokenizer,
    max_length: int,
    seed: int,
) -> tuple[datasets.Dataset, dict]:
    """Tokenised texts of one format, filling the token budget, with their provenance and a summary.

    Columns: ``text``, ``input_ids`` (text + EOS, at most ``max_length``), and per language block
    ``block_languages``, ``block_talk_ids``, ``block_segment_keys``. ``SFTTrainer`` sees
    ``input_ids`` and skips its own tokenisation, so the budget counts exactly the trained tokens.
    """
    rng = random.Random(seed)
    counts: Counter = Counter()
    examples = cpt_examples(windows, languages, settings, rng, counts)
    table = _TextTable()
    ran_out = _fill_budget(examples, tokenizer, settings.token_budget, max_length, counts, table)
    budget = settings.token_budget
    if budget is not None and ran_out and table.tokens < budget * (1 - BUDGET_SHORTFALL):
        raise BudgetError(
            f"the {settings.format} format supplies only {table.tokens:,} tokens from this split, short of the "
            f"token_budget of {budget:,}; every format must meet the budget to be compared. Lower token_budget, "
            "or use more languages or a larger corpus"
        )
    if not table.examples:
        raise BudgetError(f"the {settings.format} format found no text in this split")
    summary = {
        **asdict(settings),
        "languages": list(languages),
        "examples": table.examples,
        "tokens": table.tokens,
        "windows": len(windows),
        "talks": len(table.talks),
        "mean_languages_per_text": round(table.blocks / table.examples, 3),
        "characters_per_language": dict(sorted(table.characters.items())),
        "counts": dict(sorted(counts.items())),
        "fingerprint": table.fingerprint.hexdigest()[:16],
    }
    return table.dataset(), summary


class _TextTable:
    """The kept texts, flushed to Arrow every ``FLUSH_ROWS`` so that a budget of billions of tokens
    costs 4 bytes a token, not a Python object per token."""

    FLUSH_ROWS = 8192
    SCHEMA = pa.schema([
        ("text", pa.string()),
        ("input_ids", pa.list_(pa.int32())),
        ("block_languages", pa.list_(pa.string())),
        ("block_talk_ids", pa.list_(pa.int64())),
        ("block_segment_keys", pa.list_(pa.list_(pa.int64()))),
    ])

    def __init__(self):
        self.batches: list[pa.RecordBatch] = []
        self.rows: dict[str, list] = {name: [] for name in self.SCHEMA.names}
        self.examples = self.tokens = self.blocks = 0
        self.characters: Counter = Counter()
        self.talks: set[int] = set()
        self.fingerprint = hashlib.sha256()

    def add(self, blocks: list[Block], text: str, ids: list[int]) -> None:
        for name, value in zip(self.SCHEMA.names, (
            text, ids, [b.language for b in blocks], [b.talk_id for b in blocks], [list(b.segment_keys) for b in blocks]
        )):
            self.rows[name].append(value)
        self.examples += 1
        self.tokens += len(ids)
        self.blocks += len(blocks)
        for block in blocks:
            self.characters[block.language] += len(block.text)
            self.talks.add(block.talk_id)
        self.fingerprint.update(len(ids).to_bytes(4, "little") + array("i", ids).tobytes())
        if len(self.rows["text"]) >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows["text"]:
            self.batches.append(pa.RecordBatch.from_pydict(self.rows, schema=self.SCHEMA))
            self.rows = {name: [] for name in self.SCHEMA.names}

    def dataset(self) -> datasets.Dataset:
        self.flush()
        return datasets.Dataset(pa.Table.from_batches(self.batches, schema=self.SCHEMA))


def cpt_dataset(
    corpus: str,
    split: str,
    subset: str,
    min_languages: int | None,
    settings: CPTSettings,
    tokenizer,
    max_length: int,
    seed: int,
    cache_dir: Path | None = None,
) -> tuple[datasets.Dataset, dict]:
    """Load a split's windows and build its texts (see :func:`build_cpt_dataset`).

    With ``cache_dir`` the texts are saved there once, keyed by everything that makes them, and
    read back memory-mapped after: the other processes of a distributed run, and a resumed run,
    train on exactly the texts the first one built.
    """
    path = None
    if cache_dir is not None:
        key = _cache_key(corpus, split, subset, min_languages, settings, tokenizer, max_length, seed)
        path = Path(cache_dir) / f"{split}-{settings.format}-{key}"
        if (path / "summary.json").is_file():
            return datasets.load_from_disk(str(path / "texts")), json.loads((path / "summary.json").read_text())
    windows, languages = load_windows(corpus, subset, split, min_languages, settings.talk_window)
    dataset, summary = build_cpt_dataset(windows, languages, settings, tokenizer, max_length, seed)
    summary = {"split": split, **summary}
    if path is not None:
        dataset.save_to_disk(str(path / "texts"))
        (path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")  # written last: marks it complete
        dataset = datasets.load_from_disk(str(path / "texts"))
    return dataset, summary


def _cache_key(corpus, split, subset, min_languages, settings, tokenizer, max_length, seed) -> str:
    report = Path(corpus) / REPORT
    backend = getattr(tokenizer, "backend_tokenizer", None)
    made_of = [
        corpus, hashlib.sha256(report.read_bytes()).hexdigest() if report.is_file() else None,
        split, subset, min_languages, asdict(settings), max_length, seed, tokenizer.eos_token,
        hashlib.sha256(backend.to_str().encode()).hexdigest() if backend else tokenizer.name_or_path,
    ]
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:16]


def _fill_budget(
    examples: Iterable[list[Block]], tokenizer, budget: int | None, max_length: int, counts: Counter, table: _TextTable
) -> bool:
    """Add texts to ``table`` in order while they fit the budget; stop within ``BUDGET_TOLERANCE``
    of it, or when no text fits the gap left. Returns whether the data ran out: every text was
    taken and the budget still not met (a text skipped as too long for the gap means it was not)."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer has no EOS token; continued pretraining separates texts with it")
    tolerance = 0 if budget is None else int(budget * BUDGET_TOLERANCE)
    misses = 0
    examples = iter(examples)
    while batch := list(islice(examples, TOKENIZE_BATCH)):
        texts = [format_blocks(blocks) for blocks in batch]
        for blocks, text, ids in zip(batch, texts, tokenizer(texts)["input_ids"], strict=True):
            ids = ids + [eos]
            if len(ids) > max_length:
                ids = ids[:max_length]
                counts["texts_cut_to_max_length"] += 1
            if budget is not None and table.tokens + len(ids) > budget:
                counts["texts_skipped_over_budget"] += 1
                misses += 1
                if misses >= MAX_CONSECUTIVE_MISSES:
                    return False
                continue
            misses = 0
            table.add(blocks, text, ids)
            if budget is not None and budget - table.tokens <= tolerance:
                return False
    return not counts["texts_skipped_over_budget"]
