"""Read stage for WIT3/IWSLT mteval XML: bilingual, untimed, aligned through the English pivot.

Files are bilingual pairs: ``<set>.<x>-en.<x>.xml`` holds language x and
``<set>.en-<x>.en.xml`` its English side, parallel by ``seg id``. The English sides of
different pairs are *not* identical: whitespace differs, and a few segments are merged.

Untimed tracks still need a shared axis, so we build one: the character offset in a
reference English text (the English side with the most segments, i.e. the finest cut), with
whitespace removed. Each pair's English side is mapped onto it - exactly where segments
agree, linearly inside a merged block - and language x inherits the interval of its English
twin. The aligner then treats these offsets like times.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import languages
from .clean import normalize
from .parse import MtevalDoc, parse_mteval
from .rawstore import TALK_DIR
from .records import Cue, InputError, Skip, Talk, Track
from .store import read_file

PAIR_FILE = re.compile(
    r"^(?P<prefix>.+)\.(?P<a>[a-z]{2,3}(?:-[a-z]+)?)-(?P<b>[a-z]{2,3}(?:-[a-z]+)?)\.(?P<lang>[a-z]{2,3}(?:-[a-z]+)?)\.xml$"
)
PIVOT = "en"


def is_wit3(root: Path) -> bool:
    """A folder of mteval pair files, and not a raw store (which may hold a stray .xml)."""
    if not root.is_dir() or any(TALK_DIR.fullmatch(entry.name) and entry.is_dir() for entry in root.iterdir()):
        return False
    return any(PAIR_FILE.fullmatch(path.name) for path in _xml_files(root))


def _xml_files(root: Path) -> list[Path]:
    """XML files under ``root``, outside hidden folders, in a stable order."""
    return sorted(p for p in root.rglob("*.xml") if not any(part.startswith(".") for part in p.relative_to(root).parts))


@dataclass
class _Pair:
    language: str
    english: MtevalDoc
    other: MtevalDoc


def read_wit3(root: Path, wanted: frozenset[str] | None = None) -> tuple[list[Talk], list[Skip]]:
    skips: list[Skip] = []
    sides: dict[tuple[str, frozenset], dict[str, Path]] = defaultdict(dict)
    for path in _xml_files(root):
        match = PAIR_FILE.fullmatch(path.name)
        if not match or match["lang"] not in (match["a"], match["b"]):
            skips.append(Skip("track", "unrecognised_file", path=str(path.relative_to(root))))
            continue
        sides[(match["prefix"], frozenset((match["a"], match["b"])))][match["lang"]] = path

    pairs_by_talk: dict[int, list[_Pair]] = defaultdict(list)
    for (prefix, pair), files in sorted(sides.items(), key=lambda item: (item[0][0], sorted(item[0][1]))):
        other_codes = sorted(pair - {PIVOT})
        if PIVOT not in pair or len(other_codes) != 1 or set(files) != set(pair):
            for path in files.values():
                skips.append(Skip("track", "unpaired_wit3_file", path=str(path.relative_to(root)),
                                  detail="needs both <x>-en.<x>.xml and en-<x>.en.xml"))
            continue
        try:
            code = languages.get(other_codes[0]).code
        except languages.UnknownLanguageError:
            skips.append(Skip("track", "unknown_language", language=other_codes[0], path=str(files[other_codes[0]].relative_to(root))))
            continue
        try:
            english_docs, other_docs = (parse_mteval(read_file(files[side], root)) for side in (PIVOT, other_codes[0]))
        except InputError as exc:
            skips.append(Skip("track", exc.reason, language=code, path=prefix, detail=exc.detail))
            continue
        for talk_key in sorted(set(english_docs) & set(other_docs), key=int):
            english, other = english_docs[talk_key], other_docs[talk_key]
            if len(english.segments) != len(other.segments):
                skips.append(Skip("track", "segment_count_mismatch", int(talk_key), code, prefix,
                                  f"en {len(english.segments)} vs {code} {len(other.segments)} segments"))
                continue
            talk_pairs = pairs_by_talk[int(talk_key)]
            if any(p.language == code for p in talk_pairs):
                skips.append(Skip("track", "duplicate_track", int(talk_key), code, prefix))
                continue
            talk_pairs.append(_Pair(code, english, other))

    keep_english = wanted is None or PIVOT in wanted
    talks = [
        _talk_from_pairs(talk_id, pairs, keep_english, wanted)
        for talk_id, pairs in sorted(pairs_by_talk.items())
        if wanted is None or any(p.language in wanted for p in pairs)
    ]
    return talks, skips


def _talk_from_pairs(talk_id: int, pairs: list[_Pair], keep_english: bool = True, wanted: frozenset | None = None) -> Talk:
    """Every language on the reference English axis. English itself is the axis, so the others
    align without it; ``keep_english=False`` (``--languages`` without ``en``) leaves its text out.

    The reference is chosen among *all* pairs of the talk, also when ``wanted`` keeps only some
    languages: the English sides of the pairs differ (whitespace, merged segments, even
    wording), and a subset built alone must have the same English as the all-language build."""
    reference = max(pairs, key=lambda p: (len(p.english.segments), -languages.rank(p.language))).english
    ref_offsets = _offsets(reference.segments)
    tracks = {}
    if keep_english:
        tracks[PIVOT] = Track(talk_id, PIVOT, _cues(reference.segments, ref_offsets), "wit3", timed=False)
    for pair in pairs:
        if wanted is not None and pair.language not in wanted:
            continue
        to_reference = _offset_map(pair.english.segments, reference.segments)
        offsets = [to_reference(x) for x in _offsets(pair.english.segments)]
        tracks[pair.language] = Track(talk_id, pair.language, _cues(pair.other.segments, offsets), "wit3", timed=False)
    meta = dict(reference.meta)
    meta["id"] = talk_id
    meta["languages"] = sorted(tracks, key=languages.rank)
    return Talk(talk_id, tracks, meta, "wit3")


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


def _offsets(segments: list[str]) -> list[float]:
    """Start offset of every segment in the whitespace-free text, plus the end."""
    offsets = [0.0]
    for seg in segments:
        offsets.append(offsets[-1] + len(_squeeze(seg)))
    return offsets


def _cues(segments: list[str], offsets: list[float]) -> list[Cue]:
    return [Cue(offsets[i], offsets[i + 1], text) for i, text in enumerate(segments)]


def _offset_map(segments: list[str], reference: list[str]):
    """Piecewise-linear map from offsets in ``segments`` to offsets in ``reference``.

    Anchors sit at the start of every difflib opcode: exact for equal runs, and at both ends
    of a replaced run, which for WIT3 is a merge of the same text.
    """
    ours, theirs = _offsets(segments), _offsets(reference)
    matcher = difflib.SequenceMatcher(None, [_squeeze(s) for s in reference], [_squeeze(s) for s in segments], autojunk=False)
    anchors_x, anchors_y = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                anchors_x.append(ours[j])
                anchors_y.append(theirs[i])
        else:
            anchors_x.append(ours[j1])
            anchors_y.append(theirs[i1])
    anchors_x.append(ours[-1])
    anchors_y.append(theirs[-1])

    def to_reference(x: float) -> float:
        if len(anchors_x) == 1:
            return anchors_y[0]
        k = min(max(bisect.bisect_right(anchors_x, x) - 1, 0), len(anchors_x) - 2)
        x0, x1, y0, y1 = anchors_x[k], anchors_x[k + 1], anchors_y[k], anchors_y[k + 1]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    return to_reference
