"""Read stage for a raw store: ``RAW/<talk_id>/{meta.json, <lang>.json, <lang>.vtt[.N]}``
(the layout and its names: :mod:`builder.rawstore`).

A store comes from a days-long crawl or from someone else's dump, so everything in it is
untrusted, and this module is its edge: one bad file costs that file (a :class:`Skip` with a
reason and the file's name), never the build.

- Names are matched whole (``fullmatch``: a trailing newline is no talk id) before they become
  paths, and are shown in the report in a form JSON can hold (:func:`shown`).
- Files are opened only if they are regular files inside the store (a link out of it is
  ``outside_store``; a FIFO, device or folder is ``not_a_regular_file``), and read only up to
  :data:`~builder.parse.MAX_FILE_BYTES` (``too_large`` is decided from ``fstat`` before any read).
- Text is checked as JSON gives it: a lone surrogate makes the transcript ``malformed_json``
  and a meta.json field ``malformed_meta`` (:func:`~builder.parse.unicode_problem`).
- One track per language. Candidates, first usable wins: ``<code>.json`` spelled as the
  registry spells the TED code (lower case), other spellings of it (``EN.json``), then the
  WebVTT chunks. TED's JSON wins because it has paragraphs. Every other candidate file is a
  ``duplicate_track`` skip naming the file kept; so is a second file for one chunk
  (``fr.vtt`` and ``fr.vtt.0``, ``fr.vtt.1`` and ``fr.vtt.01``: the plain spelling wins).
"""

from __future__ import annotations

import json
import os
import stat
from collections import defaultdict
from pathlib import Path

from . import languages
from .parse import MAX_FILE_BYTES, InputError, decode, parse_transcript_json, parse_vtt_chunks, unicode_problem
from .rawstore import LANG_FILE, META_FIELDS, META_FILE, SYNTHETIC_MARKER, TALK_DIR
from .records import Skip, Talk, Track

_FILE_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}  # links are resolved first


def shown(name: str) -> str:
    """A file name as the report shows it: as is when printable, else escaped (a name that is
    not UTF-8, or holds a newline, cannot go into JSON or a terminal as it is)."""
    if name.isprintable() and unicode_problem(name) is None:
        return name
    text = os.fsencode(name).decode("utf-8", "backslashreplace")  # b"\xff" -> the 4 characters \xff
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def read_file(path: Path, root: Path) -> bytes:
    """The bytes of ``path``, a regular file inside ``root`` of at most MAX_FILE_BYTES, or
    InputError. Never blocks (a FIFO is opened non-blocking and refused) and never reads more
    than the limit (a 3 GiB sparse file is refused from its size, /dev/zero from its type)."""
    try:
        resolved = path.resolve(strict=True)
    except FileNotFoundError:
        raise InputError("unreadable_file", "a broken link" if path.is_symlink() else "not found") from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on older Pythons
        raise InputError("unreadable_file", type(exc).__name__) from None
    if not resolved.is_relative_to(root.resolve()):
        raise InputError("outside_store", f"a link to {shown(str(resolved))}, outside the store")
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError("unreadable_file", exc.strerror or type(exc).__name__) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError("not_a_regular_file", _FILE_KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file"))
    with os.fdopen(fd, "rb") as f:
        if info.st_size > MAX_FILE_BYTES:
            raise InputError("too_large", f"{info.st_size} bytes > {MAX_FILE_BYTES}")
        try:
            return f.read(MAX_FILE_BYTES + 1)  # decode() refuses a file that grew past the limit
        except OSError as exc:
            raise InputError("unreadable_file", exc.strerror or type(exc).__name__) from None


def discover(root: Path) -> tuple[list[Path], list[Skip]]:
    """Talk folders under ``root`` in numeric order, and the entries that are not talks."""
    talks, skips = [], []
    inside = root.resolve()
    for entry in sorted(root.iterdir(), key=lambda p: os.fsencode(p.name)):
        if entry.name.startswith("."):
            continue
        name = shown(entry.name)
        if not TALK_DIR.fullmatch(entry.name):
            skips.append(Skip("talk", "not_a_talk_folder", path=name, detail="expected RAW/<numeric talk id>/"))
        elif entry.is_symlink() and not entry.resolve().is_relative_to(inside):
            skips.append(Skip("talk", "outside_store", int(entry.name), path=name, detail="a link out of the store"))
        elif not entry.is_dir():
            skips.append(Skip("talk", "not_a_talk_folder", int(entry.name), path=name, detail="not a folder"))
        else:
            talks.append(entry)
    talks.sort(key=lambda p: int(p.name))
    return talks, skips


def languages_in(folder: Path) -> set[str]:
    """Registry codes of the language files in one talk folder (unknown codes are left out)."""
    found = set()
    for name in os.listdir(folder):
        match = LANG_FILE.fullmatch(name)
        if match:
            try:
                found.add(languages.from_ted(match["code"]).code)
            except languages.UnknownLanguageError:
                pass  # read_talk reports it
    return found


def synthetic_marker(root: Path) -> dict | None:
    """The marker ``ted2025 synth`` / ``ted2025 sample`` leave in a synthetic store, if any."""
    marker = root / SYNTHETIC_MARKER
    if not marker.exists():
        return None
    try:
        doc = json.loads(decode(read_file(marker, root), "json"))
    except (InputError, ValueError, RecursionError):
        return {"generator": "unknown"}
    return doc if isinstance(doc, dict) and unicode_problem(json.dumps(doc, ensure_ascii=False)) is None else {"generator": "unknown"}


def read_talk(folder: Path, wanted: frozenset[str] | None = None, root: Path | None = None) -> tuple[Talk | None, list[Skip]]:
    """Parse every usable track of one talk. Bad files become skips, never exceptions.
    ``root`` is the store (default: the folder's parent); no file outside it is read."""
    root = folder.parent if root is None else root
    talk_id = int(folder.name)
    skips: list[Skip] = []
    json_files: dict[str, list[Path]] = defaultdict(list)
    vtt_chunks: dict[str, dict[int, list[Path]]] = defaultdict(lambda: defaultdict(list))
    unknown: dict[str, str] = {}
    for path in sorted(folder.iterdir(), key=lambda p: os.fsencode(p.name)):
        if path.name == META_FILE or path.name.startswith("."):
            continue
        match = LANG_FILE.fullmatch(path.name)
        if not match:
            skips.append(Skip("track", "unrecognised_file", talk_id, path=shown(path.name)))
            continue
        try:
            code = languages.from_ted(match["code"]).code  # file names are TED codes: zh is Cantonese
        except languages.UnknownLanguageError:
            unknown.setdefault(match["code"], path.name)
            continue
        if wanted is not None and code not in wanted:
            continue
        if match["ext"] == "json":
            json_files[code].append(path)
        else:
            vtt_chunks[code][int(match["chunk"] or 0)].append(path)
    for ted_code, name in unknown.items():
        skips.append(Skip("track", "unknown_language", talk_id, ted_code, name))

    tracks: dict[str, Track] = {}
    for code in sorted(set(json_files) | set(vtt_chunks), key=languages.rank):
        candidates = [[path] for path in sorted(json_files.get(code, ()), key=_spelling)]
        if code in vtt_chunks:
            candidates.append(_chunk_set(vtt_chunks[code], talk_id, code, skips))
        for files in candidates:
            if not files:  # a chunk is missing: reported by _chunk_set
                continue
            track = _read_track(files, talk_id, code, root, skips)
            if track is not None:
                tracks[code] = track
                for other in candidates:
                    if other is not files:
                        skips += [Skip("track", "duplicate_track", talk_id, code, shown(path.name),
                                       f"another file for {code}: kept {files[0].name}") for path in other]
                break

    meta, meta_skips = read_meta(folder / META_FILE, talk_id, root)
    skips += meta_skips
    if len(tracks) < 2:
        reason = "single_language" if tracks else "no_usable_track"
        skips.append(Skip("talk", reason, talk_id, detail=f"usable languages: {sorted(tracks) or 'none'}"))
        return None, skips
    return Talk(talk_id, tracks, meta, "raw"), skips


def _spelling(path: Path) -> tuple[bool, bytes]:
    """Sort key of candidate files: the lower-case spelling (TED's, the registry's) first."""
    return path.name != path.name.lower(), os.fsencode(path.name)


def _chunk_set(chunks: dict[int, list[Path]], talk_id: int, code: str, skips: list[Skip]) -> list[Path]:
    """One file per chunk, in chunk order (the plain spelling of each number wins), or [] when a
    chunk is missing."""
    files = []
    for index in sorted(chunks):
        plain = f".vtt.{index}" if index else ".vtt"
        spelled = sorted(chunks[index], key=lambda p: (not p.name.lower().endswith(plain), *_spelling(p)))
        files.append(spelled[0])
        skips += [Skip("track", "duplicate_track", talk_id, code, shown(path.name),
                       f"a second file for chunk {index}: kept {spelled[0].name}") for path in spelled[1:]]
    missing = sorted(set(range(max(chunks) + 1)) - set(chunks))
    if missing:
        skips.append(Skip("track", "chunk_gap", talk_id, code, shown(files[0].name), f"missing chunk(s) {missing}"))
        return []
    return files


def _read_track(files: list[Path], talk_id: int, code: str, root: Path, skips: list[Skip]) -> Track | None:
    """The track in ``files`` (one JSON, or the WebVTT chunks in order), or None and a skip
    naming the file at fault."""
    try:
        if files[0].name.lower().endswith(".json"):
            return Track(talk_id, code, parse_transcript_json(read_file(files[0], root)), "json")
        chunks = []
        for index, path in enumerate(files):
            try:
                chunks.append(read_file(path, root))
            except InputError as exc:
                exc.chunk = index
                raise
        parsed = parse_vtt_chunks(chunks)
        return Track(talk_id, code, parsed.cues, "vtt", malformed=parsed.malformed)
    except InputError as exc:
        at_fault = files[exc.chunk or 0]
        skips.append(Skip("track", exc.reason, talk_id, code, shown(at_fault.name), exc.detail))
        return None


def read_meta(path: Path, talk_id: int, root: Path | None = None) -> tuple[dict, list[Skip]]:
    """meta.json is optional. Only known fields of the right type and valid text are kept;
    a field that is dropped, or a file that cannot be used, is a ``malformed_meta`` skip."""
    if not os.path.lexists(path):
        return {}, []
    try:  # a file that cannot be read keeps read_file's reason, as a track file does
        data = read_file(path, path.parent.parent if root is None else root)
    except InputError as exc:
        return {}, [Skip("track", exc.reason, talk_id, path=META_FILE, detail=exc.detail)]
    try:
        doc = json.loads(decode(data, "json"))
        if not isinstance(doc, dict):
            raise InputError("malformed_meta", "not a JSON object")
    except (InputError, json.JSONDecodeError, RecursionError) as exc:
        return {}, [Skip("track", "malformed_meta", talk_id, path=META_FILE, detail=str(exc))]
    meta = {key: doc[key] for key, kind in META_FIELDS.items() if isinstance(doc.get(key), kind)}
    for key in ("topics", "languages"):
        if key in meta:
            meta[key] = [str(item) for item in meta[key] if isinstance(item, (str, int))]
    skips = []
    for key in list(meta):
        problem = unicode_problem(json.dumps(meta[key], ensure_ascii=False))
        if problem:
            del meta[key]
            skips.append(Skip("track", "malformed_meta", talk_id, path=META_FILE, detail=f"field {key!r} left out: {problem}"))
    return meta, skips
