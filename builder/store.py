"""Read stage for a raw store: ``RAW/<talk_id>/{meta.json, <lang>.json, <lang>.vtt[.N]}``.

Names on disk may come from the network (the crawler writes them), so nothing here turns a
name into a path without checking it against a strict pattern first.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

from . import languages
from .parse import InputError, decode, parse_transcript_json, parse_vtt_chunks
from .records import Skip, Talk, Track

SYNTHETIC_MARKER = ".synthetic.json"
TALK_DIR = re.compile(r"^[1-9][0-9]{0,9}$")
LANG_FILE = re.compile(r"^(?P<code>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2})\.(?P<ext>json|vtt)(?:\.(?P<chunk>[0-9]{1,4}))?$")
META_FIELDS = {
    "id": int, "slug": str, "title": str, "speaker": str, "published": str, "description": str,
    "topics": list, "languages": list, "duration_s": int, "url": str,
}


def discover(root: Path) -> tuple[list[Path], list[Skip]]:
    """Talk folders under ``root`` in numeric order, and the entries that are not talks."""
    talks, skips = [], []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and TALK_DIR.match(entry.name):
            talks.append(entry)
        else:
            skips.append(Skip("talk", "not_a_talk_folder", path=entry.name, detail="expected RAW/<numeric talk id>/"))
    talks.sort(key=lambda p: int(p.name))
    return talks, skips


def languages_in(folder: Path) -> set[str]:
    """Registry codes of the language files in one talk folder (unknown codes are left out)."""
    found = set()
    for name in os.listdir(folder):
        match = LANG_FILE.match(name)
        if match:
            try:
                found.add(languages.from_ted(match["code"]).code)
            except languages.UnknownLanguageError:
                pass  # read_talk reports it
    return found


def synthetic_marker(root: Path) -> dict | None:
    """The marker ``ted2025 synth`` / ``ted2025 sample`` leave in a synthetic store, if any."""
    marker = root / SYNTHETIC_MARKER
    if not marker.is_file():
        return None
    try:
        doc = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {"generator": "unknown"}
    return doc if isinstance(doc, dict) else {"generator": "unknown"}


def read_talk(folder: Path, wanted: frozenset[str] | None = None) -> tuple[Talk | None, list[Skip]]:
    """Parse every usable track of one talk. Bad tracks become skips, never exceptions."""
    talk_id = int(folder.name)
    skips: list[Skip] = []
    json_files: dict[str, Path] = {}
    vtt_chunks: dict[str, dict[int, Path]] = defaultdict(dict)
    for path in sorted(folder.iterdir()):
        if path.name == "meta.json" or path.name.startswith("."):
            continue
        match = LANG_FILE.match(path.name)
        if not match or not path.is_file():
            skips.append(Skip("track", "unrecognised_file", talk_id, path=path.name))
            continue
        try:
            code = languages.from_ted(match["code"]).code  # file names are TED codes: zh is Cantonese
        except languages.UnknownLanguageError:
            if match["chunk"] is None:
                skips.append(Skip("track", "unknown_language", talk_id, match["code"], path.name))
            continue
        if wanted is not None and code not in wanted:
            continue
        if match["ext"] == "json":
            json_files[code] = path
        else:
            vtt_chunks[code][int(match["chunk"] or 0)] = path

    tracks: dict[str, Track] = {}
    for code in sorted(set(json_files) | set(vtt_chunks), key=languages.rank):
        try:
            if code in json_files:  # TED's own JSON wins over subtitles: it has paragraphs
                path = json_files[code]
                track = Track(talk_id, code, parse_transcript_json(path.read_bytes()), "json")
            else:
                chunks = vtt_chunks[code]
                path = chunks.get(0, next(iter(chunks.values())))
                missing = sorted(set(range(max(chunks) + 1)) - set(chunks))
                if missing:
                    raise InputError("chunk_gap", f"missing chunk(s) {missing}")
                track = Track(talk_id, code, parse_vtt_chunks([chunks[i].read_bytes() for i in sorted(chunks)]), "vtt")
        except InputError as exc:
            skips.append(Skip("track", exc.reason, talk_id, code, path.name, exc.detail))
            continue
        tracks[code] = track

    meta, meta_skip = read_meta(folder / "meta.json", talk_id)
    if meta_skip:
        skips.append(meta_skip)
    if len(tracks) < 2:
        reason = "single_language" if tracks else "no_usable_track"
        skips.append(Skip("talk", reason, talk_id, detail=f"usable languages: {sorted(tracks) or 'none'}"))
        return None, skips
    return Talk(talk_id, tracks, meta, "raw"), skips


def read_meta(path: Path, talk_id: int) -> tuple[dict, Skip | None]:
    """meta.json is optional. Only known fields of the right type are kept."""
    if not path.exists():
        return {}, None
    try:
        doc = json.loads(decode(path.read_bytes(), "json"))
        if not isinstance(doc, dict):
            raise InputError("malformed_meta", "not a JSON object")
    except (InputError, json.JSONDecodeError, RecursionError) as exc:
        return {}, Skip("track", "malformed_meta", talk_id, path="meta.json", detail=str(exc))
    meta = {key: doc[key] for key, kind in META_FIELDS.items() if isinstance(doc.get(key), kind)}
    for key in ("topics", "languages"):
        if key in meta:
            meta[key] = [str(item) for item in meta[key] if isinstance(item, (str, int))]
    return meta, None
