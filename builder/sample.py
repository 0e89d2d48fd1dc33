"""The demo's offline sample. IT IS SYNTHETIC: NOT TED DATA, NOT A TED CORPUS.

``ted2025 sample`` writes a small raw store (12 made-up talks, ~20-40 languages each, ~30 cues a
track) so that ``make demo`` runs the whole pipeline with no network and no TED download. It is
:mod:`builder.synthetic` with a small configuration:

* **Text**: only real human-translated text from the Unicode CLDR (Common Locale Data Repository),
  as shipped in the ``babel`` package: names of countries, languages, currencies and time zones,
  month and weekday names, full dates, relative times ("vor 3 Tagen") and unit phrases ("5
  kilomètres par heure"), joined with each language's CLDR list pattern. Licence: Unicode License
  v3 (https://www.unicode.org/license.txt). Only languages for which Babel has every phrase the
  generator uses are chosen, so there are no pseudo-words. The one addition is TED's sound tags
  ("(Applause)", "(Rires)", "（掌声）"), from the small table in :mod:`builder.synthetic`.
* **Not real**: the talks, titles, speakers, timings, paragraphs and cue splits are generated.
  Every ``meta.json`` title starts with "SYNTHETIC SAMPLE".

The output is the same for every run and machine (for a given Babel version).
"""

from __future__ import annotations

from pathlib import Path

from .synthetic import StoreStats, SyntheticConfig, cldr_languages, write_store

SAMPLE_TALKS = 12
SAMPLE_LANGUAGES = 36  # the most popular languages Babel covers fully
SAMPLE_CUES_PER_TRACK = 30
SAMPLE_SEED = 2025

SAMPLE_NOTICE = (
    "SYNTHETIC SAMPLE - NOT TED DATA. These talks are made up so that the pipeline can be shown "
    "offline: their text is Unicode CLDR data shipped in the Babel package (names of countries, "
    "languages, currencies and time zones, dates, units: real human translations, Unicode License "
    "v3), and their timings, paragraphs and subtitle cues are generated. Nothing in it comes from "
    "TED, and nothing built from it is a TED corpus or says anything about translation quality. "
    "For a real build, point `ted2025 build --source` at a raw store or a WIT3 folder."
)


def sample_config() -> SyntheticConfig:
    return SyntheticConfig(
        num_talks=SAMPLE_TALKS,
        seed=SAMPLE_SEED,
        language_codes=cldr_languages(limit=SAMPLE_LANGUAGES),
        cues_per_track=SAMPLE_CUES_PER_TRACK,
        # A short, flat tail over 36 languages: each talk has ~20-36 of them.
        availability_decay=40.0,
        popularity_log_mean=0.55,
        popularity_log_sd=0.3,
        cldr_only=True,
        title="SYNTHETIC SAMPLE talk {number} (CLDR data, not a TED talk)",
    )


def write_sample(out_dir: Path) -> StoreStats:
    """Write the sample raw store to ``out_dir`` (replacing an earlier sample there)."""
    return write_store(Path(out_dir), sample_config())
