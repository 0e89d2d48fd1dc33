"""TED2025 training data for the recipes: continued-pretraining texts in four formats at one token
budget, translation instructions, and the chat template fallback.

All the format-specific data code of :mod:`recipes.cpt` and :mod:`recipes.sft` lives here, so the
recipes read like a paragraph and every format is defined in one place.

Rows and windows
----------------
:func:`load_windows` reads a language subset with :func:`ted2025.load_dataset` (``format="wide"``)
and cuts each talk into *windows* of ``talk_window`` consecutive rows. A window's text in language
L joins L's segments; L counts as present only where it is present in every row of the window, so
the blocks of a multiway text are translations of each other as a whole.

Continued-pretraining formats (the paper's comparison)
------------------------------------------------------
* ``multiway``: one text is one window in k languages (default: every language present), each
  block tagged ``[code]``, the block order shuffled per text.
* ``pairwise``: the same, with two languages per text.
* ``unaligned``: the control. Same languages, same token budget, same shape of text as multiway,
  but no text and no packed sequence holds translations of each other: every talk is given to
  one language (:func:`assign_talks`), and a language's blocks come only from its own talks. So a
  segment appears in at most one language anywhere in the data, and no two blocks can align.
* ``monolingual``: one language per text, from the same talk assignment as ``unaligned``, so it
  differs from the control only in mixing languages within a text.

Every format fills the same ``token_budget`` (tokens of the model's tokenizer, tags and EOS
included): texts are taken in random order while they fit, until the budget is met within 0.1 %
or no text fits the gap left (which only matters for budgets of a few texts). A format whose data
runs out more than 0.5 % short of the budget fails, since it could not be compared with the others. Texts longer than the model's ``max_length`` are cut to
it here, so what is counted is what is trained on (TRL's BFD packing would otherwise cut them).

Provenance
----------
Each CPT example carries, per language block, its talk and segment keys (:func:`segment_key`).
:func:`pack` packs exactly as ``SFTTrainer`` does (same shuffle, batches and bins) while keeping
each token's example index, so :func:`shared_segments` can show which packed sequences contain
two blocks of the same segment: none, for the unaligned control.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import datasets
import pyarrow as pa

from builder import languages as registry

logger = logging.getLogger(__name__)

FORMATS = ("multiway", "pairwise", "unaligned", "monolingual")
LANGUAGE_TAG = "[{code}] "
KEY_COLUMNS = ("talk_id", "segment_id")
BUDGET_TOLERANCE = 0.001  # a budget is met within 0.1 %
BUDGET_SHORTFALL = 0.005  # a format more than 0.5 % short of its budget cannot be compared: error
MAX_CONSECUTIVE_MISSES = 1000  # texts too long for the budget's last gap before giving up on filling it
TOKENIZE_BATCH = 512

REPO_ROOT = Path(__file__).resolve().parents[1]
# The smoke corpus is built from real TED text where the project's shared data sits beside the
# repository, else from the demo's synthetic CLDR sample.
SHARED_TED_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "ted_real" / "wit3_iwslt17_test"
SMOKE_SPLITS = {"train": 0.6, "validation": 0.2, "test": 0.2}


class BudgetError(ValueError):
    """A format cannot supply the token budget from the data it is given."""


# --------------------------------------------------------------------------------------------
# Corpus, rows and windows
# --------------------------------------------------------------------------------------------


def resolve_corpus(dataset_name: str, build_smoke_corpus: bool = False) -> str:
    """The corpus to read. With ``build_smoke_corpus``, ``dataset_name`` is a folder that is built
    on first use from ../shared's real TED sample, or from the demo sample where that is absent."""
    if not build_smoke_corpus:
        return dataset_name
    from builder.contract import FORMAT_VERSION, REPORT
    from builder.compose import build_corpus
    from builder.pipeline import BuildSettings

    out = Path(dataset_name)
    report = out / REPORT
    # built on first use, and again when it was built in an older corpus format
    if not report.is_file() or json.loads(report.read_text(encoding="utf-8")).get("format_version") != FORMAT_VERSION:
        source = SHARED_TED_SAMPLE
        if not source.is_dir():
            from builder.fixtures.sample import write_sample

            source = out.with_name(out.name + "-sample-raw")
            write_sample(source)
        logger.info("building the smoke corpus %s from %s", out, source)
        build_corpus(source, out, BuildSettings(splits=SMOKE_SPLITS), progress=False)
    return str(out)


def subset_languages(subset: str) -> list[str] | None:
    """Registry codes of a subset name (``None`` for ``all``). Unknown codes and empty names raise."""
    if subset.strip().lower() == "all":
        return None
    return [lang.code for lang in registry.parse_subset(subset)]


def segment_key(talk_id: int, segment_id: int) -> int:
    """One int64 per (talk, segment): the unit of alignment, shared by all its languages."""
    return (int(talk_id) << 32) | int(segment_id)


@dataclass(frozen=True)
class Window:
    talk_id: int
    segment_ids: tuple[int, ...]
    texts: dict[str, str]  # language -> the window's text, for the languages present in all its rows

    @property
    def segment_keys(self) -> list[int]:
        return [segment_key(self.talk_id, segment_id) for segment_id in self.segment_ids]


def load_windows(
    corpus: str, subset: str, split: str, min_languages: int | None, talk_window: int
) -> tuple[list[Window], list[str]]:
    """The windows of a split of a subset, in talk and segment order, and the subset's languages."""
    import ted2025

    rows = ted2025.load_dataset(corpus, subset, split=split, min_languages=min_languages, format="wide")
    languages = [column for column in rows.column_names if registry.is_known(column) and column not in KEY_COLUMNS]
    return talk_windows(rows.select_columns([*KEY_COLUMNS, *languages]).to_dict(), languages, talk_window), languages


def talk_windows(columns: dict[str, list], languages: Sequence[str], talk_window: int) -> list[Window]:
    rows_by_talk: dict[int, list[int]] = defaultdict(list)
    for row, talk_id in enumerate(columns["talk_id"]):
        rows_by_talk[talk_id].append(row)
    joiners = {language: registry.joiner(language) for language in languages}
    windows = []
    for talk_id in sorted(rows_by_talk):
        rows = sorted(rows_by_talk[talk_id], key=columns["segment_id"].__getitem__)
        for start in range(0, len(rows), talk_window):
            chunk = rows[start : start + talk_window]
            texts = {}
            for language in languages:
                cells = [columns[language][row] for row in chunk]
                if all(cells):
                    texts[language] = joiners[language].join(cells)
            if texts:
                windows.append(Window(talk_id, tuple(columns["segment_id"][row] for row in chunk), texts))
    return windows


# --------------------------------------------------------------------------------------------
# Continued pretraining: four formats at one token budget
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CPTSettings:
    format: str = "multiway"
    token_budget: int | None = None  # None: every text the data gives (formats are then not comparable)
    languages_per_example: int | None = None  # multiway/unaligned; None: all present
    talk_window: int = 1

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"cpt format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if self.token_budget is not None and self.token_budget < 1:
            raise ValueError(f"token_budget must be positive, got {self.token_budget}")
        if self.languages_per_example is not None and self.languages_per_example < 2:
            raise ValueError(f"languages_per_example must be at least 2, got {self.languages_per_example}")
        if self.talk_window < 1:
            raise ValueError(f"talk_window must be at least 1, got {self.talk_window}")


@dataclass(frozen=True)
class Block:
    language: str
    talk_id: int
    segment_keys: tuple[int, ...]
    text: str


def _block(language: str, window: Window) -> Block:
    return Block(language, window.talk_id, tuple(window.segment_keys), window.texts[language])


def format_blocks(blocks: Sequence[Block]) -> str:
    return "\n".join(LANGUAGE_TAG.format(code=block.language) + block.text for block in blocks)


def cpt_examples(
    windows: Sequence[Window], languages: Sequence[str], settings: CPTSettings, rng: random.Random, counts: Counter
) -> Iterator[list[Block]]:
    """The texts of one format, as language blocks, in random order (lazily: the budget stops it)."""
    if settings.format in ("multiway", "pairwise"):
        k = 2 if settings.format == "pairwise" else settings.languages_per_example
        return _aligned(windows, k, rng, counts)
    own_windows = _own_windows(windows, assign_talks(windows, languages, rng, counts), rng)
    if settings.format == "unaligned":
        return _unaligned(own_windows, settings.languages_per_example, rng)
    return _monolingual(own_windows, rng)


def _aligned(windows: Sequence[Window], k: int | None, rng: random.Random, counts: Counter) -> Iterator[list[Block]]:
    for window in rng.sample(list(windows), len(windows)):
        present = list(window.texts)
        if len(present) < max(2, k or 2):
            counts["windows_with_too_few_languages"] += 1
            continue
        # rng.sample also shuffles: the language order is random per text
        yield [_block(language, window) for language in rng.sample(present, k or len(present))]


def assign_talks(windows: Sequence[Window], languages: Sequence[str], rng: random.Random, counts: Counter) -> dict[int, str]:
    """Give every talk to one language of the subset, balancing characters across languages.

    The unaligned control and the monolingual format read a language only from its own talks, so
    the same segment never appears in two languages, in any text or packed sequence; whole talks
    (not just segments) are kept apart so that neighbouring sentences cannot align either. Talks
    with the fewest candidate languages are placed first, larger talks before smaller ones.
    """
    characters: dict[int, Counter] = defaultdict(Counter)
    for window in windows:
        for language, text in window.texts.items():
            characters[window.talk_id][language] += len(text)
    talks = sorted(characters)
    rng.shuffle(talks)  # ties are broken at random, then the sort below is stable
    talks.sort(key=lambda talk: (len(characters[talk]), -sum(characters[talk].values())))
    load = dict.fromkeys(languages, 0)
    owner = {}
    for talk in talks:
        language = min(characters[talk], key=load.__getitem__)
        owner[talk] = language
        load[language] += characters[talk][language]
    starved = [language for language in languages if not load[language]]
    if starved:
        raise BudgetError(
            f"the unaligned and monolingual formats give each talk to one language, and {', '.join(starved)} "
            f"got no talk of its own ({len(talks)} talks for {len(languages)} languages); use fewer languages "
            "or a larger split"
        )
    for language in owner.values():
        counts[f"talks_of_{language}"] += 1
    return owner


def _own_windows(windows: Sequence[Window], owner: dict[int, str], rng: random.Random) -> dict[str, list[Window]]:
    own: dict[str, list[Window]] = defaultdict(list)
    for window in windows:
        language = owner[window.talk_id]
        if language in window.texts:
            own[language].append(window)
    for language_windows in own.values():
        rng.shuffle(language_windows)
    return dict(sorted(own.items()))


def _unaligned(own: dict[str, list[Window]], k: int | None, rng: random.Random) -> Iterator[list[Block]]:
    while True:
        available = [language for language, queue in own.items() if queue]
        if len(available) < 2:
            return
        chosen = rng.sample(available, min(k or len(available), len(available)))
        yield [_block(language, own[language].pop()) for language in chosen]


def _monolingual(own: dict[str, list[Window]], rng: random.Random) -> Iterator[list[Block]]:
    pool = [(language, window) for language, queue in own.items() for window in queue]
    rng.shuffle(pool)
    for language, window in pool:
        yield [_block(language, window)]


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
    report = Path(corpus) / "build_report.json"
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


# --------------------------------------------------------------------------------------------
# Packing with provenance
# --------------------------------------------------------------------------------------------


def pack(dataset: datasets.Dataset, max_length: int, strategy: str = "bfd", shuffle_seed: int | None = None) -> datasets.Dataset:
    """Pack ``input_ids`` as ``SFTTrainer`` does (``shuffle_dataset`` -> ``shuffle_seed``), keeping
    ``example_index`` per token: the row of ``dataset`` each packed token came from."""
    from trl import pack_dataset

    indexed = dataset.select_columns(["input_ids"]).map(
        lambda batch, indices: {"example_index": [[i] * len(ids) for i, ids in zip(indices, batch["input_ids"])]},
        batched=True,
        with_indices=True,
    )
    if shuffle_seed is not None:
        indexed = indexed.shuffle(seed=shuffle_seed)
    return pack_dataset(indexed, max_length, strategy)


def packed_examples(packed_row: dict) -> list[int]:
    """The dataset rows packed into one sequence, in order."""
    starts, offset = [], 0
    for length in packed_row["seq_lengths"]:
        starts.append(packed_row["example_index"][offset])
        offset += length
    return starts


def shared_segments(packed: datasets.Dataset, dataset: datasets.Dataset) -> list[tuple[int, int]]:
    """(packed row, segment key) for each segment that two language blocks of one packed sequence share."""
    block_keys = dataset["block_segment_keys"]
    found = []
    for row, packed_row in enumerate(packed):
        seen: set[int] = set()
        for example in packed_examples(packed_row):
            for keys in block_keys[example]:
                found.extend((row, key) for key in seen.intersection(keys))
                seen.update(keys)
    return found


def packing_efficiency(packed: datasets.Dataset, max_length: int) -> float:
    """Share of the packed rows' ``max_length`` slots that hold tokens (1 - padding fraction)."""
    tokens = sum(sum(lengths) for lengths in packed["seq_lengths"])
    return tokens / (len(packed) * max_length)


# --------------------------------------------------------------------------------------------
# Instruction tuning: translation instructions from multi-way data
# --------------------------------------------------------------------------------------------

# Several phrasings, so the model learns the task rather than one prompt.
TRANSLATION_TEMPLATES = (
    "Translate the following {source} text into {target}.\n\n{text}",
    "{text}\n\nTranslate this from {source} to {target}.",
    "What is the {target} translation of this {source} text?\n{text}",
    "Render this {source} passage in {target}, keeping its meaning and tone:\n\n{text}",
    "{source}: {text}\n{target}:",
    "Please give the {target} version of the {source} text below.\n\n{text}",
)
MULTI_TARGET_TEMPLATES = (
    "Translate the following {source} text into {targets}. Label each translation with its language.\n\n{text}",
    "{text}\n\nTranslate this {source} text into {targets}, one labelled line per language.",
    "Give the {targets} versions of this {source} passage, each on its own line after the language name:\n\n{text}",
)
MULTI_TARGETS = 2  # X -> Y and Z


@dataclass(frozen=True)
class SFTSettings:
    num_examples: int | None = None  # None: one instruction per window
    multi_target_fraction: float = 0.25
    talk_window: int = 1

    def __post_init__(self):
        if not 0 <= self.multi_target_fraction <= 1:
            raise ValueError(f"multi_target_fraction must be in [0, 1], got {self.multi_target_fraction}")
        if self.num_examples is not None and self.num_examples < 1:
            raise ValueError(f"num_examples must be positive, got {self.num_examples}")
        if self.talk_window < 1:
            raise ValueError(f"talk_window must be at least 1, got {self.talk_window}")


def translation_messages(window: Window, rng: random.Random, multi_target_fraction: float) -> dict | None:
    """One user/assistant exchange: X -> Y, or X -> Y and Z, with a random direction and phrasing."""
    present = list(window.texts)
    if len(present) < 2:
        return None
    multi = len(present) > MULTI_TARGETS and rng.random() < multi_target_fraction
    source, *targets = rng.sample(present, 1 + (MULTI_TARGETS if multi else 1))
    name = {code: registry.get(code).name for code in (source, *targets)}
    if multi:
        template = rng.randrange(len(MULTI_TARGET_TEMPLATES))
        prompt = MULTI_TARGET_TEMPLATES[template].format(
            source=name[source], targets=" and ".join(name[t] for t in targets), text=window.texts[source]
        )
        answer = "\n".join(f"{name[t]}: {window.texts[t]}" for t in targets)
    else:
        template = rng.randrange(len(TRANSLATION_TEMPLATES))
        prompt = TRANSLATION_TEMPLATES[template].format(
            source=name[source], target=name[targets[0]], text=window.texts[source]
        )
        answer = window.texts[targets[0]]
    return {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "source": source,
        "targets": targets,
        "template": f"{'multi' if multi else 'single'}-{template}",
        "talk_id": window.talk_id,
        "segment_keys": window.segment_keys,
    }


def build_sft_dataset(windows: Sequence[Window], settings: SFTSettings, seed: int) -> tuple[datasets.Dataset, dict]:
    """Conversational ``messages`` examples; past one per window, windows recur with new directions."""
    rng = random.Random(seed)
    usable = [window for window in windows if len(window.texts) >= 2]
    if not usable:
        raise ValueError("no window of this split has two languages: nothing to translate")
    wanted = settings.num_examples or len(usable)
    examples = []
    while len(examples) < wanted:
        for window in rng.sample(usable, len(usable)):
            examples.append(translation_messages(window, rng, settings.multi_target_fraction))
            if len(examples) == wanted:
                break
    dataset = datasets.Dataset.from_list(examples)
    directions = Counter(f"{e['source']}->{'+'.join(e['targets'])}" for e in examples)
    summary = {
        **asdict(settings),
        "examples": len(examples),
        "windows": len(usable),
        "multi_target_examples": sum(len(e["targets"]) > 1 for e in examples),
        "directions": len(directions),
        "top_directions": dict(directions.most_common(10)),
    }
    return dataset, summary


def sft_dataset(
    corpus: str, split: str, subset: str, min_languages: int | None, settings: SFTSettings, seed: int
) -> tuple[datasets.Dataset, dict]:
    """Load a split's windows and build its instructions (see :func:`build_sft_dataset`)."""
    windows, _ = load_windows(corpus, subset, split, min_languages, settings.talk_window)
    dataset, summary = build_sft_dataset(windows, settings, seed)
    return dataset, {"split": split, **summary}


# --------------------------------------------------------------------------------------------
# Chat template
# --------------------------------------------------------------------------------------------

# The documented default for a tokenizer without a chat template: "### User:" / "### Assistant:"
# turns, each assistant turn ended by the tokenizer's EOS inside its {% generation %} span.
DEFAULT_CHAT_TEMPLATE_PATH = Path(__file__).with_name("default_chat_template.jinja")
DEFAULT_CHAT_TEMPLATE = DEFAULT_CHAT_TEMPLATE_PATH.read_text(encoding="utf-8")


def ensure_chat_template(tokenizer, assistant_only_loss: bool, chat_template_path: str | None = None) -> str:
    """Give a tokenizer without a chat template the default one, and check that assistant-only loss
    can mask the template, before any model is loaded. Returns which template is used."""
    from trl.chat_template_utils import get_training_chat_template

    if chat_template_path is not None:
        if not chat_template_path.endswith((".jinja", ".j2")):
            return chat_template_path  # a model's template that SFTTrainer clones, special tokens and all
        tokenizer.chat_template = Path(chat_template_path).read_text(encoding="utf-8")
        used = chat_template_path
    elif not tokenizer.chat_template:
        if tokenizer.eos_token is None:
            raise ValueError("the model has neither a chat template nor an EOS token; give --chat_template_path")
        logger.warning("the model has no chat template: using the recipes' default, %s", DEFAULT_CHAT_TEMPLATE_PATH)
        tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
        return "default"
    else:
        used = "model"
    if assistant_only_loss:
        try:
            get_training_chat_template(tokenizer)
        except ValueError as error:
            raise ValueError(
                "assistant_only_loss needs a chat template with {% generation %} markers, and TRL cannot patch "
                "this model's template. Give --chat_template_path with such a template (e.g. "
                "recipes/default_chat_template.jinja), or set --assistant_only_loss false"
            ) from error
    return used
