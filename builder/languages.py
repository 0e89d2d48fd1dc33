"""The one language registry of TED2025: every TED subtitle language, its codes and how to parse them.

Every other module asks this one for language codes; nothing else hard-codes a list of languages.

Codes
-----
``Language.code`` is what users type in configs and what names a Parquet column. It is TED's own
subtitle code (``internalLanguageCode``, also the file name on hls.ted.com) in lower case, with one
exception, below. ``Language.ted_code`` is TED's spelling. To map a code found in TED data, use
:func:`from_ted`, not :func:`get`: the two differ for ``zh``.

Where the codes come from: TED's subtitle-language list as published on ted.com (language name to
code), the TED2020 corpus statistics (Reimers & Gurevych 2020, 108 codes; also the source of the
popularity order) and the file names under hls.ted.com seen in the Teddy mirror (acoli-corpora).

Decisions, and why
------------------
* ``zh``: TED's ``zh`` track is *Chinese, Yue* (Cantonese, e.g. 我哋/喺/嘅 in the text), not generic
  Chinese. Users who type ``zh`` mean Chinese, so ``zh`` is an alias of ``zh-cn`` (Simplified, TED's
  largest Chinese track), and the Cantonese track gets the config code ``yue`` (``ted_code="zh"``).
  ``get("zh")`` is Simplified Chinese; ``from_ted("zh")`` is Cantonese.
* ``zh-hans``, ``zh-sg``, ``zh-chs``, ``cmn``, ``zho`` -> ``zh-cn``; ``zh-hant``, ``zh-cht`` -> ``zh-tw``.
  ``zh-hk`` is not an alias: it could mean Traditional Mandarin text or Cantonese.
* ``pt`` is TED's ``pt``, European Portuguese. ``pt-pt`` and ``por`` -> ``pt``. Brazilian is ``pt-br``.
* ``fr-fr``, ``fra`` -> ``fr``; ``es-es``, ``es-419``, ``es-mx`` -> ``es``; ``en-us``, ``en-gb`` -> ``en``.
* Deprecated ISO 639-1 codes: ``iw`` -> ``he``, ``in`` -> ``id``, ``mo`` -> ``ro``.
* ``fil`` (Filipino) and ``tl`` (Tagalog) are *both* TED tracks, so neither is an alias of the other.
* ``nb`` (Bokmål) and ``nn`` (Nynorsk) are both TED tracks; ``no`` and ``nor`` -> ``nb``.
* Kurdish: TED now serves ``ckb`` (Central Kurdish/Sorani) and ``kmr``. The ``kmr`` track holds TED's
  older ``ku`` translations and, in every file we looked at, its text is Sorani in Arabic script,
  not Latin-script Kurmanji. So ``kmr`` is recorded as script ``Arab``, ISO 639-3 ``kur``, and the
  legacy TED code ``ku`` (and ISO ``kur``) resolve to it. ``ckb`` is its own language.
* ``srp`` is TED's code for *Montenegrin* (ISO 639-3 ``cnr``), although ``srp`` is the ISO 639-3 code
  of Serbian. A TED code wins over an ISO code, so ``get("srp")`` is Montenegrin; Serbian is ``sr``.
* ``sh`` is TED's Serbo-Croatian track (ISO 639-3 ``hbs``); ``sr``, ``hr``, ``bs``, ``sh``, ``srp`` are
  five separate tracks.
* ``ry`` is TED's (non-ISO) code for Rusyn (ISO 639-3 ``rue``).
* Left out: ``art-x-bork`` ("Swedish Chef", a joke track with no ISO 639-3 code) and ``sp`` (a stray
  duplicate of Spanish in one copy of TED's list).

``iso639_3`` is the code a dataset card's ``language:`` field should list. Where TED's track is a
macrolanguage (Arabic, Chinese, Persian, Malay, Swahili, ...) it is the macrolanguage code (``ara``,
``zho``, ``fas``, ``msa``, ``swa``, ...), and the usual individual-language code resolves as an alias
(``arb``, ``cmn``, ``pes``, ``zsm``, ``swh``, ...).

Lookup
------
:func:`get` ignores case, surrounding whitespace and ``_`` vs ``-`` (``ZH_CN``, ``pt_BR``), and tries,
in this order: config code; explicit alias; TED code; ISO 639-1 code naming exactly one entry; ISO
639-3 code naming exactly one entry. :data:`ALIASES` lists every accepted spelling that is not a
config code. Subset names such as ``"en-zh-cn-sw"`` are parsed by :func:`parse_subset`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ALIASES",
    "CJK_SCRIPTS",
    "NO_SPACE_SCRIPTS",
    "UNSPACED_WORD_SCRIPTS",
    "CODES",
    "LANGUAGES",
    "POPULARITY_RANK",
    "Language",
    "UnknownLanguageError",
    "chars_per_en_char",
    "cld2_codes",
    "from_ted",
    "get",
    "is_known",
    "joiner",
    "words_unspaced",
    "parse_subset",
    "rank",
    "resolve",
    "subset_name",
    "table",
]


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # config code and Parquet column name: TED's code, lower case ("yue" for TED's "zh")
    ted_code: str  # TED's internalLanguageCode, as TED spells it
    iso639_1: str | None  # two-letter code, where one exists
    iso639_3: str  # the code a dataset card's `language:` field lists (macrolanguage where TED's is)
    script: str  # ISO 15924 code of the script TED's text is written in
    name: str  # English name


# One row per TED language, most translated first (TED2020 sentence counts; the rows from "cnh" on
# are not in TED2020 and their order is a guess). Columns: code, TED code, ISO 639-1 ("-": none),
# ISO 639-3, script, pycld2 codes that count as a match (space-separated, "-": cld2 cannot tell),
# English name.
_TABLE = """
en    | en    | en | eng | Latn | en          | English
pt-br | pt-br | pt | por | Latn | pt gl       | Portuguese (Brazil)
es    | es    | es | spa | Latn | es gl ca    | Spanish
fr    | fr    | fr | fra | Latn | fr          | French
ar    | ar    | ar | ara | Arab | ar          | Arabic
zh-tw | zh-tw | zh | zho | Hant | zh zh-Hant  | Chinese (Traditional)
zh-cn | zh-cn | zh | zho | Hans | zh zh-Hant  | Chinese (Simplified)
ko    | ko    | ko | kor | Kore | ko          | Korean
ru    | ru    | ru | rus | Cyrl | ru          | Russian
tr    | tr    | tr | tur | Latn | tr          | Turkish
it    | it    | it | ita | Latn | it          | Italian
ja    | ja    | ja | jpn | Jpan | ja          | Japanese
he    | he    | he | heb | Hebr | iw          | Hebrew
pt    | pt    | pt | por | Latn | pt gl       | Portuguese (Portugal)
ro    | ro    | ro | ron | Latn | ro          | Romanian
vi    | vi    | vi | vie | Latn | vi          | Vietnamese
nl    | nl    | nl | nld | Latn | nl af       | Dutch
hu    | hu    | hu | hun | Latn | hu          | Hungarian
fa    | fa    | fa | fas | Arab | fa          | Persian
pl    | pl    | pl | pol | Latn | pl          | Polish
de    | de    | de | deu | Latn | de          | German
el    | el    | el | ell | Grek | el          | Greek
sr    | sr    | sr | srp | Latn | sr hr bs    | Serbian
bg    | bg    | bg | bul | Cyrl | bg mk       | Bulgarian
uk    | uk    | uk | ukr | Cyrl | uk          | Ukrainian
hr    | hr    | hr | hrv | Latn | hr sr bs    | Croatian
cs    | cs    | cs | ces | Latn | cs sk       | Czech
id    | id    | id | ind | Latn | id ms       | Indonesian
th    | th    | th | tha | Thai | th          | Thai
sv    | sv    | sv | swe | Latn | sv          | Swedish
sk    | sk    | sk | slk | Latn | sk cs       | Slovak
lt    | lt    | lt | lit | Latn | lt          | Lithuanian
da    | da    | da | dan | Latn | da no nn    | Danish
sq    | sq    | sq | sqi | Latn | sq          | Albanian
my    | my    | my | mya | Mymr | my          | Burmese
kmr   | kmr   | ku | kur | Arab | -           | Kurdish (kmr; legacy ku)
ckb   | ckb   | -  | ckb | Arab | -           | Central Kurdish (Sorani)
lv    | lv    | lv | lav | Latn | lv          | Latvian
ca    | ca    | ca | cat | Latn | ca oc es    | Catalan
hi    | hi    | hi | hin | Deva | hi          | Hindi
fi    | fi    | fi | fin | Latn | fi          | Finnish
sl    | sl    | sl | slv | Latn | sl hr       | Slovenian
mk    | mk    | mk | mkd | Cyrl | mk bg       | Macedonian
hy    | hy    | hy | hye | Armn | hy          | Armenian
gl    | gl    | gl | glg | Latn | gl pt es    | Galician
fr-ca | fr-ca | fr | fra | Latn | fr          | French (Canada)
nb    | nb    | nb | nob | Latn | no nn da    | Norwegian Bokmål
ka    | ka    | ka | kat | Geor | ka          | Georgian
mn    | mn    | mn | mon | Cyrl | mn          | Mongolian
et    | et    | et | est | Latn | et          | Estonian
mr    | mr    | mr | mar | Deva | mr hi       | Marathi
yue   | zh    | -  | yue | Hant | zh zh-Hant  | Chinese, Yue (Cantonese)
gu    | gu    | gu | guj | Gujr | gu          | Gujarati
ur    | ur    | ur | urd | Arab | ur          | Urdu
ms    | ms    | ms | msa | Latn | ms id       | Malay
bs    | bs    | bs | bos | Latn | bs hr sr    | Bosnian
az    | az    | az | aze | Latn | az          | Azerbaijani
ta    | ta    | ta | tam | Taml | ta          | Tamil
eo    | eo    | eo | epo | Latn | eo          | Esperanto
be    | be    | be | bel | Cyrl | be          | Belarusian
bn    | bn    | bn | ben | Beng | bn          | Bengali
eu    | eu    | eu | eus | Latn | eu          | Basque
sw    | sw    | sw | swa | Latn | sw          | Swahili
kk    | kk    | kk | kaz | Cyrl | kk          | Kazakh
uz    | uz    | uz | uzb | Latn | uz          | Uzbek
ml    | ml    | ml | mal | Mlym | ml          | Malayalam
te    | te    | te | tel | Telu | te          | Telugu
ne    | ne    | ne | nep | Deva | ne hi mr    | Nepali
fil   | fil   | -  | fil | Latn | tl          | Filipino
is    | is    | is | isl | Latn | is          | Icelandic
sh    | sh    | sh | hbs | Latn | hr sr bs    | Serbo-Croatian
af    | af    | af | afr | Latn | af nl       | Afrikaans
kn    | kn    | kn | kan | Knda | kn          | Kannada
srp   | srp   | -  | cnr | Latn | sr hr bs    | Montenegrin
so    | so    | so | som | Latn | so          | Somali
arq   | arq   | -  | arq | Arab | ar          | Algerian Arabic
nn    | nn    | nn | nno | Latn | nn no da    | Norwegian Nynorsk
tl    | tl    | tl | tgl | Latn | tl          | Tagalog
ug    | ug    | ug | uig | Arab | ug          | Uyghur
ps    | ps    | ps | pus | Arab | ps          | Pashto
km    | km    | km | khm | Khmr | km          | Khmer
si    | si    | si | sin | Sinh | si          | Sinhala
am    | am    | am | amh | Ethi | am          | Amharic
bo    | bo    | bo | bod | Tibt | bo dz       | Tibetan
pa    | pa    | pa | pan | Guru | pa          | Punjabi
ky    | ky    | ky | kir | Cyrl | ky          | Kyrgyz
tg    | tg    | tg | tgk | Cyrl | tg          | Tajik
lo    | lo    | lo | lao | Laoo | lo          | Lao
ht    | ht    | ht | hat | Latn | ht          | Haitian Creole
mg    | mg    | mg | mlg | Latn | mg          | Malagasy
tt    | tt    | tt | tat | Cyrl | tt          | Tatar
inh   | inh   | -  | inh | Cyrl | -           | Ingush
tk    | tk    | tk | tuk | Latn | tk          | Turkmen
ig    | ig    | ig | ibo | Latn | ig          | Igbo
mt    | mt    | mt | mlt | Latn | mt          | Maltese
dz    | dz    | dz | dzo | Tibt | dz bo       | Dzongkha
ast   | ast   | -  | ast | Latn | -           | Asturian
szl   | szl   | -  | szl | Latn | -           | Silesian
ceb   | ceb   | -  | ceb | Latn | ceb tl      | Cebuano
ltg   | ltg   | -  | ltg | Latn | -           | Latgalian
lb    | lb    | lb | ltz | Latn | lb          | Luxembourgish
ga    | ga    | ga | gle | Latn | ga          | Irish
tlh   | tlh   | -  | tlh | Latn | tlh         | Klingon
as    | as    | as | asm | Beng | as bn       | Assamese
oc    | oc    | oc | oci | Latn | oc ca       | Occitan
bi    | bi    | bi | bis | Latn | bi          | Bislama
ha    | ha    | ha | hau | Latn | ha          | Hausa
la    | la    | la | lat | Latn | la          | Latin
cnh   | cnh   | -  | cnh | Latn | -           | Hakha Chin
rup   | rup   | -  | rup | Latn | -           | Aromanian
mfe   | mfe   | -  | mfe | Latn | mfe         | Mauritian Creole
hup   | hup   | -  | hup | Latn | -           | Hupa
ry    | ry    | -  | rue | Cyrl | -           | Rusyn
sc    | sc    | sc | srd | Latn | -           | Sardinian
aeb   | aeb   | -  | aeb | Arab | ar          | Tunisian Arabic
"""


def _parse_table(text: str) -> tuple[tuple[Language, ...], dict[str, frozenset[str]]]:
    languages, cld2 = [], {}
    for line in text.strip().splitlines():
        code, ted, iso1, iso3, script, cld2_field, name = (f.strip() for f in line.split("|"))
        languages.append(Language(code, ted, None if iso1 == "-" else iso1, iso3, script, name))
        cld2[code] = frozenset() if cld2_field == "-" else frozenset(cld2_field.split())
    return tuple(languages), cld2


LANGUAGES, _CLD2 = _parse_table(_TABLE)
CODES: tuple[str, ...] = tuple(lang.code for lang in LANGUAGES)
POPULARITY_RANK: dict[str, int] = {code: i for i, code in enumerate(CODES)}
_BY_CODE: dict[str, Language] = {lang.code: lang for lang in LANGUAGES}

# Aliases chosen by hand (see the module docstring); they win over TED and ISO codes.
_EXPLICIT_ALIASES = {
    "zh": "zh-cn", "zh-hans": "zh-cn", "zh-sg": "zh-cn", "zh-chs": "zh-cn", "cmn": "zh-cn",
    "zho": "zh-cn",
    "zh-hant": "zh-tw", "zh-cht": "zh-tw",
    "pt-pt": "pt", "por": "pt",
    "fr-fr": "fr", "fra": "fr",
    "es-es": "es", "es-419": "es", "es-mx": "es",
    "en-us": "en", "en-gb": "en",
    "iw": "he", "in": "id", "mo": "ro",
    "no": "nb", "nor": "nb",
    "ku": "kmr",
    "sr-cyrl": "sr", "sr-latn": "sr",
    # Individual-language ISO 639-3 codes inside a macrolanguage TED tracks as a whole.
    "arb": "ar", "pes": "fa", "zsm": "ms", "swh": "sw", "ekk": "et", "lvs": "lv", "khk": "mn",
    "uzn": "uz", "azj": "az", "als": "sq", "npi": "ne", "plt": "mg", "pbu": "ps",
}
# TED codes used in older TED data (TED2020, WIT3) for a track TED now serves under another code.
_LEGACY_TED_CODES = {"ku": "kmr"}


def _normalize(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}

    def add(key: str, code: str) -> None:
        if key not in _BY_CODE:
            aliases.setdefault(key, code)  # earlier sources take precedence

    for key, code in _EXPLICIT_ALIASES.items():
        add(key, code)
    for lang in LANGUAGES:
        add(_normalize(lang.ted_code), lang.code)
    for field in ("iso639_1", "iso639_3"):
        owners: dict[str, list[str]] = {}
        for lang in LANGUAGES:
            if getattr(lang, field):
                owners.setdefault(getattr(lang, field), []).append(lang.code)
        for key, codes in owners.items():
            if len(codes) == 1:
                add(key, codes[0])
    return aliases


# Every accepted spelling (normalised: lower case, "-") that is not a config code -> config code.
# Treat as read-only.
ALIASES: dict[str, str] = _build_aliases()
_LOOKUP: dict[str, Language] = {**{k: _BY_CODE[v] for k, v in ALIASES.items()}, **_BY_CODE}
_MAX_KEY_TOKENS = max(key.count("-") + 1 for key in _LOOKUP)

CJK_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Kore"})
# Scripts written without spaces between sentences: aligned units join with "" (others with " ").
NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan"})
# Scripts written without spaces between words (a word tokenizer, or characters, stands in for
# spaces): NO_SPACE_SCRIPTS and the Southeast Asian and Tibetan scripts, whose sentences do take
# a space between them.
UNSPACED_WORD_SCRIPTS = NO_SPACE_SCRIPTS | frozenset({"Thai", "Laoo", "Khmr", "Mymr", "Tibt"})


class UnknownLanguageError(ValueError):
    """A language code that is not in the registry; ``suggestions`` holds up to 5 close codes."""

    def __init__(self, code: str, suggestions: Iterable[str] | None = None) -> None:
        self.code = code
        self.suggestions = tuple(_suggest(code) if suggestions is None else suggestions)
        shown = code if len(code) <= 40 else code[:40] + "..."
        message = f"unknown language code {shown!r}"
        if self.suggestions:
            message += f"; did you mean: {', '.join(self.suggestions)}?"
        super().__init__(message + " (run `ted2025 languages` for the full list)")

    def __reduce__(self):  # keep it picklable across worker processes
        return (type(self), (self.code, self.suggestions))


def _suggest(code: str, limit: int = 5) -> list[str]:
    key = _normalize(code)[:40]
    if not key:
        return []
    # A word of an English name first ("cantonese" -> yue, "kurdish" -> kmr, ckb), then near spellings.
    suggestions = [lang.code for lang in LANGUAGES if len(key) >= 3 and key in _name_words(lang)]
    by_spelling = dict(_LOOKUP.items())
    by_spelling.update({lang.name.lower(): lang for lang in LANGUAGES})
    for match in difflib.get_close_matches(key, by_spelling, n=4 * limit, cutoff=0.6):
        if by_spelling[match].code not in suggestions:
            suggestions.append(by_spelling[match].code)
    return suggestions[:limit]


def _name_words(lang: Language) -> list[str]:
    return re.findall(r"\w+", lang.name.lower())


def _lookup(code: str) -> Language | None:
    if not code.isascii():  # "\u212a".lower() == "k"; keep lookups to plain ASCII spellings
        return None
    return _LOOKUP.get(_normalize(code))


def get(code: str | Language) -> Language:
    """Resolve a config code, alias, TED code or ISO 639-1/-3 code (see the module docstring)."""
    if isinstance(code, Language):
        code = code.code
    if not isinstance(code, str):
        raise TypeError(f"language code must be a str, not {type(code).__name__}")
    lang = _lookup(code)
    if lang is None:
        raise UnknownLanguageError(code)
    return lang


def is_known(code: str) -> bool:
    return isinstance(code, str) and _lookup(code) is not None


def from_ted(ted_code: str) -> Language:
    """The language of a TED subtitle track, by TED's code exactly (``"zh"`` is Cantonese here)."""
    if not isinstance(ted_code, str):
        raise TypeError(f"TED language code must be a str, not {type(ted_code).__name__}")
    key = _normalize(ted_code)
    key = _LEGACY_TED_CODES.get(key, key)
    for lang in LANGUAGES:
        if _normalize(lang.ted_code) == key:
            return lang
    raise UnknownLanguageError(ted_code)


def rank(code: str) -> int:
    """Popularity rank: 0 for English, then by how much TED text the language has."""
    return POPULARITY_RANK[get(code).code]


def resolve(codes: Iterable[str | Language]) -> list[Language]:
    """Resolve each code in order; two codes naming the same language raise ``ValueError``."""
    if isinstance(codes, str):
        raise TypeError("resolve() takes a list of codes; use parse_subset() for a name like 'en-de'")
    return _unique([(code if isinstance(code, str) else code.code, get(code)) for code in codes])


def _unique(pairs: list[tuple[str, Language]]) -> list[Language]:
    first_spelling: dict[str, str] = {}
    for spelling, lang in pairs:
        if lang.code in first_spelling:
            raise ValueError(
                f"language {lang.code!r} is given twice: as {first_spelling[lang.code]!r} and as {spelling!r}"
            )
        first_spelling[lang.code] = spelling
    return [lang for _, lang in pairs]


def parse_subset(spec: str) -> list[Language]:
    """Parse a subset name: ``"en-zh-cn-sw"``, ``"en-zh-sw"``, ``"en+pt-br+de"`` or ``"en, de"``.

    With ``+`` or ``,`` in the name, those separate the codes and each piece is one code (so
    ``"fr+ca"`` is French and Catalan). Otherwise the name is split on ``-`` (``_`` counts as ``-``)
    and at each position the longest run of tokens that is a known code or alias is taken, so
    ``"en-fr-ca"`` is English and French (Canada), not English, French and Catalan. A shorter run is
    taken only where the longest would leave the rest unparsable (``"pt-pt-br"`` is pt, pt-br).
    """
    if not isinstance(spec, str):
        raise TypeError(f"subset spec must be a str, not {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise ValueError("empty language subset: give codes such as 'en-de' or 'en+zh-cn'")
    if "+" in text or "," in text:
        pieces = [piece.strip() for piece in re.split(r"[+,]", text)]
        if not all(pieces):
            raise ValueError(f"empty language code in subset {spec!r}")
        return _unique([(piece, get(piece)) for piece in pieces])
    tokens = [token.strip() for token in text.replace("_", "-").split("-")]
    if not all(tokens):
        raise ValueError(f"empty language code in subset {spec!r}")
    return _unique(_split_tokens(tokens))


def _split_tokens(tokens: list[str]) -> list[tuple[str, Language]]:
    """Cut tokens into codes, longest match first, backing off where the longest leaves no parse."""
    count = len(tokens)
    # piece_length[i]: tokens in the piece starting at token i on a parse of tokens[i:], 0 where
    # tokens[i:] does not parse; the sentinel -1 at the end is truthy: nothing left parses.
    piece_length = [0] * count + [-1]
    for i in range(count - 1, -1, -1):
        piece_length[i] = next((n for n in _key_lengths(tokens, i) if piece_length[i + n]), 0)
    if not piece_length[0]:
        raise UnknownLanguageError(tokens[_first_dead_end(tokens)])
    pairs, i = [], 0
    while i < count:
        spelling = "-".join(tokens[i : i + piece_length[i]])
        pairs.append((spelling, _LOOKUP[_normalize(spelling)]))
        i += piece_length[i]
    return pairs


def _key_lengths(tokens: list[str], start: int) -> list[int]:
    """Lengths n, longest first, for which tokens[start:start+n] joined by "-" is a code or alias."""
    longest = min(_MAX_KEY_TOKENS, len(tokens) - start)
    return [n for n in range(longest, 0, -1) if _lookup("-".join(tokens[start : start + n]))]


def _first_dead_end(tokens: list[str]) -> int:
    """The first token position, reachable from the start, at which no code or alias begins."""
    reachable = {0}
    for i in range(len(tokens)):
        if i in reachable:
            lengths = _key_lengths(tokens, i)
            if not lengths:
                return i
            reachable.update(i + n for n in lengths)
    raise AssertionError("tokens parse")  # unreachable: some reachable position is a dead end


def subset_name(langs: Iterable[str | Language]) -> str:
    """Canonical subset name: the codes in the given order joined by ``-``.

    Where ``-`` would read back differently (French followed by Catalan is "fr-ca", which is French
    (Canada); French followed by French (Canada) is "fr-fr-ca", read as the alias fr-fr and Catalan),
    the codes are joined by ``+`` instead, so ``parse_subset(subset_name(x)) == x`` always.
    """
    resolved = resolve(langs)
    if not resolved:
        raise ValueError("a subset needs at least one language")
    name = "-".join(lang.code for lang in resolved)
    try:
        if parse_subset(name) == resolved:
            return name
    except ValueError:
        pass
    return "+".join(lang.code for lang in resolved)


def cld2_codes(code: str | Language) -> frozenset[str]:
    """pycld2 codes (as pycld2 spells them) that count as a match for this language.

    Includes close relatives that cld2 confuses on short segments (hr/sr/bs, ms/id, no/nn/da, cs/sk,
    zh/zh-Hant, ...). Empty where cld2 cannot recognise the language; the caller then skips the check.
    """
    return _CLD2[get(code).code]


# Rough characters per English character for the same content, by script. A prior for flagging
# length-ratio outliers in cleaning, not a measurement.
_CHARS_PER_EN_CHAR_BY_SCRIPT = {
    "Hans": 0.3, "Hant": 0.3, "Jpan": 0.45, "Kore": 0.5, "Thai": 0.9, "Hebr": 0.85, "Arab": 0.9,
}


def joiner(code: str | Language) -> str:
    """What joins two consecutive sentences of this language: "" for Chinese and Japanese, else " "."""
    return "" if get(code).script in NO_SPACE_SCRIPTS else " "


def words_unspaced(code: str | Language) -> bool:
    """Is this language written without spaces between words (Chinese, Japanese, Thai, ...)?"""
    return get(code).script in UNSPACED_WORD_SCRIPTS


def chars_per_en_char(code: str | Language) -> float:
    lang = get(code)
    if lang.code == "en":
        return 1.0
    return _CHARS_PER_EN_CHAR_BY_SCRIPT.get(lang.script, 1.1)


def table() -> str:
    """Plain-text table of all languages, most translated first (for ``ted2025 languages``)."""
    header = ("#", "code", "ted", "iso639-1", "iso639-3", "script", "name")
    rows = [header] + [
        (str(i + 1), lang.code, lang.ted_code, lang.iso639_1 or "-", lang.iso639_3, lang.script, lang.name)
        for i, lang in enumerate(LANGUAGES)
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    return "\n".join(lines)
