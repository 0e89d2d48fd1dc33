"""Parse stage: bytes of one source file -> :class:`~builder.records.Cue` lists.

Every parser raises :class:`~builder.records.InputError` with a short reason on bad input,
so that the pipeline can skip the track and count why. Nothing here touches the filesystem
except :func:`parse_mteval`, which reads one XML file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET
import webvtt
from webvtt.errors import MalformedFileError

from .records import Cue, InputError

MAX_FILE_BYTES = 20 * 1024 * 1024  # a long TED transcript is ~100 kB; anything this big is not one
# TED JSON gives start times only. The last cue's end is estimated from its length.
MS_PER_CHAR = 70
MAX_LAST_CUE_MS = 8000


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


def parse_vtt_chunks(chunks: list[bytes]) -> list[Cue]:
    """TED's HLS WebVTT: ``<lang>.vtt``, ``.vtt.1``, ... concatenated in order.

    The last cue of a chunk is usually repeated as the first cue of the next one; an exact
    repeat (same times, same text) is dropped. Missing chunks are the caller's concern.
    """
    cues: list[Cue] = []
    for index, data in enumerate(chunks):
        text = decode(data, "vtt")
        try:
            captions = webvtt.from_string(text).captions
        except (MalformedFileError, ValueError, IndexError) as exc:
            raise InputError("malformed_vtt", f"chunk {index}: {exc or type(exc).__name__}") from None
        for caption in captions:
            start = caption.start_time.in_milliseconds()
            end = caption.end_time.in_milliseconds()
            if end < start:
                raise InputError("malformed_vtt", f"chunk {index}: cue ends before it starts at {caption.start}")
            cue = Cue(float(start), float(end), caption.text)
            if cues and cues[-1] == cue:
                continue
            cues.append(cue)
    if not cues:
        raise InputError("empty_track", "no cues")
    return cues


@dataclass
class MtevalDoc:
    docid: str
    meta: dict
    segments: list[str] = field(default_factory=list)


def parse_mteval(path: Path) -> dict[str, MtevalDoc]:
    """WIT3/IWSLT mteval XML: ``<doc docid>`` with ``<talkid>``, metadata and ``<seg id>``.

    Segments are returned in ``seg id`` order. Raises InputError on malformed XML.
    """
    data = path.read_bytes()
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
