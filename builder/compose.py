"""The stages composed, as ``ted2025 build`` runs them: build -> pair shards -> card, one commit.

The stages do not call each other: :func:`builder.pipeline.build` writes the tables and the
report into a staging folder and runs the steps it is handed there before the atomic commit.
This is the one place that hands it the pair shards (:mod:`builder.pairs`) and the dataset card
(:mod:`dataset_card`), for the CLI (and so ``make demo``), the tests, the benchmarks and the
recipes' smoke corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .pairs import PairShards
from .pipeline import BuildSettings, build


@dataclass(frozen=True)
class Card:
    """The dataset card as a build step: README.md and figures/, rendered from the staging folder."""

    repo_id: str | None = None

    def check(self, corpus_languages: list[str]) -> None:
        """Any corpus has a card."""

    def __call__(self, staging: Path) -> None:
        from dataset_card import write_card  # imports matplotlib: only once a build gets this far

        write_card(staging, repo_id=self.repo_id)


def build_corpus(
    source: Path,
    out: Path,
    settings: BuildSettings | None = None,
    *,
    workers: int | None = None,
    progress: bool = True,
    pair_configs: tuple[str, ...] | None = None,
) -> dict:
    """Build the corpus folder ``out`` (see :func:`builder.pipeline.build`) with the pair configs
    ``<pivot>-xx`` under pairs/ for each pivot of ``pair_configs`` (default: ``en`` when the
    corpus has it; ``()`` for none), which the Hub viewer and plain ``datasets`` load, and its
    dataset card (README.md, figures/). Returns the report."""
    steps = (PairShards(pair_configs), Card())
    return build(source, out, settings, workers=workers, progress=progress, before_commit=steps)
