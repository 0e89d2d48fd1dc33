"""Clean stage: text normalisation, sound tags, and the per-cell filters.

The *documented normalisation* (the only change allowed to kept text) is, in order:

1. Unicode NFC;
2. removal of invisible formatting characters that subtitle tools leave behind:
   U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF BOM, U+00AD SOFT HYPHEN, and the bidi
   marks/controls U+200E, U+200F, U+202A-U+202E, U+2066-U+2069. ZWJ/ZWNJ (U+200C/U+200D) are
   kept: Persian and Indic spelling depends on them;
3. control characters become spaces, whitespace runs become one space, ends are stripped;
4. sound and noise tags are removed: short parenthesised or bracketed spans such as
   ``(Applause)``, ``(Rires)``, ``（掌声）``, ``[Music]`` and the music notes ``♪♫♬``.

Everything else a filter removes is a *counted drop* with a reason (see :class:`CellFilter`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

import py3langid
import pycld2

from . import languages
from .records import Drop

_INVISIBLE = dict.fromkeys(
    [0x200B, 0x2060, 0xFEFF, 0x00AD, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
# TED transcripts use parentheses almost only for sound tags; a tag is short (<= 40 chars,
# <= 4 words) and holds no sentence punctuation, so parenthetical remarks survive.
_SOUND_TAG = re.compile(r"[(\[（【]\s*[^()\[\]（）【】.!?。！？]{1,40}?\s*[)\]）】]")
_MUSIC = re.compile(r"[♪♫♬]+")


def normalize(text: str) -> str:
    """Steps 1-3 of the documented normalisation."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def strip_sound_tags(text: str) -> tuple[str, int]:
    """Step 4. Returns the text without tags and the number of tags removed."""
    removed = 0

    def drop(match: re.Match) -> str:
        nonlocal removed
        if len(match.group(0).split()) > 4:
            return match.group(0)
        removed += 1
        return " "

    text = _SOUND_TAG.sub(drop, text)
    text, notes = _MUSIC.subn(" ", text)
    return _SPACES.sub(" ", text).strip(), removed + notes


def clean_text(text: str) -> tuple[str, int]:
    """The whole documented normalisation of one cue. Returns (text, tags removed)."""
    return strip_sound_tags(normalize(text))


@dataclass(frozen=True)
class FilterSettings:
    langid: bool = True
    langid_min_chars: int = 40  # cld2 is unreliable on short strings
    langid_min_percent: int = 80
    length_ratio: float = 3.0  # keep cells within [1/r, r] of the expected length vs the pivot
    length_ratio_min_chars: int = 30  # pivot cells shorter than this are not judged
    dedupe: bool = True

    def __post_init__(self):
        if self.length_ratio and self.length_ratio < 1:
            raise ValueError(f"length_ratio must be 0 (off) or >= 1, got {self.length_ratio}")


class CellFilter:
    """Per-cell filters of one talk, applied in segment order. Counts every drop by reason.

    Reasons: :attr:`Drop.EMPTY`, :attr:`Drop.LANGID_MISMATCH`, :attr:`Drop.LENGTH_RATIO`,
    :attr:`Drop.DUPLICATE_IN_TALK`.
    """

    def __init__(self, settings: FilterSettings, pivot: str | None):
        self.settings = settings
        self.pivot = pivot
        self.seen: set[tuple[str, str]] = set()
        self.dropped: Counter[str] = Counter()

    def check(self, language: str, text: str, pivot_text: str | None) -> Drop | None:
        """Returns the drop reason for this cell, or None to keep it."""
        if not text:
            return Drop.EMPTY
        s = self.settings
        key = (language, text.casefold())
        if s.dedupe and key in self.seen:
            return Drop.DUPLICATE_IN_TALK
        if s.langid and len(text) >= s.langid_min_chars and language_mismatch(language, text, s.langid_min_percent):
            return Drop.LANGID_MISMATCH
        if (
            s.length_ratio
            and pivot_text
            and language != self.pivot
            and len(pivot_text) >= s.length_ratio_min_chars
        ):
            # the priors are per English character; the pivot need not be English
            expected = len(pivot_text) * languages.chars_per_en_char(language) / languages.chars_per_en_char(self.pivot)
            ratio = len(text) / expected
            if ratio > s.length_ratio or ratio < 1 / s.length_ratio:
                return Drop.LENGTH_RATIO
        self.seen.add(key)  # only kept cells make later ones duplicates
        return None


def language_mismatch(language: str, text: str, min_percent: int) -> bool:
    """True when two offline identifiers agree that the text is not in ``language``.

    cld2 is fast but flags short French and German sentences as Danish or English with
    "reliable" confidence (seen on IWSLT data), so its verdict is confirmed by py3langid.
    """
    accepted = languages.cld2_codes(language)
    if not accepted:
        return False  # cld2 cannot recognise this language: no evidence either way
    try:
        reliable, _, details = pycld2.detect(text, isPlainText=True)
    except pycld2.error:
        return False
    _, code, percent, _ = details[0]
    if not (reliable and code != "un" and percent >= min_percent and code not in accepted):
        return False
    second_opinion, _ = py3langid.classify(text)
    iso = languages.get(language).iso639_1
    return second_opinion not in accepted and second_opinion != iso
