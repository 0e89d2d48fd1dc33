"""Synthetic TED-shaped raw stores: deterministic, offline, and as large as TED.

NOT TED DATA. The text is Unicode CLDR data shipped in Babel (territory, language, currency and
time-zone names, month and day names, full dates, relative times, unit phrases: real
human-translated text, Unicode License) arranged into "sentences". The output has the
raw-store layout the crawler writes and the builder reads::

    RAW/<talk_id>/meta.json          TED-style metadata; the title says "Synthetic"
    RAW/<talk_id>/<ted_code>.json    {"paragraphs": [{"cues": [{"time": start_ms, "text": ...}]}]}

What it imitates, because the builder depends on it
---------------------------------------------------
* **The long tail.** Talk ``t`` has language of rank ``r`` (registry order, 0 = English) with
  probability ``min(1, pop_t * exp(-r / TAU))``, ``pop_t`` lognormal. English is in every talk.
  ``E[languages | pop] ~ TAU * (1 + ln pop)``: with ``TAU = 18`` and ``ln pop ~ N(0.7, 0.5)``,
  measured over 5,000 talks and 113 languages: 31 languages per talk on average, 1 % of talks
  with 52 or more, the most translated near 80; the rank-1 language in 98 % of talks, the
  20th in 67 %, the 50th in 15 %, the 100th in 1.4 %. Every talk has at least two languages.
* **One speech timeline, many subtitle tracks.** A talk is a sequence of sentences with the same
  content (the same CLDR concepts) in every language, spoken over one shared timeline. Each
  language renders sentence ``i`` with its own list pattern and sentence terminator, cuts it into
  cues with its own maximum cue length (some cues run across a sentence end, as real subtitles
  do), and re-times the cues with its own offset of a few tens of ms plus per-cue jitter. So
  the same sentence starts at *nearly* the same time in every language but exact timestamps
  rarely agree: alignment must go by time overlap, as with TED's real tracks.
* **Paragraphs** of 5-10 sentences, sound tags ("(Applause)", "(Rires)", "（掌声）") as their own
  cue or inside one, the odd sung line between "♪" marks, and two-line cues.

Languages that Babel lacks (or has in another script than TED's) get deterministic pseudo-words
drawn from their script's Unicode block, so every registry language can appear.

Same arguments (and Babel version), same bytes: every random choice comes from a generator
seeded by ``(seed, talk_id, language)``, JSON is written with sorted keys and fixed separators,
and the number of worker processes does not change the output. Files are written atomically
(temporary file + ``os.replace``), and the store carries a ``.synthetic.json`` marker, so that
generating into an existing synthetic store replaces it exactly, while a folder holding
anything else is refused.

Cost: ~18 ms of CPU per talk at the defaults. 5,000 talks (155,000 tracks, 22.7 M cues, 1.7 GB
in 160,000 files) took 65-90 s with ``workers=2`` on a shared 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import babel
from babel import Locale, localedata, numbers, units
from babel.core import get_global
from babel.dates import format_date

from . import languages
from .languages import Language
from .store import SYNTHETIC_MARKER

MARKER = SYNTHETIC_MARKER  # the store reader knows it too
MIN_TERRITORY_NAMES = 100  # a Babel locale with fewer has too little CLDR text to use
_TALK_DIR = re.compile(r"^[1-9][0-9]*$")

# --- the long tail (see the module docstring) ---------------------------------------------------
AVAILABILITY_DECAY = 18.0  # TAU: ranks over which a language's availability falls by e
POPULARITY_LOG_MEAN = 0.7
POPULARITY_LOG_SD = 0.5

# --- sizes and timing ---------------------------------------------------------------------------
CUES_PER_SENTENCE = 1.61  # measured mean over languages at the default cue lengths
TALK_LENGTH_SPREAD = 0.15  # a talk's sentence count varies by +-15 % around the target
MAX_CUE_CHARS_EN = 48  # English cue budget; other languages scale it by their phrase lengths
SPEECH_MS_PER_EN_CHAR = 75  # ~13 characters a second, TED's usual pace
TIME_JITTER_MS = 40
ITEMS_PER_SENTENCE = (2, 6)
SENTENCES_PER_PARAGRAPH = (5, 10)
MOOD_WEIGHTS = (0.86, 0.1, 0.04)  # statement, question, exclamation
LAUGHTER_RATE = 0.03  # per sentence
APPLAUSE_RATE = 0.008  # per sentence, besides the closing applause
MUSIC_TALK_RATE = 0.04  # talks that open with music
PERFORMANCE_TALK_RATE = 0.02  # talks with sung lines
SUNG_SENTENCE_RATE = 0.3  # in a performance, share of sentences that are sung

CATEGORIES = ("territory", "language", "currency", "zone", "date", "relative", "named_day", "unit", "month", "weekday")
CATEGORY_WEIGHTS = (3.0, 2.0, 1.0, 1.5, 1.0, 2.0, 1.0, 2.0, 0.5, 0.5)
_UNITS = (
    "length-kilometer", "length-meter", "length-centimeter", "mass-kilogram", "mass-gram", "duration-hour",
    "duration-minute", "duration-day", "duration-week", "duration-month", "duration-year", "volume-liter",
    "speed-kilometer-per-hour", "temperature-celsius", "area-square-kilometer", "area-hectare",
    "digital-gigabyte", "energy-kilowatt-hour", "power-watt", "length-millimeter",
)
_UNIT_VALUES = (2, 3, 5, 12, 100)
_RELATIVE_UNITS = ("minute", "hour", "day", "week", "month", "year")
_RELATIVE_VALUES = (2, 3, 5, 10)
_NAMED_DAY_UNITS = ("day", "week", "month", "year")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DATES = tuple(dt.date(2001 + (7 * i) % 24, 1 + (5 * i) % 12, 1 + (11 * i) % 28) for i in range(48))

# Sentence-final punctuation by script for statement, question, exclamation. Thai writes none.
_TERMINATORS_BY_SCRIPT = {
    "Hans": ("。", "？", "！"), "Hant": ("。", "？", "！"), "Jpan": ("。", "？", "！"),
    "Arab": (".", "؟", "!"), "Deva": ("।", "?", "!"), "Beng": ("।", "?", "!"), "Mymr": ("။", "။", "။"),
    "Ethi": ("።", "፧", "!"), "Armn": ("։", "։", "։"), "Khmr": ("។", "?", "!"), "Tibt": ("།", "།", "།"),
    "Grek": (".", ";", "!"), "Thai": ("", "", ""),
}
_TERMINATOR_BY_CODE = {"ur": ("۔", "؟", "!")}
_INVERTED_OPENERS = {"es": ("", "¿", "¡")}  # keyed by ISO 639-1
_UNSPACED_BREAKS = (" ", "、", "，", ",", "،")
_NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
_SCRIPT_EQUIVALENTS = {"Kore": "Kore", "Hang": "Kore"}

# TED's sound tags as its translators write them (applause, laughter, music). English elsewhere.
SOUND_EVENTS = ("applause", "laughter", "music")
_SOUND_TAGS = {
    "en": ("(Applause)", "(Laughter)", "(Music)"),
    "es": ("(Aplausos)", "(Risas)", "(Música)"),
    "pt-br": ("(Aplausos)", "(Risos)", "(Música)"),
    "pt": ("(Aplausos)", "(Risos)", "(Música)"),
    "fr": ("(Applaudissements)", "(Rires)", "(Musique)"),
    "fr-ca": ("(Applaudissements)", "(Rires)", "(Musique)"),
    "de": ("(Applaus)", "(Lachen)", "(Musik)"),
    "it": ("(Applausi)", "(Risate)", "(Musica)"),
    "nl": ("(Applaus)", "(Gelach)", "(Muziek)"),
    "ru": ("(Аплодисменты)", "(Смех)", "(Музыка)"),
    "uk": ("(Оплески)", "(Сміх)", "(Музика)"),
    "pl": ("(Brawa)", "(Śmiech)", "(Muzyka)"),
    "tr": ("(Alkış)", "(Gülüşmeler)", "(Müzik)"),
    "ro": ("(Aplauze)", "(Râsete)", "(Muzică)"),
    "hu": ("(Taps)", "(Nevetés)", "(Zene)"),
    "el": ("(Χειροκρότημα)", "(Γέλια)", "(Μουσική)"),
    "vi": ("(Vỗ tay)", "(Tiếng cười)", "(Âm nhạc)"),
    "ar": ("(تصفيق)", "(ضحك)", "(موسيقى)"),
    "fa": ("(تشویق)", "(خنده)", "(موسیقی)"),
    "he": ("(מחיאות כפיים)", "(צחוק)", "(מוזיקה)"),
    "hi": ("(तालियाँ)", "(हँसी)", "(संगीत)"),
    "zh-cn": ("（掌声）", "（笑声）", "（音乐）"),
    "zh-tw": ("（掌聲）", "（笑聲）", "（音樂）"),
    "ja": ("（拍手）", "（笑）", "（音楽）"),
    "ko": ("(박수)", "(웃음)", "(음악)"),
}

# Letters for pseudo-words, by ISO 15924 script: code point ranges (unassigned points are skipped).
_SCRIPT_LETTERS = {
    "Latn": ((0x61, 0x7A),), "Cyrl": ((0x430, 0x44F),), "Grek": ((0x3B1, 0x3C9),), "Armn": ((0x561, 0x586),),
    "Hebr": ((0x5D0, 0x5EA),), "Arab": ((0x627, 0x64A),), "Thaa": ((0x780, 0x7A5),), "Deva": ((0x905, 0x939),),
    "Beng": ((0x985, 0x9B9),), "Guru": ((0xA05, 0xA39),), "Gujr": ((0xA85, 0xAB9),), "Orya": ((0xB05, 0xB39),),
    "Taml": ((0xB85, 0xBB9),), "Telu": ((0xC05, 0xC39),), "Knda": ((0xC85, 0xCB9),), "Mlym": ((0xD05, 0xD39),),
    "Sinh": ((0xD85, 0xDC6),), "Thai": ((0xE01, 0xE2E),), "Laoo": ((0xE81, 0xEAE),), "Tibt": ((0xF40, 0xF6C),),
    "Mymr": ((0x1000, 0x102A),), "Geor": ((0x10D0, 0x10F0),), "Ethi": ((0x1200, 0x1357),),
    "Khmr": ((0x1780, 0x17B3),), "Mong": ((0x1820, 0x1878),), "Tfng": ((0x2D30, 0x2D67),),
    "Hans": ((0x4E00, 0x62FF),), "Hant": ((0x4E00, 0x62FF),), "Jpan": ((0x3041, 0x3096),),
    "Kore": ((0xAC00, 0xB7FF),), "Hang": ((0xAC00, 0xB7FF),),
}


@dataclass(frozen=True)
class StoreStats:
    talks: int
    tracks: int
    cues: int
    bytes: int
    languages: tuple[str, ...]  # registry codes that appear in at least one talk, most popular first

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that determines a synthetic store's bytes."""

    num_talks: int
    seed: int = 0
    language_codes: tuple[str, ...] = ()  # registry codes, most popular first; () = the whole registry
    cues_per_track: int = 150
    availability_decay: float = AVAILABILITY_DECAY
    popularity_log_mean: float = POPULARITY_LOG_MEAN
    popularity_log_sd: float = POPULARITY_LOG_SD
    cldr_only: bool = False  # only concepts that every chosen language has in CLDR: no pseudo-words
    title: str = "Synthetic talk {talk_id} (generated, not a TED talk)"  # {number}, {talk_id}

    def __post_init__(self) -> None:
        if self.num_talks < 1:
            raise ValueError(f"num_talks must be >= 1, not {self.num_talks}")
        if self.cues_per_track < 1:
            raise ValueError(f"cues_per_track must be >= 1, not {self.cues_per_track}")
        if self.availability_decay <= 0 or self.popularity_log_sd < 0:
            raise ValueError("availability_decay must be > 0 and popularity_log_sd >= 0")
        codes = self.language_codes or languages.CODES
        resolved = tuple(lang.code for lang in languages.resolve(codes))
        if len(resolved) < 2 or resolved[0] != "en":
            raise ValueError("a synthetic store needs English first and at least one more language")
        object.__setattr__(self, "language_codes", resolved)
        if self.cldr_only:
            lacking = [code for code in resolved if babel_locale(languages.get(code)) is None]
            if lacking:
                raise ValueError(f"cldr_only: Babel has no data for {', '.join(lacking)}")


def generate_store(
    out_dir: Path,
    num_talks: int,
    *,
    seed: int = 0,
    num_languages: int = 113,
    cues_per_track: int = 150,
    workers: int = 1,
    progress: bool = False,
) -> StoreStats:
    """Write a synthetic raw store of ``num_talks`` talks over the ``num_languages`` most popular languages."""
    if not 2 <= num_languages <= len(languages.LANGUAGES):
        raise ValueError(f"num_languages must be in 2..{len(languages.LANGUAGES)}, not {num_languages}")
    codes = tuple(lang.code for lang in languages.LANGUAGES[:num_languages])
    config = SyntheticConfig(num_talks, seed, codes, cues_per_track)
    return write_store(out_dir, config, workers=workers, progress=progress)


def write_store(out_dir: Path, config: SyntheticConfig, *, workers: int = 1, progress: bool = False) -> StoreStats:
    """Write (or rewrite) the store ``config`` describes; ``workers`` processes change only the speed."""
    out_dir = Path(out_dir)
    _claim(out_dir)
    provenance = {"generator": __name__, "babel": babel.__version__, "config": asdict(config)}
    _write_atomic(out_dir / MARKER, _dumps(provenance))
    talk_ids = plan_talk_ids(config)
    _model(config)  # build the vocabularies once, before forking, so that workers inherit them
    jobs = [(config, out_dir, number, talk_id) for number, talk_id in enumerate(talk_ids, 1)]
    if workers > 1:
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        with context.Pool(workers) as pool:
            results = _progress(pool.imap_unordered(_write_talk_job, jobs, chunksize=8), len(jobs), progress)
            results = list(results)
    else:
        results = list(_progress(map(_write_talk_job, jobs), len(jobs), progress))

    kept = {str(talk_id) for talk_id in talk_ids}
    for entry in out_dir.iterdir():  # talks left from an earlier, different generation
        if entry.is_dir() and _TALK_DIR.fullmatch(entry.name) and entry.name not in kept:
            shutil.rmtree(entry)
    used = set().union(*(codes for _, _, _, codes in results))
    stats = StoreStats(
        talks=len(results),
        tracks=sum(r[0] for r in results),
        cues=sum(r[1] for r in results),
        bytes=sum(r[2] for r in results),
        languages=tuple(code for code in config.language_codes if code in used),
    )
    _write_atomic(out_dir / MARKER, _dumps({**provenance, "stats": stats.as_dict()}))
    return stats


def plan_talk_ids(config: SyntheticConfig) -> list[int]:
    """Sparse, unique, sorted talk ids (TED's run from 1 to ~100,000), fixed by the seed."""
    rng = random.Random(f"ted-synth/{config.seed}/talk-ids")
    return sorted(rng.sample(range(1, max(100_000, 4 * config.num_talks) + 1), config.num_talks))


def plan_languages(config: SyntheticConfig, talk_id: int) -> tuple[str, ...]:
    """The languages of one talk, most popular first: the long tail of the module docstring."""
    rng = random.Random(f"ted-synth/{config.seed}/{talk_id}/languages")
    popularity = math.exp(rng.gauss(config.popularity_log_mean, config.popularity_log_sd))
    codes = config.language_codes
    chosen = [codes[0]]  # English, TED's source language
    closest, closest_margin = codes[1], math.inf
    for rank, code in enumerate(codes[1:], 1):
        p = min(1.0, popularity * math.exp(-rank / config.availability_decay))
        u = rng.random()
        if u < p:
            chosen.append(code)
        elif p > 0 and u / p < closest_margin:
            closest, closest_margin = code, u / p
    if len(chosen) < 2:  # a talk in one language is no use to a parallel corpus
        chosen.append(closest)
    return tuple(chosen)


# --- vocabulary: CLDR phrases per language ------------------------------------------------------


@functools.lru_cache(maxsize=None)
def babel_locale(language: Language) -> str | None:
    """The Babel locale holding ``language`` in the script TED uses, or None when Babel has none.

    ``pt-br`` -> ``pt_BR``, ``pt`` (Portugal) -> ``pt_PT``, ``zh-tw`` -> ``zh_Hant_TW``, ``sr`` (TED: Latin)
    -> ``sr_Latn``, ``sh`` -> ``sr_Latn``, ``tl`` -> ``fil``; ``kmr`` (Arabic script) -> None.
    """
    aliases = get_global("language_aliases")  # CLDR's: "tl" -> "fil", "sh" -> "sr_Latn", "cnr" -> "sr_ME"
    script = language.script
    for base in dict.fromkeys(filter(None, (language.iso639_1, language.iso639_3, language.code.split("-")[0]))):
        lang, *subtags = aliases.get(base, base).split("_")
        region = _region_of(language) or next((tag for tag in subtags if tag.isupper() or tag.isdigit()), None)
        candidates = [f"{lang}_{script}_{region}", f"{lang}_{script}", f"{lang}_{region}", lang] if region else [f"{lang}_{script}", lang]
        for candidate in candidates:
            if (
                localedata.exists(candidate)
                and _script_of(candidate) == _same_script(script)
                and len(Locale.parse(candidate).territories) >= MIN_TERRITORY_NAMES
            ):
                return candidate
    return None


def _region_of(language: Language) -> str | None:
    """Territory named by the TED code ("pt-br") or the registry name ("Portuguese (Portugal)")."""
    parts = language.ted_code.split("-")
    if len(parts) == 2 and len(parts[1]) == 2 and parts[1].isalpha():
        return parts[1].upper()
    match = re.search(r"\(([^)]+)\)", language.name)
    if match:
        by_name = {name: code for code, name in Locale("en").territories.items()}
        return by_name.get(match.group(1))
    return None


def _same_script(script: str) -> str:
    return _SCRIPT_EQUIVALENTS.get(script, script)


def _script_of(locale_id: str) -> str | None:
    parts = locale_id.split("_")
    if len(parts) > 1 and len(parts[1]) == 4:
        return _same_script(parts[1])
    likely = get_global("likely_subtags")
    full = likely.get(locale_id) or likely.get(parts[0])
    return _same_script(full.split("_")[1]) if full else None


@dataclass(frozen=True)
class Vocabulary:
    """One language's phrase for every concept, its list pattern and its punctuation."""

    code: str
    ted_code: str
    locale: str | None  # Babel locale; None: pseudo-words only
    phrases: tuple[tuple[str, ...], ...]  # [category][concept] -> phrase
    real: tuple[tuple[bool, ...], ...]  # [category][concept] -> from CLDR (False: pseudo-word)
    list_pattern: tuple[str, str, str, str]  # CLDR "start", "middle", "end", "2"
    terminators: tuple[tuple[str, str], ...]  # (prefix, suffix) for statement, question, exclamation
    sound_tags: tuple[str, ...]  # per SOUND_EVENTS
    spaced: bool  # words and sentences are separated by spaces
    # Text between the slots of each list pattern when nothing stands outside them (all CLDR
    # locales today): sentences are then plain joins. None: format like babel.lists.format_list.
    separators: tuple[str, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        separators = []
        for pattern in self.list_pattern:
            if not (pattern.startswith("{0}") and pattern.endswith("{1}") and pattern.count("{") == 2):
                separators = None
                break
            separators.append(pattern[3:-3])
        object.__setattr__(self, "separators", tuple(separators) if separators is not None else None)

    def sentence(self, items: tuple[tuple[int, int], ...], mood: int) -> str:
        phrases = self.phrases
        words = [phrases[category][key] for category, key in items]
        if len(words) == 1:
            text = words[0]
        elif self.separators:
            start, middle, end, two = self.separators
            if len(words) == 2:
                text = words[0] + two + words[1]
            else:
                text = words[0] + start + middle.join(words[1:-1]) + end + words[-1]
        else:  # babel.lists.format_list's algorithm
            start, middle, end, two = self.list_pattern
            if len(words) == 2:
                text = two.format(*words)
            else:
                text = start.format(words[0], words[1])
                for word in words[2:-1]:
                    text = middle.format(text, word)
                text = end.format(text, words[-1])
        prefix, suffix = self.terminators[mood]
        if text[-1:] == suffix[:1] == ".":  # "… 2024 г." already ends with a full stop
            suffix = suffix[1:]
        return prefix + text + suffix

    def mean_chars(self) -> float:
        total = sum(w * sum(map(len, p)) / len(p) for w, p in zip(CATEGORY_WEIGHTS, self.phrases))
        return total / sum(CATEGORY_WEIGHTS)


def concept_keys() -> tuple[tuple, ...]:
    """Concept keys per category, in CATEGORIES order; identical for every language."""
    return _CONCEPT_KEYS


def _build_concept_keys() -> tuple[tuple, ...]:
    en = Locale("en")
    territories = tuple(sorted(k for k in en.territories if len(k) == 2 and k.isalpha() and k not in ("XA", "XB", "ZZ")))
    names = tuple(sorted(k for k in en.languages if len(k) == 2))
    currencies = tuple(sorted({c for t in territories for c in numbers.get_territory_currencies(t)}))
    zones = tuple(sorted(k for k, v in en.meta_zones.items() if v.get("long", {}).get("generic")))
    relative = tuple((u, d, n) for u in _RELATIVE_UNITS for d in ("past", "future") for n in _RELATIVE_VALUES)
    named_days = tuple((u, offset) for u in _NAMED_DAY_UNITS for offset in (-1, 0, 1))
    unit_phrases = tuple((u, n) for u in _UNITS for n in _UNIT_VALUES)
    return (territories, names, currencies, zones, _DATES, relative, named_days, unit_phrases, tuple(range(1, 13)), _WEEKDAYS)


_CONCEPT_KEYS = _build_concept_keys()


def _cldr_phrases(locale_id: str) -> list[list[str | None]]:
    """CLDR phrase per concept, None where the locale has none of its own (only root's)."""
    locale = Locale.parse(locale_id)
    root = Locale.parse("root")
    data = localedata.LocaleDataDict(localedata.load(locale_id))
    root_data = localedata.LocaleDataDict(localedata.load("root"))
    (territories, names, currencies, zones, dates, relative, named_days, unit_phrases, months, weekdays) = _CONCEPT_KEYS

    def number(n: int) -> str:
        return numbers.format_decimal(n, locale=locale)

    def zone(loc: Locale, key: str) -> str | None:
        long = loc.meta_zones.get(key, {}).get("long", {})
        return long.get("generic") or long.get("standard")

    def relative_phrase(fields, key) -> str | None:
        unit, direction, n = key
        forms = fields.get(unit, {}).get(direction, {})
        pattern = forms.get(locale.plural_form(n)) or forms.get("other")
        return pattern.format(number(n)) if pattern else None

    def named_day(fields, key) -> str | None:
        unit, offset = key
        return fields.get(unit, {}).get("relative", {}).get(offset)

    def unit_phrase(loc: Locale, key) -> str | None:
        try:
            return units.format_unit(key[1], key[0], length="long", locale=loc)
        except Exception:  # babel raises several types for a unit the locale lacks
            return None

    english = locale.language == "en"  # root's fallbacks are English: for English they are its own

    def own(value: str | None, root_value: str | None) -> str | None:
        if not value or "{" in value or (value == root_value and not english):
            return None
        return value

    month_names, root_months = locale.months["format"]["wide"], root.months["format"]["wide"]
    has_months = all(own(month_names.get(m), root_months.get(m)) for m in months)
    columns = [
        [own(locale.territories.get(k), None) for k in territories],
        [own(locale.languages.get(k), None) for k in names],
        [own(locale.currencies.get(k), k) for k in currencies],  # a bare code ("XOF") is no name
        [own(zone(locale, k), zone(root, k)) for k in zones],
        [own(format_date(d, "full", locale=locale), None) if has_months else None for d in dates],
        [own(relative_phrase(data["date_fields"], k), relative_phrase(root_data["date_fields"], k)) for k in relative],
        [own(named_day(data["date_fields"], k), named_day(root_data["date_fields"], k)) for k in named_days],
        [own(unit_phrase(locale, k), unit_phrase(root, k)) for k in unit_phrases],
        [own(month_names.get(m), root_months.get(m)) for m in months],
        [own(locale.days["format"]["wide"].get(i), root.days["format"]["wide"].get(i)) for i in range(7)],
    ]
    return columns


def _letters(script: str) -> str:
    ranges = _SCRIPT_LETTERS.get(script, _SCRIPT_LETTERS["Latn"])
    return "".join(
        chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1) if unicodedata.category(chr(cp)).startswith("L")
    )


def _pseudo_word(rng: random.Random, letters: str, spaced: bool) -> str:
    if not spaced:
        return "".join(rng.choice(letters) for _ in range(rng.randint(2, 4)))
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 8))) for _ in range(rng.randint(1, 2)))


def _build_vocabulary(language: Language) -> Vocabulary:
    locale_id = babel_locale(language)
    spaced = language.script not in _NO_SPACE_SCRIPTS
    letters = _letters(language.script)
    if locale_id:
        columns = _cldr_phrases(locale_id)
        patterns = Locale.parse(locale_id).list_patterns["standard"]
        list_pattern = tuple(patterns[k] for k in ("start", "middle", "end", "2"))
    else:
        columns = [[None] * len(keys) for keys in _CONCEPT_KEYS]
        conjunction = _pseudo_word(random.Random(f"conjunction/{language.code}"), letters, spaced).split()[0]
        comma = "{0}, {1}" if spaced else "{0}{1}"
        last = f"{{0}} {conjunction} {{1}}" if spaced else f"{{0}}{conjunction}{{1}}"
        list_pattern = (comma, comma, last, last)
    phrases, real = [], []
    for category, keys, column in zip(CATEGORIES, _CONCEPT_KEYS, columns):
        row = []
        for key, value in zip(keys, column):
            if value is None:
                value = _pseudo_word(random.Random(f"pseudo/{language.code}/{category}/{key}"), letters, spaced)
            row.append(value)
        phrases.append(tuple(row))
        real.append(tuple(value is not None for value in column))
    terminators = _TERMINATOR_BY_CODE.get(language.code) or _TERMINATORS_BY_SCRIPT.get(language.script, (".", "?", "!"))
    openers = _INVERTED_OPENERS.get(language.iso639_1 or "", ("", "", ""))
    return Vocabulary(
        code=language.code,
        ted_code=language.ted_code,
        locale=locale_id,
        phrases=tuple(phrases),
        real=tuple(real),
        list_pattern=list_pattern,
        terminators=tuple(zip(openers, terminators)),
        sound_tags=_SOUND_TAGS.get(language.code, _SOUND_TAGS["en"]),
        spaced=spaced,
    )


_VOCABULARIES: dict[str, Vocabulary] = {}


def vocabulary(code: str) -> Vocabulary:
    """One language's vocabulary, built once per process (a few ms to ~50 ms each)."""
    if code not in _VOCABULARIES:
        _VOCABULARIES[code] = _build_vocabulary(languages.get(code))
    return _VOCABULARIES[code]


def cldr_languages(limit: int | None = None) -> tuple[str, ...]:
    """Registry codes, most popular first, whose every concept phrase is real CLDR text."""
    found: list[str] = []
    for lang in languages.LANGUAGES:
        if limit is not None and len(found) >= limit:
            break
        if babel_locale(lang) and all(map(all, vocabulary(lang.code).real)):
            found.append(lang.code)
    return tuple(found)


# --- one talk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """How one language's subtitlers cut and time cues; fixed per language, not per talk."""

    max_cue_chars: int
    offset_ms: int
    span_rate: float  # a short sentence tail shares a cue with the next sentence's start
    inline_tag_rate: float  # a sound tag goes inside the previous cue instead of its own
    two_line_chars: int  # cues longer than this get a line break (0: never)


@dataclass
class _Model:
    """Vocabularies and styles of a config's languages; concept keys restricted if cldr_only."""

    vocabularies: dict[str, Vocabulary]
    styles: dict[str, _Style]
    keys_by_category: tuple[tuple[int, ...], ...]  # usable concept indexes per category
    en_chars: tuple[tuple[int, ...], ...]  # English phrase lengths: they set the speech timeline
    target_sentences: float


_MODELS: dict[tuple, _Model] = {}


def _model(config: SyntheticConfig) -> _Model:
    key = (config.language_codes, config.cldr_only, config.cues_per_track)
    if key not in _MODELS:
        vocabularies = {code: vocabulary(code) for code in config.language_codes}
        keys_by_category = []
        for c in range(len(CATEGORIES)):
            usable = range(len(_CONCEPT_KEYS[c]))
            if config.cldr_only:
                usable = [i for i in usable if all(v.real[c][i] for v in vocabularies.values())]
            keys_by_category.append(tuple(usable))
        if config.cldr_only and not all(keys_by_category):
            raise ValueError("cldr_only: these languages share no CLDR concept in some category")
        en = vocabularies["en"]
        styles = {code: _style(v, en) for code, v in vocabularies.items()}
        _MODELS[key] = _Model(
            vocabularies,
            styles,
            tuple(keys_by_category),
            tuple(tuple(map(len, column)) for column in en.phrases),
            config.cues_per_track / CUES_PER_SENTENCE,
        )
    return _MODELS[key]


def _style(vocab: Vocabulary, en: Vocabulary) -> _Style:
    rng = random.Random(f"style/{vocab.code}")
    max_chars = round(MAX_CUE_CHARS_EN * vocab.mean_chars() / en.mean_chars() * rng.uniform(0.85, 1.2))
    return _Style(
        max_cue_chars=max(8, max_chars),
        offset_ms=rng.choice((-1, 1)) * rng.randint(15, 90),
        span_rate=rng.uniform(0.2, 0.6),
        inline_tag_rate=rng.uniform(0.0, 0.5),
        two_line_chars=round(max_chars * 0.6) if vocab.spaced and rng.random() < 0.6 else 0,
    )


class _Beat(NamedTuple):
    """One sentence, or one sound event, on the shared speech timeline."""

    start_ms: int
    duration_ms: int
    paragraph: int
    items: tuple[tuple[int, int], ...] = ()  # (category, concept) pairs; empty for an event
    mood: int = 0
    sung: bool = False
    event: int = -1  # index into SOUND_EVENTS
    joins_next: bool = False  # the next beat is a sentence of the same paragraph: a cue may span both


def _plan_beats(config: SyntheticConfig, model: _Model, talk_id: int) -> list[_Beat]:
    rng = random.Random(f"ted-synth/{config.seed}/{talk_id}/timeline")
    spread = rng.uniform(1 - TALK_LENGTH_SPREAD, 1 + TALK_LENGTH_SPREAD)
    num_sentences = max(2, round(model.target_sentences * spread))
    performance = rng.random() < PERFORMANCE_TALK_RATE
    keys, en_chars = model.keys_by_category, model.en_chars
    categories = range(len(CATEGORIES))
    beats: list[_Beat] = []
    time_ms = rng.randint(300, 2500)
    paragraph, left_in_paragraph = 0, rng.randint(*SENTENCES_PER_PARAGRAPH)

    def event(kind: int, low_ms: int, high_ms: int) -> None:
        nonlocal time_ms
        duration = rng.randint(low_ms, high_ms)
        beats.append(_Beat(time_ms, duration, paragraph, event=kind))
        time_ms += duration + rng.randint(100, 400)

    if rng.random() < MUSIC_TALK_RATE:
        event(2, 4000, 15000)
    for i in range(num_sentences):
        n_items = rng.randint(*ITEMS_PER_SENTENCE)
        cats = rng.choices(categories, CATEGORY_WEIGHTS, k=n_items)
        items = tuple((c, rng.choice(keys[c])) for c in cats)
        chars = sum(en_chars[c][k] + 2 for c, k in items)
        duration = round(chars * SPEECH_MS_PER_EN_CHAR * rng.uniform(0.8, 1.25))
        mood = rng.choices(range(3), MOOD_WEIGHTS)[0]
        beats.append(_Beat(time_ms, duration, paragraph, items, mood, performance and rng.random() < SUNG_SENTENCE_RATE))
        time_ms += duration + rng.randint(150, 700)
        if i == num_sentences - 1:
            break
        roll = rng.random()
        if roll < LAUGHTER_RATE:
            event(1, 1000, 3500)
        elif roll < LAUGHTER_RATE + APPLAUSE_RATE:
            event(0, 2000, 6000)
        left_in_paragraph -= 1
        if left_in_paragraph == 0:
            paragraph += 1
            left_in_paragraph = rng.randint(*SENTENCES_PER_PARAGRAPH)
            time_ms += rng.randint(300, 1500)
    event(0, 3000, 8000)  # TED talks end in applause
    return [
        beat._replace(joins_next=beat.event < 0 and following.event < 0 and following.paragraph == beat.paragraph)
        for beat, following in zip(beats, beats[1:] + beats[-1:])
    ]


def _render_track(beats: list[_Beat], vocab: Vocabulary, style: _Style, rng: random.Random) -> list[list[dict]]:
    """One language's cues, grouped in the talk's paragraphs."""
    pieces = _cut_cues(beats, vocab, style, rng)
    paragraphs: list[list[dict]] = [[] for _ in range(beats[-1].paragraph + 1)]
    random_ = rng.random
    offset_ms, jitter_span = style.offset_ms - TIME_JITTER_MS, 2 * TIME_JITTER_MS + 1
    two_line_chars = style.two_line_chars or 1 << 30
    last_start = -1
    for start_ms, text, paragraph in pieces:
        start = start_ms + offset_ms + int(random_() * jitter_span)
        if start <= last_start:  # keep start times strictly increasing within a track
            start = last_start + 1
        last_start = start
        if len(text) > two_line_chars and random_() < 0.7:
            middle = text.rfind(" ", 0, len(text) // 2 + 1)
            if middle > 0:
                text = text[:middle] + "\n" + text[middle + 1 :]
        paragraphs[paragraph].append({"text": text, "time": start})
    return [cues for cues in paragraphs if cues]


def _cut_cues(beats: list[_Beat], vocab: Vocabulary, style: _Style, rng: random.Random) -> list[tuple[int, str, int]]:
    """(start on the shared timeline in ms, text, paragraph) of each cue of one language."""
    pieces: list[tuple[int, str, int]] = []
    joiner = " " if vocab.spaced else ""
    max_chars = style.max_cue_chars
    pending: tuple[int, str, int] | None = None  # a short sentence tail waiting for the next sentence
    spaced, sound_tags, span_rate, inline_tag_rate = vocab.spaced, vocab.sound_tags, style.span_rate, style.inline_tag_rate
    sentence, random_ = vocab.sentence, rng.random
    for start_ms, duration_ms, paragraph, items, mood, sung, event, joins_next in beats:
        if event >= 0:
            if pending:
                pieces.append(pending)
                pending = None
            tag = sound_tags[event]
            if pieces and pieces[-1][2] == paragraph and random_() < inline_tag_rate:
                pieces[-1] = (pieces[-1][0], pieces[-1][1] + joiner + tag, paragraph)
            else:
                pieces.append((start_ms, tag, paragraph))
            continue
        text = sentence(items, mood)
        if sung:
            text = f"♪ {text} ♪"
        n, pos = len(text), 0
        if pending:  # the held tail takes the first words of this sentence into its cue
            room = max_chars - len(pending[1]) - len(joiner)
            cut, after = _break_at(text, 0, room, spaced) if room >= 6 else (0, 0)
            if 0 < cut < n and cut <= room:
                pieces.append((pending[0], pending[1] + joiner + text[:cut], pending[2]))
                pos = after
            else:
                pieces.append(pending)
            pending = None
        count = -(-(n - pos) // max_chars) or 1
        for j in range(count):
            end, after = (n, n) if j == count - 1 else _break_at(text, pos, (n - pos) // (count - j), spaced)
            piece = (start_ms + duration_ms * pos // n, text[pos:end], paragraph)
            if end == n and joins_next and n - pos < max_chars * 2 // 3 and random_() < span_rate:
                pending = piece
            else:
                pieces.append(piece)
            pos = after
            if pos >= n:
                break
    if pending:
        pieces.append(pending)
    return pieces


def _break_at(text: str, pos: int, length: int, spaced: bool) -> tuple[int, int]:
    """Where a cue of about ``length`` characters from ``pos`` ends, and where the next one starts.

    Spaced scripts break at a space. The others break after a list separator or at a space if
    one is near (Thai and Lao put spaces between phrases), else at the character.
    """
    target = pos + max(1, length)
    if target >= len(text):
        return len(text), len(text)
    if spaced:
        cut = text.rfind(" ", pos + 1, target + 1)
        if cut <= pos:
            cut = text.find(" ", target)
        return (cut, cut + 1) if cut > pos else (len(text), len(text))
    window = pos + max(1, length * 2 // 3)
    cut = max(text.rfind(mark, window, target + 1) for mark in _UNSPACED_BREAKS)
    if cut < 0:
        return target, target
    return (cut, cut + 1) if text[cut] == " " else (cut + 1, cut + 1)


def render_talk(config: SyntheticConfig, talk_id: int, number: int = 1) -> dict[str, bytes]:
    """File name -> bytes for one talk: ``meta.json`` and one ``<ted_code>.json`` per language."""
    model = _model(config)
    beats = _plan_beats(config, model, talk_id)
    files: dict[str, bytes] = {}
    ted_codes = []
    for code in plan_languages(config, talk_id):
        vocab, style = model.vocabularies[code], model.styles[code]
        rng = random.Random(f"ted-synth/{config.seed}/{talk_id}/{code}")
        paragraphs = _render_track(beats, vocab, style, rng)
        # Every dict of a track is built with its keys in sorted order, so sorting is skipped: same
        # bytes as sort_keys=True, a third less encoding time.
        track = {"paragraphs": [{"cues": cues} for cues in paragraphs]}
        files[f"{vocab.ted_code}.json"] = _dumps(track, sort_keys=False)
        ted_codes.append(vocab.ted_code)
    files["meta.json"] = _dumps(_meta(config, model, talk_id, number, beats, ted_codes))
    return files


def _meta(config: SyntheticConfig, model: _Model, talk_id: int, number: int, beats: list[_Beat], ted_codes: list[str]) -> dict:
    first, last = dt.date(2006, 6, 27), dt.date(2025, 6, 30)
    span = max(100_000, 4 * config.num_talks)
    published = first + dt.timedelta(days=(last - first).days * talk_id // span)
    en = model.vocabularies["en"]
    sentences = [beat for beat in beats if beat.items]
    topics = sorted({en.phrases[c][k] for beat in sentences[:3] for c, k in beat.items[:1]})
    title = config.title.format(number=number, talk_id=talk_id)
    return {
        "id": talk_id,
        "slug": f"synthetic_talk_{talk_id}",
        "title": title,
        "speaker": f"Synthetic Speaker {talk_id}",
        "description": "Synthetic: generated by builder.synthetic from Unicode CLDR data (via Babel)"
        + ("" if config.cldr_only else " and pseudo-words where Babel lacks a language")
        + ". Not a TED talk.",
        "published": published.isoformat(),
        "topics": topics,
        "languages": ted_codes,
        "duration_s": math.ceil((beats[-1].start_ms + beats[-1].duration_ms) / 1000),
    }


# --- writing ------------------------------------------------------------------------------------


def _dumps(doc: dict, sort_keys: bool = True) -> bytes:
    return json.dumps(doc, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":")).encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _claim(out_dir: Path) -> None:
    """Refuse to write into a folder that holds talks but is not a synthetic store."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise FileExistsError(f"{out_dir} exists and is not a folder")
        has_talks = any(_TALK_DIR.fullmatch(entry.name) for entry in out_dir.iterdir())
        if has_talks and not (out_dir / MARKER).exists():
            raise FileExistsError(f"{out_dir} holds talks but no {MARKER}: not a synthetic store, not overwriting it")
    out_dir.mkdir(parents=True, exist_ok=True)


def _write_talk_job(job: tuple[SyntheticConfig, Path, int, int]) -> tuple[int, int, int, frozenset[str]]:
    config, out_dir, number, talk_id = job
    files = render_talk(config, talk_id, number)
    folder = out_dir / str(talk_id)
    folder.mkdir(exist_ok=True)
    for name in os.listdir(folder):  # an earlier generation's files, a killed run's temporary files
        if name not in files or name == "meta.json":
            os.remove(folder / name)
    for name, data in files.items():
        if name != "meta.json":
            _write_atomic(folder / name, data)
    _write_atomic(folder / "meta.json", files["meta.json"])  # last: a talk with meta.json is complete
    tracks = len(files) - 1
    cues = sum(data.count(b'"time":') for name, data in files.items() if name != "meta.json")
    codes = frozenset(languages.from_ted(name[:-5]).code for name in files if name != "meta.json")
    return tracks, cues, sum(map(len, files.values())), codes


def _progress(results, total: int, enabled: bool):
    if not enabled:
        return results
    try:
        from tqdm import tqdm
    except ImportError:
        return results
    return tqdm(results, total=total, unit="talk", file=sys.stderr)
