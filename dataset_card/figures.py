"""The card's figures, as PNG: segments per language, degree of parallelism, pairwise coverage.

Rendered with matplotlib's Agg backend (no display) and without a timestamp, so the same corpus
gives byte-identical files and a re-push uploads nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: render to files, never to a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from builder import contract  # noqa: E402
from builder.contract import FIGURES_DIR  # noqa: E402

TOP_LANGUAGES = 20
BATCH_ROWS = 65_536
ANNOTATE_MAX_BARS = 40
BARS_PER_ROW = 60
DPI = 110
PNG_METADATA = {"Software": None}  # no matplotlib version stamp: rebuilds give identical bytes


@dataclass(frozen=True)
class Figure:
    path: str  # relative to the corpus root, as the card links it
    title: str
    caption: str


SEGMENTS = Figure(f"{FIGURES_DIR}/segments_per_language.png", "Segments per language",
                  "Segments (rows) in which each language is present, sorted, on a log scale.")
PARALLELISM = Figure(f"{FIGURES_DIR}/parallelism.png", "Degree of parallelism",
                     "For each k, the number of rows in which at least k languages are present (log scale).")
COVERAGE = Figure(f"{FIGURES_DIR}/coverage.png", "Pairwise coverage",
                  "Rows of each language pair (the pair's own rows, as `load_dataset(..., \"xx-yy\")` gives them) in "
                  "which both languages are present, for the languages with most segments; the diagonal is each "
                  "language's own row count.")
ALL_FIGURES = (SEGMENTS, PARALLELISM, COVERAGE)


def render(root: Path, segments_by_language: dict[str, int], rows_by_degree: dict[int, int], shards: list[Path],
           top: int = TOP_LANGUAGES) -> list[Figure]:
    """Draw every figure into ``root/figures/``; returns them in the card's order (none for an empty corpus)."""
    if not segments_by_language:
        return []
    segments_per_language(segments_by_language, root / SEGMENTS.path)
    parallelism(rows_by_degree, root / PARALLELISM.path)
    ranked = sorted(segments_by_language, key=lambda code: -segments_by_language[code])[:top]
    coverage_heatmap(coverage_matrix(shards, ranked), ranked, root / COVERAGE.path)
    return list(ALL_FIGURES)


def existing(root: Path) -> list[Figure]:
    """The figures already drawn under ``root`` (the card links only these)."""
    return [figure for figure in ALL_FIGURES if (root / figure.path).is_file()]


def coverage_matrix(shards: list[Path], codes: list[str]) -> np.ndarray:
    """Rows of each pair of ``codes`` where both languages are present, counted on the pair's
    own rows (composed from the finest table, ``alignment/`` shards, as ted2025.load_dataset
    composes them); the diagonal is each language's rows alone. Per row group (whole talks) and
    pair: the pair's segment starts, then "any row of the segment has the language", with
    numpy's reduceat. No Python work per row.
    """
    counts = np.zeros((len(codes), len(codes)), dtype=np.int64)
    columns = ["talk_id", contract.BASE_MERGE, *codes, *(contract.merge_column(code) for code in codes)]
    for path in shards:
        parquet = pq.ParquetFile(path)
        for row_group in range(parquet.num_row_groups):
            table = parquet.read_row_group(row_group, columns=columns)
            valid = {code: table.column(code).is_valid().to_numpy(zero_copy_only=False) for code in codes}
            for i, a in enumerate(codes):
                for j in range(i, len(codes)):
                    b = codes[j]
                    starts = np.flatnonzero(contract.segment_starts(table, [a, b] if a != b else [a]))
                    both = np.logical_or.reduceat(valid[a], starts) & np.logical_or.reduceat(valid[b], starts)
                    counts[i, j] = counts[j, i] = counts[i, j] + int(both.sum())
    return counts


def segments_per_language(segments_by_language: dict[str, int], path: Path) -> None:
    ranked = sorted(segments_by_language.items(), key=lambda item: -item[1])
    # Rows of at most BARS_PER_ROW languages: 113 bars in one row are unreadable once the Hub scales the image.
    rows = [ranked[start:start + BARS_PER_ROW] for start in range(0, len(ranked), BARS_PER_ROW)]
    width = max(6.0, 0.14 * len(rows[0]) + 2)
    fig, axes = plt.subplots(len(rows), 1, figsize=(width, 3.4 * len(rows)), squeeze=False)
    all_counts = [count for _, count in ranked]
    for ax, row in zip(axes[:, 0], rows):
        codes, counts = [code for code, _ in row], [count for _, count in row]
        bars = ax.bar(range(len(codes)), counts, color="#3b6ea8")
        _log_counts(ax, all_counts)  # one scale for every row
        _label_bars(ax, bars, counts)
        ax.set_xticks(range(len(codes)), codes, rotation=90, fontsize=8)
        ax.set_xlim(-0.6, len(rows[0]) - 0.4)
        ax.set_ylabel("segments (log scale)")
    axes[0, 0].set_title(f"Segments per language ({len(ranked)} languages)")
    _save(fig, path)


def parallelism(rows_by_degree: dict[int, int], path: Path) -> None:
    """Rows that are at least k-way parallel, for every k."""
    # From k = 2 (a pair: the least a parallel row has; 1 if the build kept single-language rows) to the most.
    degrees = np.arange(min(2, *rows_by_degree), max(rows_by_degree) + 1)
    exact = np.array([rows_by_degree.get(int(k), 0) for k in degrees])
    at_least = np.cumsum(exact[::-1])[::-1]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.12 * len(degrees) + 3), 4))
    bars = ax.bar(degrees, at_least, color="#4c9a6a", width=0.85)
    _log_counts(ax, at_least)
    _label_bars(ax, bars, at_least)
    ax.set_xlabel("k (languages present in the row)")
    ax.set_ylabel("rows with ≥ k languages (log scale)")
    ax.set_title("Degree of parallelism: rows that are at least k-way")
    ax.set_xlim(degrees[0] - 0.6, degrees[-1] + 0.6)
    step = max(1, -(-len(degrees) // 18))  # at most 18 tick labels
    ax.set_xticks(degrees[::step])
    _save(fig, path)


def coverage_heatmap(matrix: np.ndarray, codes: list[str], path: Path) -> None:
    n = len(codes)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.45 * n + 2.5), max(4.0, 0.45 * n + 1.5)))
    shown = np.ma.masked_equal(matrix, 0)
    image = ax.imshow(shown, cmap="viridis", norm=LogNorm(vmin=max(1, shown.min()), vmax=max(1, shown.max())))
    ax.set_xticks(range(n), codes, rotation=90)
    ax.set_yticks(range(n), codes)
    if n <= TOP_LANGUAGES:
        threshold = np.sqrt(max(1, shown.min()) * max(1, shown.max()))  # log-scale midpoint: text colour flips there
        for i in range(n):
            for j in range(n):
                if matrix[i, j]:
                    colour = "black" if matrix[i, j] >= threshold else "white"
                    ax.text(j, i, _short(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8, label="rows with both languages")
    low, high = max(1, shown.min()), max(1, shown.max())
    ticks = sorted({int(round(t)) for t in np.geomspace(low, high, 5)}) if high > low else [int(high)]
    colorbar.set_ticks(ticks, labels=[_short(t) for t in ticks])
    colorbar.ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_title(f"Pairwise coverage, top {n} languages")
    _save(fig, path)


def _log_counts(ax, counts) -> None:
    """A log y axis from the power of ten below the smallest count (bars need a fixed base), labelled 1k, 10k, ..."""
    positive = [c for c in counts if c > 0] or [1]
    low, high = 10 ** np.floor(np.log10(min(positive))), 10 ** (np.log10(max(positive)) + 0.35)
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    few_decades = np.log10(high / low) <= 2.5
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5) if few_decades else (1,)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _short(value)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(axis="y", which="major", alpha=0.3)


def _label_bars(ax, bars, counts) -> None:
    if len(counts) <= ANNOTATE_MAX_BARS:
        rotation = 90 if len(counts) > 12 else 0
        ax.bar_label(bars, labels=[_short(c) for c in counts], fontsize=7, padding=2, rotation=rotation)


def _short(count: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= limit:
            value = count / limit
            digits = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{digits}{suffix}"
    return f"{count:g}"


def _save(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    plt.close(fig)
