"""Parse stage: bytes of one source file -> :class:`~builder.records.Cue` lists.

Every parser raises :class:`~builder.records.InputError` with a short reason on bad input,
so that the pipeline can skip the track and count why. Nothing here touches the filesystem:
:mod:`builder.store` reads the bytes (bounded, regular files only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import defusedxml.ElementTree as SafeET
import webvtt
from webvtt.errors import MalformedFileError

from .records import Cue, InputError

MAX_FILE_BYTES = 20 * 1024 * 1024  # a long TED transcript is ~100 kB; anything this big is not one
# TED JSON gives start times only. The last cue's end is estimated from its length.
MS_PER_CHAR = 70
MAX_LAST_CUE_MS = 8000


LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON's \\uD800 escapes give these; UTF-8 cannot


def unicode_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode, or None. JSON may escape half a surrogate pair
    (``"\\ud800"``), which no UTF-8 file, Parquet column or report can hold: every string that
    comes from JSON (transcripts, meta.json, the crawler's answers) is checked with this."""
    match = LONE_SURROGATE.search(text)
    return None if match is None else f"lone surrogate U+{ord(match.group()):04X} at character {match.start()}"


def decode(data: bytes, kind: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InputError("too_large", f"{len(data)} bytes > {MAX_FILE_BYTES}")
    if not data.strip():
        raise InputError("empty_file")
    if b"\x00" in data:
        raise InputError(f"malformed_{kind}", "binary data (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"malformed_{kind}", f"not UTF-8: {exc.reason} at byte {exc.start}") from None


def parse_transcript_json(data: bytes) -> list[Cue]:
    """TED ``transcript.json``: ``{"paragraphs": [{"cues": [{"time": ms, "text": str}]}]}``."""
    try:
        doc = json.loads(decode(data, "json"))
    except json.JSONDecodeError as exc:
        raise InputError("malformed_json", f"line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise InputError("malformed_json", "nested too deeply") from None
    paragraphs = doc.get("paragraphs") if isinstance(doc, dict) else None
    if not isinstance(paragraphs, list):
        raise InputError("malformed_json", "no 'paragraphs' list")
    starts: list[tuple[int, str, int]] = []
    for p_index, paragraph in enumerate(paragraphs):
        cues = paragraph.get("cues") if isinstance(paragraph, dict) else None
        if not isinstance(cues, list):
            raise InputError("malformed_json", f"paragraph {p_index} has no 'cues' list")
        for c_index, cue in enumerate(cues):
            if not isinstance(cue, dict):
                raise InputError("malformed_json", f"paragraph {p_index} cue {c_index} is not an object")
            time, text = cue.get("time"), cue.get("text")
            if isinstance(time, bool) or not isinstance(time, (int, float)) or not isinstance(text, str):
                raise InputError("malformed_json", f"paragraph {p_index} cue {c_index}: bad 'time' or 'text' type")
            if time < 0 or time != time or time > 1e9:
                raise InputError("malformed_json", f"paragraph {p_index} cue {c_index}: time {time!r} out of range")
            if problem := unicode_problem(text):
                raise InputError("malformed_json", f"paragraph {p_index} cue {c_index}: {problem}")
            starts.append((int(time), text, p_index))
    if not starts:
        raise InputError("empty_track", "no cues")
    starts.sort(key=lambda item: item[0])  # stable: equal times keep source order
    cues = []
    for i, (start, text, paragraph) in enumerate(starts):
        if i + 1 < len(starts):
            end = max(start, starts[i + 1][0])
        else:
            end = start + min(MAX_LAST_CUE_MS, MS_PER_CHAR * max(1, len(text)))
        cues.append(Cue(float(start), float(end), text, paragraph))
    return cues


class VttCues(NamedTuple):
    cues: list[Cue]
    malformed: list[str]  # the text of each cue block that did not parse: a ``malformed_cue`` drop


def parse_vtt_chunks(chunks: list[bytes]) -> VttCues:
    """TED's HLS WebVTT: ``<lang>.vtt``, ``.vtt.1``, ... concatenated in order.

    The last cue of a chunk is usually repeated as the first cue of the next one; an exact
    repeat (same times, same text) is dropped. Missing chunks are the caller's concern.

    A cue block that does not parse (a malformed timing line such as ``00:00:04,000``, ``->``,
    ``00:99:00.000`` or none at all, or an end before its start) costs that cue, not the track:
    its text is returned in ``malformed`` for ``drops.parquet``. A chunk without any cue, empty
    or header-only, is a failed download rather than a silence (TED's chunks always hold
    cues), so it costs the track (``empty_chunk``), whichever chunk it is.
    """
    cues: list[Cue] = []
    malformed: list[str] = []
    for index, data in enumerate(chunks):
        try:
            text = decode(data, "vtt")
        except InputError as exc:
            if exc.reason == "empty_file" and len(chunks) > 1:
                raise InputError("empty_chunk", f"chunk {index} of {len(chunks)} is empty", index) from None
            raise InputError(exc.reason, f"chunk {index}: {exc.detail}" if len(chunks) > 1 else exc.detail, index) from None
        try:
            captions = webvtt.from_string(text).captions
        except (MalformedFileError, ValueError, IndexError) as exc:
            raise InputError("malformed_vtt", f"chunk {index}: {exc or type(exc).__name__}", index) from None
        blocks = _cue_blocks(text)
        if len(blocks) != len(captions):  # the library skipped some block: find which, one by one
            captions, bad = _parse_blocks(blocks)
            malformed += bad
        if not captions and not blocks:
            if len(chunks) > 1:
                raise InputError("empty_chunk", f"chunk {index} of {len(chunks)} has no cues (header only)", index)
            continue
        for caption in captions:
            start = caption.start_time.in_milliseconds()
            end = caption.end_time.in_milliseconds()
            if end < start:
                malformed.append(caption.text)
                continue
            cue = Cue(float(start), float(end), caption.text)
            if cues and cues[-1] == cue:
                continue
            cues.append(cue)
    if not cues:
        if malformed:
            raise InputError("malformed_vtt", f"none of its {len(malformed)} cue blocks parses")
        raise InputError("empty_track", "no cues")
    return VttCues(cues, malformed)


_NOT_CUES = ("NOTE", "STYLE", "REGION")  # WebVTT blocks that hold no subtitle text


def _cue_blocks(text: str) -> list[list[str]]:
    """The blocks of a WebVTT file that should be cues, split as WebVTT (and webvtt-py) split
    them: at an empty line, or at a ``-->`` line that cannot be the current block's timing
    line. The header, and blocks without ``-->`` that are NOTE/STYLE/REGION or only whitespace
    (no text to lose), are left out."""
    blocks: list[list[str]] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if not line or (block and "-->" in line and (not blocks or len(block) > 1 or "-->" in block[0])):
            if block:
                blocks.append(block)
            block = []
        if line:
            block.append(line)
    cues = []
    for block in blocks[1:]:  # blocks[0] is the header (WEBVTT ...)
        if not any("-->" in line for line in block):
            words = block[0].split(maxsplit=1)
            if (words and words[0] in _NOT_CUES) or not any(line.strip() for line in block):
                continue
        cues.append(block)
    return cues


def _parse_blocks(blocks: list[list[str]]) -> tuple[list, list[str]]:
    """Each block parsed on its own: the captions, and the text of those that do not parse
    (the lines after the timing line, or the whole block when it has none)."""
    captions, malformed = [], []
    for block in blocks:
        parsed = webvtt.from_string("WEBVTT\n\n" + "\n".join(block)).captions
        if len(parsed) == 1:
            captions.append(parsed[0])
            continue
        arrow = next((i for i, line in enumerate(block) if "-->" in line), None)
        lines = block if arrow is None else block[arrow + 1:]
        malformed.append("\n".join(lines) if lines else "\n".join(block))
    return captions, malformed


@dataclass
class MtevalDoc:
    docid: str
    meta: dict
    segments: list[str] = field(default_factory=list)


def parse_mteval(data: bytes) -> dict[str, MtevalDoc]:
    """WIT3/IWSLT mteval XML: ``<doc docid>`` with ``<talkid>``, metadata and ``<seg id>``.

    Segments are returned in ``seg id`` order. Raises InputError on malformed XML.
    """
    decode(data, "xml")  # size, emptiness and binary checks
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several types: ParseError, EntitiesForbidden, ...
        raise InputError("malformed_xml", f"{type(exc).__name__}: {exc}") from None
    docs: dict[str, MtevalDoc] = {}
    for doc in root.iter("doc"):
        docid = (doc.get("docid") or "").strip()
        talkid = (doc.findtext("talkid") or docid).strip()
        if not talkid.isdigit():
            raise InputError("malformed_xml", f"doc {docid!r} has no numeric talkid")
        meta = {key: (doc.findtext(key) or "").strip() for key in ("url", "title", "speaker", "keywords", "description")}
        numbered = []
        for seg in doc.iter("seg"):
            seg_id = seg.get("id", "")
            if not seg_id.isdigit():
                raise InputError("malformed_xml", f"doc {docid}: seg without numeric id")
            numbered.append((int(seg_id), "".join(seg.itertext())))
        numbered.sort(key=lambda item: item[0])
        docs[talkid] = MtevalDoc(talkid, meta, [text for _, text in numbered])
    if not docs:
        raise InputError("malformed_xml", "no <doc> elements")
    return docs
