"""Load TED2025, a multi-way parallel corpus of TED talk transcripts, as 🤗 datasets.

A built corpus (``ted2025 build``) has two Parquet tables per split (see :mod:`builder.contract`):
the all-way table (``data/``, one row per segment of the alignment of every language) and the
finest alignment (``alignment/``, one row per pivot sentence, with the merges each language asks
for). ``all`` reads the first; a named subset is composed from the second, merging only what its
own languages ask for, so it is as fine as a build of just those languages. Only the needed
columns are read and rows are assembled in Arrow::

    import ted2025

    pairs = ted2025.load_dataset("path/to/corpus", "en-zh-sw", split="train")
    pairs[0]["translation"]["sw"]                  # rows where en, zh-cn and sw are all present

    many = ted2025.load_dataset("org/ted2025", "all", min_languages=50)   # a Hub repo
    wide = ted2025.load_dataset("hf://datasets/org/ted2025", languages=["en", "de"], format="wide")
    stream = ted2025.load_dataset("path/to/corpus", "en-de", split="train", streaming=True)

Subsets are named by registry codes joined with ``-`` (``+`` and ``,`` work too), in any order;
aliases such as ``zh`` resolve through :mod:`builder.languages`. ``all`` is every language the
corpus has.

``min_languages`` decides which rows a subset keeps, counting only the requested languages:

* default for a named subset: all requested languages must be present in the row;
* default for ``all``: at least one (every row of the corpus);
* ``min_languages=k``: at least ``k`` of the requested languages are present.

Each output row carries ``num_languages``, the number of requested languages present in it.
``format="translation"`` (default) gives ``talk_id, segment_id, num_languages, translation``,
where ``translation`` is a :class:`datasets.Translation` struct (absent languages are ``None``);
``format="wide"`` gives ``talk_id, segment_id, start_ms, end_ms, num_languages`` and one column
per language, in registry order.

:class:`Ted2025` is an ordinary ``datasets.ArrowBasedBuilder`` (no loading script), so
``download_and_prepare`` caches into ``cache_dir`` and ``as_streaming_dataset`` streams.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import functools
import hashlib
import json
import operator
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import datasets
import fsspec
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from datasets.builder import Key
from datasets.exceptions import DatasetGenerationError
from huggingface_hub import HfApi, parse_hf_uri, snapshot_download
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import HFValidationError, validate_repo_id

from builder import contract
from builder import languages as registry
from builder.contract import FORMAT_VERSION, KEY_COLUMNS, SHARD_NAME, TIME_COLUMNS

DEFAULT_PATH = "ted2025"
DEFAULT_REPO_ID = "ted2025/TED2025"  # the published corpus; override with $TED2025_REPO_ID
FORMATS = ("translation", "wide")
ALL = "all"

# datasets rebinds `open`, `os.path.*` and `pathlib.Path` in a builder's module so that scripts
# written for local files can stream, and imports pandas and scipy.io to do it: 0.18 s on the
# first load of every process, more than a cached reload takes. This module opens every file
# itself, through fsspec for remote paths, so it opts out (the flag datasets sets once patched).
_patched_for_streaming = True


class ShardError(OSError):
    """A data shard that cannot be used. ``path`` names the file."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"TED2025 shard {path}: {problem}")
        self.path = path


class MissingShardError(ShardError, FileNotFoundError):
    pass


class CorruptShardError(ShardError):
    pass


class EmptySubsetError(ValueError):
    """The requested subset has no rows; the message gives the row count of each language."""


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


@dataclass
class Ted2025Config(datasets.BuilderConfig):
    """A subset of TED2025, named like ``en-zh-sw`` or ``all``.

    Args:
        name: subset spec (codes joined by ``-``, ``+`` or ``,``; any order; aliases allowed) or
            ``all`` (in any case).
        languages: the subset as a list of codes, instead of ``name`` (a string here is a TypeError).
        min_languages: keep rows where at least this many requested languages are present.
            Default: all of them for a named subset, one for ``all``.
        format: ``"translation"`` (a Translation struct per row) or ``"wide"`` (one column per language).
        splits: prepare only these splits, a list of names (default: every split the corpus has).

    Arguments of the wrong type are a TypeError naming the argument (``min_languages``: a ValueError).

    After ``__post_init__`` the config is canonical: ``languages`` holds registry codes in
    registry order (``None`` for ``all``), ``name`` is the registry's subset name, and
    ``min_languages`` is filled in, so ``de-en`` and ``languages=["en", "de"]`` are one config.
    """

    name: str = ALL
    languages: Sequence[str] | None = None
    min_languages: int | None = None
    format: str = "translation"
    splits: Sequence[str] | None = None

    def __post_init__(self):
        self.languages, self.splits = _check_arguments(
            self.name, self.languages, self.min_languages, self.format, self.splits
        )
        self.name = ALL if self.name is None or _is_all(self.name) else self.name
        super().__post_init__()
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {self.format!r}")
        by_name = None if self.name == ALL else _resolve_subset(self.name)
        by_list = None if self.languages is None else _resolve_subset(list(self.languages))
        if by_name is not None and by_list is not None and by_name != by_list:
            raise ValueError(
                f"config name {self.name!r} and languages={list(self.languages)} disagree; give one of them"
            )
        codes = by_list if by_list is not None else by_name
        self.languages = codes
        self.name = ALL if codes is None else registry.subset_name([registry.get(code) for code in codes])
        if self.min_languages is None:
            self.min_languages = 1 if codes is None else len(codes)
        if codes is not None and self.min_languages > len(codes):
            raise ValueError(
                f"min_languages={self.min_languages} but the subset {self.name!r} has only {len(codes)} languages"
            )
        if self.splits is not None:
            self.splits = tuple(sorted({str(split) for split in self.splits}))

    def create_config_id(self, config_kwargs: dict, custom_features=None) -> str:
        # Everything is canonical after __post_init__, so the id is built from the fields rather
        # than from the raw kwargs. The corpus itself is identified by the builder's hash.
        subset = self.name if len(self.name) <= 64 else f"{len(self.languages)}langs-{_short_hash(self.name)}"
        config_id = f"{subset}-{self.format}-min{self.min_languages}"
        if self.splits is not None:
            config_id += "-" + "+".join(self.splits)
        if custom_features is not None:
            config_id += "-" + _short_hash(custom_features)
        return config_id


def _is_all(name: str) -> bool:
    """``all`` in any case (``ALL``, ``All``), or datasets' ``default``."""
    return name.lower() in (ALL, "default")


def _check_arguments(
    name, languages, min_languages, format, splits
) -> tuple[list[str] | None, list[str] | None]:
    """TypeError (ValueError for ``min_languages``) naming the argument for a config argument of
    the wrong type; the values are checked where they are resolved. Returns ``languages`` and
    ``splits`` as lists (None stays None)."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a subset name such as 'en-de' or 'all' (a str), got {name!r}")
    if isinstance(languages, (str, bytes)):
        codes = languages.decode(errors="replace") if isinstance(languages, bytes) else languages
        raise TypeError(
            f"languages must be a list of codes, e.g. {[c for c in re.split(r'[-+,]', codes) if c] or ['en', 'de']}, "
            f"not the string {languages!r}; or pass the subset name {codes!r} as name"
        )
    if languages is not None:
        if isinstance(languages, dict) or not isinstance(languages, Iterable):
            raise TypeError(f"languages must be a list of codes, e.g. ['en', 'de'], got {languages!r}")
        languages = list(languages)
        wrong = [code for code in languages if not isinstance(code, str)]
        if wrong:
            raise TypeError(
                f"languages must be a list of codes (strings), e.g. ['en', 'de']; got {wrong[0]!r} in {languages!r}"
            )
    if min_languages is not None and (
        isinstance(min_languages, bool) or not isinstance(min_languages, int) or min_languages < 1
    ):
        raise ValueError(f"min_languages must be a positive int, got {min_languages!r}")
    if not isinstance(format, str):
        raise TypeError(f"format must be a str, one of {FORMATS}, got {format!r}")
    if splits is not None:
        if isinstance(splits, (str, bytes)) or isinstance(splits, dict) or not isinstance(splits, Iterable):
            raise TypeError(f"splits must be a list of split names, e.g. ['train'], got {splits!r}")
        splits = list(splits)
        wrong = [split for split in splits if not isinstance(split, (str, datasets.NamedSplit))]
        if wrong:
            raise TypeError(
                f"splits must be a list of split names (strings), e.g. ['train']; got {wrong[0]!r} in {splits!r}"
            )
    return languages, splits


def _resolve_subset(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Registry codes of a subset spec or code list, in registry order. Unknown and duplicate codes raise."""
    langs = registry.parse_subset(spec) if isinstance(spec, str) else registry.resolve(list(spec))
    return tuple(sorted((lang.code for lang in langs), key=registry.rank))


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


class Ted2025(datasets.ArrowBasedBuilder):
    """Reads a built TED2025 corpus (``data_dir``: a local folder or an ``hf://`` path).

    ``Ted2025(config_name="en-de", data_dir="corpus/", cache_dir=...)`` works like any builder:
    ``download_and_prepare()`` + ``as_dataset()``, or ``as_streaming_dataset()``. The cache is
    keyed by the canonical config and a fingerprint of the corpus files, so a rebuilt corpus is
    never served from a stale cache.
    """

    BUILDER_CONFIG_CLASS = Ted2025Config
    DEFAULT_CONFIG_NAME = ALL
    VERSION = datasets.Version(f"{FORMAT_VERSION}.0.0")

    def __init__(self, *args, hash: str | None = None, **kwargs):
        hash = hash or _corpus_fingerprint(kwargs.get("data_dir"), kwargs.get("data_files"))
        super().__init__(*args, hash=hash, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        # For `all` the languages are the corpus's, known once _split_generators has read it.
        languages = self.config.languages
        features = None if languages is None else _features(languages, self.config.format)
        return datasets.DatasetInfo(
            description="TED2025: multi-way parallel TED talk transcripts, one row per aligned segment.",
            features=features,
            license="cc-by-nc-nd-4.0",
        )

    @functools.cached_property
    def corpus(self) -> _Corpus:
        """Shards, languages and per-language row counts of the corpus, from its Parquet footers."""
        table = contract.DATA_DIR if self.config.languages is None else contract.ALIGNMENT_DIR
        return _read_corpus(
            self.config.data_dir, self.config.data_files, self.storage_options, self.config.splits, table
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this config reads: the requested ones, or all of the corpus's."""
        return self.config.languages or self.corpus.languages

    def _split_generators(self, dl_manager):
        corpus = self.corpus
        missing = [code for code in self.config.languages or () if code not in corpus.languages]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in the corpus at "
                f"{corpus.root}; it has {len(corpus.languages)} languages: {', '.join(corpus.languages)}"
            )
        if self.config.min_languages > len(self.languages):
            raise ValueError(
                f"min_languages={self.config.min_languages} but the corpus has only {len(self.languages)} languages"
            )
        splits = self.config.splits or tuple(corpus.shards_by_split)
        if self.info.features is None:
            self.info.features = _features(self.languages, self.config.format)
        # `all` is the all-way table as built; a named subset is composed from the finest one.
        files = corpus.shards_by_split
        return [datasets.SplitGenerator(name=split, gen_kwargs={"files": files[split]}) for split in splits]

    def _generate_shards(self, files: list[str]) -> Iterator[str]:
        yield from files

    def _generate_tables(self, files: list[str]) -> Iterator[tuple[Key, pa.Table]]:
        if self.config.languages is not None:
            yield from self._generate_composed(files)
            return
        languages = self.languages
        columns = [*KEY_COLUMNS, *(TIME_COLUMNS if self.config.format == "wide" else ()), *languages]
        row_filter = _presence_filter(languages, self.config.min_languages)
        schema = self.info.features.arrow_schema
        for file_index, path in enumerate(files):
            for group, table in self._read_row_groups(path, columns):
                table = table.filter(row_filter)
                if table.num_rows:
                    yield Key(file_index, group), _assemble(table, languages, self.config.format, schema)

    def _generate_composed(self, files: list[str]) -> Iterator[tuple[Key, pa.Table]]:
        """The subset's own rows: the finest rows of each talk, merged where a language of the
        subset asks (:func:`builder.contract.compose`), then filtered by ``min_languages``."""
        languages = self.languages
        columns = [  # the finest rows' order is the file's: unit_id is not needed
            "talk_id", *(TIME_COLUMNS if self.config.format == "wide" else ()), contract.BASE_MERGE,
            *languages, *(contract.merge_column(code) for code in languages),
        ]
        schema = self.info.features.arrow_schema
        min_languages = self.config.min_languages

        def composed(pieces: list[pa.Table]) -> pa.Table | None:
            rows = contract.compose(pa.concat_tables(pieces), languages)
            rows = rows.filter(pc.greater_equal(rows.column("num_languages"), min_languages))
            return _assemble(rows, languages, self.config.format, schema) if rows.num_rows else None

        # The talks that can give rows are gathered over row groups (en-zh-sw: 7 % of them) and
        # composed together: composing has a fixed cost per call, like any handful of Arrow calls.
        # The builder never lets a talk straddle row groups, but other writers may: the last
        # talk of a row group waits for the next one (talks never straddle files).
        for file_index, path in enumerate(files):
            pieces, held, pending, group = [], 0, None, -1
            for group, table in self._read_row_groups(path, columns):
                if pending is not None:
                    table = pa.concat_tables([pending, table])
                talk = table.column("talk_id").to_numpy()
                if not len(talk):
                    continue
                cut = int(np.searchsorted(talk, talk[-1]))  # where the last talk's rows start
                table, pending = table.slice(0, cut), table.slice(cut)
                if cut and (table := _talks_with_enough_languages(table, languages, min_languages)).num_rows:
                    pieces.append(table)
                    held += table.num_rows
                if held >= _COMPOSE_ROWS:
                    if (rows := composed(pieces)) is not None:
                        yield Key(file_index, group), rows
                    pieces, held = [], 0
            if pending is not None:
                pieces.append(_talks_with_enough_languages(pending, languages, min_languages))
            if pieces and (rows := composed(pieces)) is not None:
                yield Key(file_index, group + 1), rows

    def _read_row_groups(self, path: str, columns: Sequence[str]) -> Iterator[tuple[int, pa.Table]]:
        """``columns`` of each row group of a shard that can give a row: one where fewer than
        ``min_languages`` of the config's languages have a cell (the footer's null counts say so)
        is never read. One row group at a time, so memory stays at one (TED2025 writes ~32 MB row
        groups; a talk never straddles two). ``ParquetFile`` on the footer checked by
        :func:`_read_corpus`, rather than a dataset scan, whose setup cost more than the read on
        a 500-talk corpus (49 ms against 23 ms for three languages)."""
        metadata = self.corpus.footers[path]
        columns_at = _leaf_columns(metadata, ("talk_id", *self.languages))
        talk_column = columns_at.pop("talk_id", None)
        text_columns = list(columns_at.values())
        # A composed row may take text from two row groups that share a talk (the builder's never
        # do, other writers' may): such a row group is read whatever languages it has.
        if self.config.languages is None:
            shared = [False] * metadata.num_row_groups
        else:
            shared = _shares_talk_with_neighbour(metadata, talk_column)
        with _shard_errors(path), _open(path, self.storage_options) as f:
            # Pre-buffering coalesces a row group's reads: one request instead of one per
            # column chunk, for remote files; a local file only pays its extra copy (20 ms
            # against 16 for the 500-talk en-zh-sw).
            parquet = pq.ParquetFile(f, metadata=metadata, pre_buffer=_is_remote(path))
            for group in range(metadata.num_row_groups):
                few = _languages_present(metadata.row_group(group), text_columns) < self.config.min_languages
                if shared[group] or not few:
                    yield group, parquet.read_row_group(group, columns=list(columns))

    def rows_per_language(self, splits: Sequence[str] | None = None) -> dict[str, int]:
        """Non-null cells of each language of this config over ``splits`` (default: all)."""
        return self.corpus.present(splits or self.config.splits or list(self.corpus.shards_by_split), self.languages)

    def empty_subset_message(self, splits: Sequence[str] | None = None) -> str:
        counts = self.rows_per_language(splits)
        k, codes = self.config.min_languages, ", ".join(counts)
        wanted = f"all of {codes}" if k == len(counts) else f"at least {k} of {codes}"
        where = f" in split {'+'.join(splits)}" if splits else ""
        per_language = ", ".join(f"{code}={count}" for code, count in counts.items())
        return f"no rows{where} have {wanted}; rows per language: {per_language}"


_COMPOSE_ROWS = 8192  # finest rows composed at once, at most about one row group more


def _talks_with_enough_languages(table: pa.Table, languages: Sequence[str], min_languages: int) -> pa.Table:
    """The rows of the talks that have at least ``min_languages`` of ``languages`` somewhere: no
    other talk can give a row, so composing it is wasted (``en-zh-sw``: most talks lack sw)."""
    talk = table.column("talk_id").to_numpy()
    starts = np.flatnonzero(contract.run_starts(talk))
    present = sum(
        np.logical_or.reduceat(table.column(code).is_valid().to_numpy(zero_copy_only=False), starts).astype(np.int16)
        for code in languages
    )
    kept = present >= min_languages
    if kept.all():
        return table
    bounds = np.r_[starts, len(talk)]
    if kept.mean() < 0.5:  # few talks kept (en-zh-sw): a compact copy of their rows
        return table.filter(pa.array(np.repeat(kept, np.diff(bounds))))
    # Most talks kept (10 popular languages): slices of the runs of kept talks, not a copy of
    # nearly every row (composing copies them once more anyway). One slice per run of talks, and
    # a row group holds a few hundred talks at most.
    edges = np.flatnonzero(np.diff(np.r_[False, kept, False].astype(np.int8)))
    first, end = bounds[edges[::2]], bounds[edges[1::2]]
    return pa.concat_tables([table.slice(a, b - a) for a, b in zip(first.tolist(), end.tolist())])


def _features(languages: Sequence[str], format: str) -> datasets.Features:
    keys = {"talk_id": datasets.Value("int64"), "segment_id": datasets.Value("int32")}
    if format == "wide":
        return datasets.Features(
            {
                **keys,
                "start_ms": datasets.Value("int64"),
                "end_ms": datasets.Value("int64"),
                "num_languages": datasets.Value("int16"),
                **{code: datasets.Value("string") for code in languages},
            }
        )
    return datasets.Features(
        {
            **keys,
            "num_languages": datasets.Value("int16"),
            "translation": datasets.Translation(languages=list(languages)),
        }
    )


def _presence_filter(languages: Sequence[str], min_languages: int) -> pc.Expression:
    """Row filter for the Parquet scanner: at least ``min_languages`` of ``languages`` are non-null."""
    present = [pc.field(code).is_valid() for code in languages]
    if min_languages == len(present):
        return functools.reduce(operator.and_, present)
    if min_languages == 1:
        return functools.reduce(operator.or_, present)
    return functools.reduce(operator.add, [p.cast(pa.int16()) for p in present]) >= min_languages


def _assemble(rows: pa.Table, languages: Sequence[str], format: str, schema: pa.Schema) -> pa.Table:
    """The output rows of one row group's ``rows``, built column-wise in Arrow."""
    texts = {code: _array(rows.column(code)) for code in languages}
    present = [pc.cast(text.is_valid(), pa.int16()) for text in texts.values()]
    columns = {
        "talk_id": rows.column("talk_id"),
        "segment_id": rows.column("segment_id"),
        "num_languages": functools.reduce(pc.add, present),
    }
    if format == "wide":
        columns |= {"start_ms": rows.column("start_ms"), "end_ms": rows.column("end_ms"), **texts}
    else:
        # datasets.Translation stores its struct with the languages sorted by code.
        codes = sorted(texts)
        columns["translation"] = pa.StructArray.from_arrays([texts[code] for code in codes], names=codes)
    return pa.table({name: columns[name] for name in schema.names}).cast(schema)


def _array(column: pa.ChunkedArray) -> pa.Array:
    """One array for a column (a row group's, filtered: one chunk, taken as it is)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


# --------------------------------------------------------------------------------------------
# Reading a corpus folder (local or hf://)
# --------------------------------------------------------------------------------------------


@dataclass
class _Corpus:
    root: str
    languages: tuple[str, ...]
    files_by_split: dict[str, list[str]]
    alignment_by_split: dict[str, list[str]] = field(default_factory=dict)
    footers: dict[str, pq.FileMetaData] = field(default_factory=dict)  # of the shards to read, checked
    storage_options: dict = field(default_factory=dict)
    table: str = contract.DATA_DIR  # the table read (and whose footers are checked): data or alignment

    @property
    def shards_by_split(self) -> dict[str, list[str]]:
        """The shards of the table read, per split."""
        return self.alignment_by_split if self.table == contract.ALIGNMENT_DIR else self.files_by_split

    def present(self, splits: Sequence[str], codes: Sequence[str]) -> dict[str, int]:
        """Non-null cells of each of ``codes`` in the shards read of ``splits`` (for a subset,
        the finest table's, which keeps the cells an all-way filter dropped), from their footers'
        statistics (asked for only when a subset turns out empty, or before streaming)."""
        counts = dict.fromkeys(codes, 0)
        for split in splits:
            for path in self.shards_by_split[split]:
                for code, count in _present_counts(self.footers[path], codes, path, self.storage_options).items():
                    counts[code] += count
        return counts


def _read_corpus(
    root: str | None, data_files, storage_options: dict, splits: Sequence[str] | None, table: str = contract.DATA_DIR
) -> _Corpus:
    """The corpus's shards, and the checked footers of the shards of ``table`` (``data`` for
    ``all``, ``alignment`` for a subset) in the wanted splits: only what the config reads."""
    alignment_by_split: dict[str, list[str]] = {}
    if data_files:
        files_by_split = {str(split): [str(path) for path in files] for split, files in data_files.items()}
        root = root or os.path.commonpath([path for files in files_by_split.values() for path in files])
        alignment_by_split = {
            split: [path.replace(f"{contract.DATA_DIR}/", f"{contract.ALIGNMENT_DIR}/") for path in files]
            for split, files in files_by_split.items()
        }
    elif root:
        alignment_by_split = _list_shards(str(root), storage_options, contract.ALIGNMENT_DIR)
        try:
            files_by_split = _list_shards(str(root), storage_options)
        except MissingShardError:  # a gap in data/, found by the shard names: only `all` reads it
            if table == contract.DATA_DIR:
                raise
            files_by_split = {}
    else:
        raise ValueError("Ted2025 needs data_dir (a built corpus folder or hf:// path) or data_files")
    corpus = _Corpus(
        root=str(root), languages=(), files_by_split=files_by_split, alignment_by_split=alignment_by_split,
        storage_options=storage_options, table=table,
    )
    for split in splits or files_by_split:  # the finest table is sharded on its own, but never absent
        if files_by_split.get(split) and not alignment_by_split.get(split):
            _say_if_older(files_by_split[split], storage_options)
            raise MissingShardError(
                _join(str(root), contract.ALIGNMENT_DIR),
                f"the {split} split has data shards but no alignment shards; rebuild the corpus with `ted2025 build`",
            )
    available = corpus.shards_by_split
    unknown = [split for split in splits or () if split not in available]
    if unknown:
        raise ValueError(f"no split {', '.join(unknown)} in {root}; it has {', '.join(available)}")
    # Footers are read for the wanted splits and the table read only: a Hub download fetched
    # only their shards (a subset: alignment/ alone), and a subset never opens data/.
    for split in splits or available:
        for path in available.get(split, ()):
            try:
                metadata, shard_languages = _checked_footer(path, storage_options, table)
            except MissingShardError:  # an alignment shard named after a data shard (data_files)
                if table == contract.ALIGNMENT_DIR:
                    _say_if_older(files_by_split.get(split, ()), storage_options)
                raise
            if not corpus.languages:
                corpus.languages = shard_languages
            elif shard_languages != corpus.languages:
                raise CorruptShardError(path, f"its languages {shard_languages} differ from the other shards'")
            corpus.footers[path] = metadata
    if not corpus.languages:
        raise FileNotFoundError(f"no {table} shards in the TED2025 corpus at {root}")
    return corpus


def _say_if_older(data_shards: Sequence[str], storage_options: dict) -> None:
    """Raise the format-version error if the first of ``data_shards`` was written in an older
    format: a corpus of format 1 had no alignment shards, which is what the caller found."""
    if data_shards:
        with contextlib.suppress(MissingShardError):  # (a subset's Hub download has no data/)
            _footer_in_this_format(data_shards[0], storage_options)


def _checked_footer(path: str, storage_options: dict, table: str) -> tuple[pq.FileMetaData, tuple[str, ...]]:
    """The footer of a shard of ``table`` and its languages, once its format version and schema
    have been checked against the contract."""
    metadata, schema = _footer_in_this_format(path, storage_options)
    return metadata, _shard_languages(schema, path, table)


def _footer_in_this_format(path: str, storage_options: dict) -> tuple[pq.FileMetaData, pa.Schema]:
    """A shard's footer and its Arrow schema, once its format version is the one this loader reads."""
    metadata = _read_footer(path, storage_options)
    schema = metadata.schema.to_arrow_schema()
    version = _recorded(schema, path).get("format_version")
    if version != FORMAT_VERSION:
        raise CorruptShardError(
            path,
            f"written in TED2025 format version {version}, but this loader reads version {FORMAT_VERSION} "
            "(subsets are now composed from the finest alignment); rebuild the corpus with `ted2025 build`",
        )
    return metadata, schema


def _list_shards(root: str, storage_options: dict, folder: str = contract.DATA_DIR) -> dict[str, list[str]]:
    """Shard paths of ``folder`` (data/ or alignment/) per split, from build_report.json, or
    from the file names when it is absent."""
    report_path = _join(root, contract.REPORT)
    try:
        with _open(report_path, storage_options) as f:
            report = json.load(f)
    except FileNotFoundError:
        report = None
    except ValueError as e:
        raise ValueError(f"{report_path} is not valid JSON: {e}") from e
    if report is not None:
        key = "files" if folder == contract.DATA_DIR else f"{folder}_files"
        return {
            split: [_join(root, _shard_entry(path, report_path, folder)) for path in files]
            for split, files in _report_files(report, report_path, key).items()
            if files
        }
    fs, fs_root = fsspec.core.url_to_fs(root, **storage_options.get(_protocol(root), {}))
    names = sorted(posixpath.basename(path) for path in fs.glob(posixpath.join(fs_root, folder, "*.parquet")))
    shards: dict[str, dict[int, int]] = {}
    for name in names:
        if match := SHARD_NAME.fullmatch(name):
            shards.setdefault(match["split"], {})[int(match["index"])] = int(match["count"])
    files_by_split = {}
    for split, counts in shards.items():
        count = max(counts.values())
        paths = [_join(root, f"{folder}/{split}-{index:05d}-of-{count:05d}.parquet") for index in range(count)]
        for index, path in enumerate(paths):
            if index not in counts:
                raise MissingShardError(path, f"not found (the {split} split has {count} shards)")
        files_by_split[split] = paths
    return files_by_split


def _report_files(report, report_path: str, key: str) -> dict[str, list]:
    """``splits.<split>.<key>`` of a parsed build_report.json, per split; a report of another
    shape (a JSON array, ``splits`` not an object, ...) is a ValueError naming the file."""

    def shape(what: str, value, expected: str) -> ValueError:
        return ValueError(
            f"{report_path} is not a TED2025 build report: {what} is a JSON {_json_type(value)}, expected {expected}; "
            "rebuild the corpus with `ted2025 build`, or delete the file to list the shards by name"
        )

    if not isinstance(report, dict):
        raise shape("the file", report, "an object")
    splits = report.get("splits", {})
    if not isinstance(splits, dict):
        raise shape("'splits'", splits, "an object")
    files_by_split = {}
    for split, info in splits.items():
        if not isinstance(info, dict):
            raise shape(f"'splits.{split}'", info, "an object")
        files = info.get(key)
        files = [] if files is None else files
        if not isinstance(files, list):
            raise shape(f"'splits.{split}.{key}'", files, "an array of shard paths")
        files_by_split[split] = files
    return files_by_split


def _json_type(value) -> str:
    for types, name in ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), ((int, float), "number")):
        if isinstance(value, types):
            return name
    return "null"


def _shard_entry(path, report_path: str, folder: str = contract.DATA_DIR) -> str:
    """A shard named by build_report.json: ``<folder>/<split>-NNNNN-of-NNNNN.parquet`` and nothing
    else, so that a report (possibly from a Hub repo) cannot point the reader outside the corpus."""
    prefix = f"{folder}/"
    if not (isinstance(path, str) and path.startswith(prefix) and SHARD_NAME.fullmatch(path[len(prefix):])):
        raise ValueError(f"{report_path} names {path!r} as a shard; shards are {prefix}<split>-NNNNN-of-NNNNN.parquet")
    return path


def _read_footer(path: str, storage_options: dict) -> pq.FileMetaData:
    with _shard_errors(path), _open(path, storage_options) as f:
        return pq.read_metadata(f)


def _shard_languages(schema: pa.Schema, path: str, table: str = contract.DATA_DIR) -> tuple[str, ...]:
    """The languages of a shard of ``table`` (``data`` or ``alignment``), once its schema has
    been checked against the contract (:func:`_check_schema`): from the footer alone."""
    recorded = _recorded(schema, path).get("languages")
    listed = isinstance(recorded, list) and all(isinstance(code, str) for code in recorded)
    if listed and len(set(recorded)) == len(recorded) and schema.equals(_expected_schema(table, tuple(recorded))):
        return tuple(recorded)  # as the builder wrote it
    names = schema.names
    twice = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    if twice:
        raise CorruptShardError(
            path, f"column {', '.join(map(repr, twice))} appears more than once; rebuild the corpus with `ted2025 build`"
        )
    alignment = table == contract.ALIGNMENT_DIR
    required = ("talk_id", *TIME_COLUMNS, contract.BASE_MERGE) if alignment else (*KEY_COLUMNS, *TIME_COLUMNS)
    missing = [name for name in required if name not in names]
    if missing:
        raise CorruptShardError(path, f"not a TED2025 shard: no column {', '.join(missing)}")
    fixed = {f.name for f in (contract.ALIGNMENT_BASE_FIELDS if alignment else contract.BASE_FIELDS)}
    if recorded is not None and not listed:
        raise CorruptShardError(path, f"its metadata lists languages as {recorded!r}, not a list of codes")
    codes = tuple(
        recorded or (name for name in names if name not in fixed and not name.startswith(f"{contract.BASE_MERGE}."))
    )
    absent = [code for code in codes if code not in names]
    if absent:
        raise CorruptShardError(path, f"metadata lists languages with no column: {', '.join(absent)}")
    if alignment:
        no_flags = [contract.merge_column(code) for code in codes if contract.merge_column(code) not in names]
        if no_flags:
            raise CorruptShardError(path, f"not a TED2025 alignment shard: no column {', '.join(no_flags)}")
    _check_schema(schema, _expected_schema(table, codes), path)
    return codes


@functools.lru_cache(maxsize=8)  # one corpus has one language list: every shard asks the same
def _expected_schema(table: str, codes: tuple[str, ...]) -> pa.Schema:
    """The contract's schema of a ``table`` (``data`` or ``alignment``) shard with languages ``codes``."""
    make = contract.alignment_schema if table == contract.ALIGNMENT_DIR else contract.wide_schema
    return make(codes, granularity="")


def _check_schema(schema: pa.Schema, expected: pa.Schema, path: str) -> None:
    """Every column of ``schema`` that ``expected`` (the contract's) defines has the contract's
    type: a wrong-typed column would be cast on reading (an int64 ``en`` read as ``'0'``).
    Required columns are checked by the caller; extra columns are never read."""
    if schema.equals(expected):  # as written by the builder (metadata aside): nothing to look up
        return
    for wanted in expected:
        index = schema.get_field_index(wanted.name)
        if index < 0:
            continue
        actual = schema.field(index).type
        if not actual.equals(wanted.type):
            raise CorruptShardError(
                path, f"column {wanted.name!r} is {actual}, expected {wanted.type}; rebuild the corpus with `ted2025 build`"
            )


def _recorded(schema: pa.Schema, path: str) -> dict:
    """The shard's ``ted2025`` metadata (:func:`builder.contract.recorded`); unparsable is corrupt."""
    try:
        recorded = contract.recorded(schema)
    except ValueError as e:  # json.JSONDecodeError, UnicodeDecodeError
        raise CorruptShardError(path, f"its ted2025 metadata is not valid JSON ({e})") from e
    if not isinstance(recorded, dict):
        raise CorruptShardError(path, f"its ted2025 metadata is a JSON {_json_type(recorded)}, not an object")
    return recorded


def _present_counts(
    metadata: pq.FileMetaData, codes: Sequence[str], path: str, storage_options: dict
) -> dict[str, int]:
    """Non-null cells per language from the footer statistics; columns without statistics are read."""
    counts = dict.fromkeys(codes, 0)
    unknown = set()
    columns = _leaf_columns(metadata, codes)
    for rg in range(metadata.num_row_groups):
        row_group = metadata.row_group(rg)
        for code, i in columns.items():
            cells = _cells(row_group, i)
            if cells is None:
                unknown.add(code)
            else:
                counts[code] += cells
    if unknown:
        with _shard_errors(path), _open(path, storage_options) as f:
            table = pq.read_table(f, columns=sorted(unknown))
        counts |= {code: pc.count(table[code]).as_py() for code in unknown}
    return counts


def _leaf_columns(metadata: pq.FileMetaData, codes: Iterable[str]) -> dict[str, int]:
    """The footer's column index of each of ``codes`` (a language's text is a top-level leaf)."""
    wanted = set(codes)
    if not metadata.num_row_groups:
        return {}
    # A top-level primitive column's leaf is named as the column (the contract checked the type
    # of each wanted one); only a nested column with a leaf of the same name needs full paths.
    names = metadata.schema.names
    found = [(name, i) for i, name in enumerate(names) if name in wanted]
    if len(found) == len({name for name, _ in found}):
        return dict(found)
    row_group = metadata.row_group(0)
    paths = (row_group.column(i).path_in_schema for i in range(row_group.num_columns))
    return {path: i for i, path in enumerate(paths) if path in wanted}


def _cells(row_group: pq.RowGroupMetaData, column: int) -> int | None:
    """Non-null cells of a column chunk, by its statistics (None when they hold no null count)."""
    stats = row_group.column(column).statistics
    return None if stats is None or not stats.has_null_count else row_group.num_rows - stats.null_count


def _shares_talk_with_neighbour(metadata: pq.FileMetaData, talk_column: int | None) -> list[bool]:
    """For each row group: may it hold rows of a talk that goes on in the row group before or
    after it (by the footer's talk_id min/max; all may when they are not recorded)."""
    bounds = []
    for group in range(metadata.num_row_groups):
        stats = None if talk_column is None else metadata.row_group(group).column(talk_column).statistics
        if stats is None or not stats.has_min_max:
            return [True] * metadata.num_row_groups
        bounds.append((stats.min, stats.max))
    return [
        group > 0 and bounds[group - 1][1] >= low or group + 1 < len(bounds) and bounds[group + 1][0] <= high
        for group, (low, high) in enumerate(bounds)
    ]


def _languages_present(row_group: pq.RowGroupMetaData, text_columns: Sequence[int]) -> int:
    """How many of the languages at footer indices ``text_columns`` have a cell in the row group,
    by its statistics (a column without null counts counts as present)."""
    return sum(_cells(row_group, i) != 0 for i in text_columns)


@contextlib.contextmanager
def _open(path: str, storage_options: dict):
    if _is_remote(path):
        with fsspec.open(path, "rb", **storage_options.get(_protocol(path), {})) as f:
            yield f
    else:
        with builtins.open(path, "rb") as f:
            yield f


@contextlib.contextmanager
def _shard_errors(path: str):
    """Re-raise read failures as ShardError naming the file."""
    try:
        yield
    except ShardError:
        raise
    except FileNotFoundError as e:
        raise MissingShardError(path, "not found") from e
    except (pa.ArrowException, OSError, ValueError) as e:
        raise CorruptShardError(path, f"unreadable Parquet ({type(e).__name__}: {e})") from e


def _is_remote(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _protocol(path: str) -> str:
    return path.split("://", 1)[0] if "://" in path else "file"


def _join(root: str, relative: str) -> str:
    return f"{root.rstrip('/')}/{relative}" if _is_remote(root) else os.path.join(root, *relative.split("/"))


def _corpus_fingerprint(data_dir, data_files) -> str | None:
    """Cache key of the corpus: names, sizes and mtimes of its files (a remote path is its own key)."""
    if data_files:
        groups = data_files.values() if isinstance(data_files, dict) else [data_files]
        paths = sorted(str(path) for group in groups for path in ([group] if isinstance(group, str) else group))
    elif data_dir and not _is_remote(str(data_dir)):
        data_dir = str(data_dir)
        paths = [os.path.join(data_dir, contract.REPORT)]
        for folder in (contract.DATA_DIR, contract.ALIGNMENT_DIR):
            shards = os.path.join(data_dir, folder)
            paths += [os.path.join(shards, name) for name in sorted(os.listdir(shards))] if os.path.isdir(shards) else []
    elif data_dir:
        return _short_hash(str(data_dir))
    else:
        return None
    stats = [(path, st.st_size, st.st_mtime_ns) for path in paths if (st := _stat(path)) is not None]
    return _short_hash(stats)


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _short_hash(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# load_dataset
# --------------------------------------------------------------------------------------------


def load_dataset(
    path: str | os.PathLike = DEFAULT_PATH,
    name: str = ALL,
    split: str | datasets.Split | list[str] | None = None,
    streaming: bool = False,
    *,
    languages: Sequence[str] | None = None,
    min_languages: int | None = None,
    format: str = "translation",
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | None = None,
    download_mode: datasets.DownloadMode | str | None = None,
    verification_mode: datasets.VerificationMode | str | None = None,
    keep_in_memory: bool = False,
    num_proc: int | None = None,
) -> datasets.DatasetDict | datasets.Dataset | datasets.IterableDatasetDict | datasets.IterableDataset:
    """Load a TED2025 subset, like ``datasets.load_dataset`` returns it.

    Args:
        path: where the built corpus is:

            * a local corpus folder (``data/``, ``build_report.json``, ...);
            * a Hub dataset repo id ``org/name`` (``@revision`` allowed), or ``hf://datasets/org/name[@rev]``;
            * ``"ted2025"`` (default): the folder ``./ted2025`` if it exists, else ``$TED2025_PATH``
              (a folder, repo id or hf:// path), else the repo ``$TED2025_REPO_ID``, else ``DEFAULT_REPO_ID``.

            A path that looks local (it starts with ``.``, ``/`` or ``~``, or its parent folder
            exists, like ``demo/`` for ``demo/corpsu``) is never taken for a repo id.

            Hub repos are read with huggingface_hub and honour ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``,
            ``HF_HOME``/``HF_HUB_CACHE``, read when this function runs. Without streaming, only
            ``build_report.json`` and the shards of the table read in the requested splits are
            downloaded into the Hub cache (``data/`` for ``all``, ``alignment/`` for a subset);
            with streaming, shards are read in place through ``HfFileSystem``.
        name: subset spec (``"en-zh-sw"``) or ``"all"`` (in any case).
        split: ``None`` for every split (a DatasetDict), or a split expression (``"train"``,
            ``"train+validation"``, ``"test[:10%]"``). Only the splits asked for are prepared.
        streaming: return an IterableDataset (Dict) that reads the shards lazily.
        languages: the subset as a list, instead of ``name``.
        min_languages: keep rows where at least this many requested languages are present
            (default: all of them; 1 for ``all``).
        format: ``"translation"`` or ``"wide"``.
        revision, token: for Hub repos.
        cache_dir, download_mode, verification_mode, keep_in_memory, num_proc: as in ``datasets``.

    Raises:
        TypeError: an argument of the wrong type, named in the message (``languages`` given as a
            string rather than a list, ``name`` not a string, ...); raised before anything is read.
        ValueError: unknown or duplicate language (the message suggests valid codes), a language
            the corpus lacks (the message lists the corpus's), an unknown split, ``min_languages``
            not a positive int, a ``build_report.json`` that is not a TED2025 report (named).
        FileNotFoundError: ``no such corpus folder`` for a local path that does not exist; for the
            default ``"ted2025"`` with no corpus anywhere, where it looked and how to build one.
        EmptySubsetError: the subset has no rows; the message gives the rows of each language.
        ShardError: a missing or unreadable shard, or one whose columns do not have the types of
            :mod:`builder.contract` (checked in the footers); the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(
            f"path must be a corpus folder, a Hub repo id or an hf:// path (a str or os.PathLike), got {path!r}"
        )
    # Wrong argument types fail here, before anything is downloaded; the config checks the values.
    languages, _ = _check_arguments(name, languages, min_languages, format, None)
    source = _resolve_source(os.fspath(path), revision)
    split_names = _split_names(split)
    data_dir, storage_options = source.folder, {}
    if source.repo_id is not None:
        composed = languages is not None or name is not None and not _is_all(name)
        try:
            data_dir, storage_options = _hub_location(source, split_names, streaming, token, composed)
        except (OSError, httpx.HTTPError) as e:  # HfHubHTTPError, LocalEntryNotFoundError, offline, ...
            if not source.default:
                raise
            cause = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise FileNotFoundError(
                f"TED2025 corpus not found: no folder ./{DEFAULT_PATH}, $TED2025_PATH is not set, and the Hub repo "
                f"{source.repo_id} could not be read ({type(e).__name__}: {cause}). Build one: `make demo` "
                "(then load \"demo/corpus\"), or "
                f"`ted2025 crawl --out RAW ...` then `ted2025 build --source RAW --out {DEFAULT_PATH}`; "
                "or pass a corpus folder or repo id as path"
            ) from e
    builder = Ted2025(
        config_name=name,
        data_dir=data_dir,
        cache_dir=cache_dir,
        storage_options=storage_options,
        token=token,
        languages=languages,
        min_languages=min_languages,
        format=format,
        splits=split_names,
    )
    if streaming:
        counts = builder.rows_per_language(split_names)
        if sum(count > 0 for count in counts.values()) < builder.config.min_languages:
            raise EmptySubsetError(builder.empty_subset_message(split_names))
        return builder.as_streaming_dataset(split=split)
    try:
        builder.download_and_prepare(
            download_mode=download_mode, verification_mode=verification_mode, num_proc=num_proc
        )
    except DatasetGenerationError as e:
        if isinstance(e.__cause__, ShardError):
            raise e.__cause__ from None
        raise
    rows_by_split = {name: info.num_examples for name, info in builder.info.splits.items()}
    if not any(rows_by_split[name] for name in split_names or rows_by_split):
        raise EmptySubsetError(builder.empty_subset_message(split_names))
    return _as_dataset(builder, split, rows_by_split, keep_in_memory)


def _as_dataset(builder: Ted2025, split, rows_by_split: dict[str, int], in_memory: bool):
    """builder.as_dataset, except that a split with no rows is an empty Dataset, not an error."""
    if split is None:
        return datasets.DatasetDict(
            {name: _as_dataset(builder, name, rows_by_split, in_memory) for name in rows_by_split}
        )
    if isinstance(split, (list, tuple)):
        return [_as_dataset(builder, one, rows_by_split, in_memory) for one in split]
    if rows_by_split.get(str(split)) == 0:
        features = builder.info.features
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features, split=str(split))
    return builder.as_dataset(split=split, in_memory=in_memory)


@dataclass(frozen=True)
class _Source:
    folder: str | None = None
    repo_id: str | None = None
    revision: str | None = None
    default: bool = False  # the repo of the bare name "ted2025": no ./ted2025, no $TED2025_PATH


def _resolve_source(path: str, revision: str | None) -> _Source:
    """Where ``path`` points: a local folder or a Hub repo. A path that looks local (it starts
    with ``.``, ``/`` or ``~``, or its parent folder exists here, like ``demo/`` for
    ``demo/corpsu``) is never sent to the Hub: missing, it is a FileNotFoundError."""
    where, default = "", False
    if path == DEFAULT_PATH and not os.path.isdir(path):
        if os.environ.get("TED2025_PATH"):
            path, where = os.environ["TED2025_PATH"], " (from $TED2025_PATH)"
        else:  # a repo id by definition, even where a folder named like its org exists here
            path, default = os.environ.get("TED2025_REPO_ID") or DEFAULT_REPO_ID, True
    if path.startswith("hf://"):
        uri = parse_hf_uri(path)
        if uri.type != "dataset" or uri.path_in_repo:
            raise ValueError(f"{path}: expected hf://datasets/org/name[@revision], the root of a dataset repo")
        if revision is not None and uri.revision is not None and revision != uri.revision:
            raise ValueError(f"{path} names revision {uri.revision!r} but revision={revision!r} was given")
        return _Source(repo_id=uri.id, revision=uri.revision or revision, default=default)
    local = os.path.expanduser(path)
    if os.path.isdir(local):
        return _Source(folder=os.path.abspath(local))
    if not default and _looks_local(path):
        what = "a file is there, not a folder" if os.path.exists(local) else "a local path is never looked up on the Hub"
        raise FileNotFoundError(f"no such corpus folder: {path}{where} ({what})")
    repo_id, _, at_revision = path.partition("@")
    if is_repo_id(repo_id) and (default or not os.path.exists(local)):
        return _Source(repo_id=repo_id, revision=at_revision or revision, default=default)
    raise FileNotFoundError(
        f"no TED2025 corpus at {path!r}{where}: not a folder, a Hub repo id (org/name) or an hf://datasets/org/name path"
    )


def is_repo_id(text) -> bool:
    """Is ``text`` a Hub repo id ``namespace/name``? huggingface_hub's own validation
    (``validate_repo_id``), with the namespace required. The one check of it, for the loader
    and the recipes."""
    if not isinstance(text, str) or text.count("/") != 1:
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


def _looks_local(path: str) -> bool:
    """Does ``path`` name a local folder rather than a Hub repo id? It starts with ``.``, ``/`` or
    ``~`` (or a drive or ``\\``), or the folder it would sit in exists here."""
    if path.startswith((".", "/", "~", "\\")) or os.path.isabs(path):
        return True
    parent = os.path.dirname(path.rstrip("/" + os.sep))
    return bool(parent) and os.path.isdir(os.path.expanduser(parent))


def _split_names(split) -> tuple[str, ...] | None:
    """Base split names of a split expression ("train[:10%]+test" -> train, test); None means all."""
    if split is None:
        return None
    expressions = [str(s) for s in split] if isinstance(split, (list, tuple)) else [str(split)]
    names = {re.sub(r"\[.*?\]", "", part).strip() for expr in expressions for part in expr.split("+")}
    return None if ALL in names else tuple(sorted(names))


def _hub_location(source: _Source, splits, streaming: bool, token, composed: bool = True) -> tuple[str, dict]:
    """Where the builder reads a Hub corpus: a snapshot in the Hub cache, or hf:// paths when streaming."""
    endpoint = _hub_setting("HF_ENDPOINT", hf_constants.ENDPOINT).rstrip("/")
    if streaming:
        # Pin the commit so that every shard read by HfFileSystem comes from one revision.
        commit = HfApi(endpoint=endpoint, token=token).dataset_info(source.repo_id, revision=source.revision).sha
        return f"hf://datasets/{source.repo_id}@{commit}", {"hf": {"endpoint": endpoint, "token": token}}
    shards = [
        f"{folder}/{split}-*.parquet" if splits else f"{folder}/*.parquet"
        # `all` reads data/, a named subset alignment/ alone
        for folder in ((contract.ALIGNMENT_DIR,) if composed else (contract.DATA_DIR,))
        for split in splits or ("",)
    ]
    folder = snapshot_download(
        source.repo_id,
        repo_type="dataset",
        revision=source.revision,
        allow_patterns=[contract.REPORT, *shards],
        endpoint=endpoint,
        token=token,
        cache_dir=_hub_cache_dir(),
        local_files_only=_hub_offline(),
    )
    return folder, {}


def _hub_setting(variable: str, default: str) -> str:
    # huggingface_hub reads its environment once, at import; a setting made later still counts here.
    return os.environ.get(variable) or default


def _hub_cache_dir() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return hf_constants.HF_HUB_CACHE


def _hub_offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE")
    return hf_constants.HF_HUB_OFFLINE if value is None else value.upper() in {"1", "ON", "YES", "TRUE"}
