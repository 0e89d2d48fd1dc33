"""The raw-store layout: the one definition of its names, shared by the reader and the writers.

::

    RAW/.synthetic.json                   the marker of a generated store (builder.fixtures)
    RAW/<talk_id>/meta.json               the talk's metadata (META_FIELDS)
    RAW/<talk_id>/<ted_code>.json         a transcript as TED serves it
    RAW/<talk_id>/<ted_code>.vtt[.N]      or WebVTT, in chunks 0, 1, ... (WIT3-era dumps)

The crawler (:mod:`builder.crawl`) and the fixtures (:mod:`builder.fixtures`) write it; the read
stage (:mod:`builder.store`) reads it, trusting none of it.

- **Talk ids** are the integers 1 to 9,999,999,999: folder names of one to ten digits without a
  leading zero (:data:`TALK_DIR`). The reader enforces this, so it is the rule every writer follows:
  a folder it would not read as a talk is never written as one. Ten digits cover TED's ids (about
  100,000 today) many times over, and keep a folder name and its int round-tripping exactly.
- **Names are matched whole** (``fullmatch``): "12\\n" is no talk id, "en.json\\n" no transcript.
- **Dot files are not data**: the reader skips every name starting with ".". The marker, the
  crawler's state (``RAW/.crawl/``) and the temp files of :func:`write_atomic` live there.
- **A file that exists is complete**: every writer writes through :func:`write_atomic`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

SYNTHETIC_MARKER = ".synthetic.json"
META_FILE = "meta.json"
TALK_ID_DIGITS = 10
MAX_TALK_ID = 10**TALK_ID_DIGITS - 1
TALK_DIR = re.compile(rf"[1-9][0-9]{{0,{TALK_ID_DIGITS - 1}}}")  # use with fullmatch
TED_CODE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")  # a language code as a file name spells it
LANG_FILE = re.compile(rf"(?P<code>{TED_CODE.pattern})\.(?P<ext>json|vtt)(?:\.(?P<chunk>[0-9]{{1,4}}))?")
META_FIELDS = {
    "id": int, "slug": str, "title": str, "speaker": str, "published": str, "description": str,
    "topics": list, "languages": list, "duration_s": int, "url": str,
}
TEMP_PREFIX = ".tmp-"  # a dot file: a temp file left by a kill is never read as data


def is_talk_dir(name: str) -> bool:
    """Is ``name`` a talk folder's name (:data:`TALK_DIR`, matched whole)?"""
    return TALK_DIR.fullmatch(name) is not None


def check_talk_id(value) -> int:
    """``value`` if it is a talk id (an int from 1 to :data:`MAX_TALK_ID`), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TALK_ID:
        raise ValueError(f"talk ids are integers from 1 to {MAX_TALK_ID}, got {value!r}")
    return value


def parse_talk_id(text: str) -> int:
    """The talk id written in ``text`` (surrounding whitespace allowed), spelled as its folder is."""
    text = text.strip()
    if not is_talk_dir(text):
        raise ValueError(f"not a talk id: {text[:40]!r}")
    return check_talk_id(int(text))


def transcript_name(ted_code: str) -> str:
    """``<ted_code>.json``; AssertionError for a code that would not name a transcript file (codes
    come from the registry, so this is a second lock against a path from the network)."""
    name = f"{ted_code}.json"
    if not LANG_FILE.fullmatch(name):
        raise AssertionError(f"unsafe file name {name!r}")
    return name


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``path`` so that it is never seen half-written: a temp file in the same folder (a
    :data:`TEMP_PREFIX` dot file), renamed over ``path``. ``durable``: fsync the file before the
    rename and the folder after it, so a crash cannot leave an empty file under the final name
    (a store that is regenerated anyway may skip it: it costs a disk flush per file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        with contextlib.suppress(OSError):
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)


def remove_stale_temps(folder: Path) -> None:
    """Temp files of :func:`write_atomic` that a killed run left behind: partial by definition."""
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
                entry.unlink()
