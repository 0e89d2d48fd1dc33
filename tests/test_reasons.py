"""The reason tables of builder.records: every skip a stage records is defined there, once."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from builder.records import Drop, InputError, Skip, SkipReason

BUILDER = Path(__file__).resolve().parent.parent / "builder"


def reasons_written_in_builder() -> list[tuple[str, str]]:
    """(place, reason) for every Skip(...) and InputError(...) of builder/ whose reason is
    spelled in the call: a string, or an f-string over the parsers' file kinds."""
    found = []
    for path in sorted(BUILDER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            position = {"Skip": 1, "InputError": 0}.get(node.func.id)
            if position is None:
                continue
            args = node.args[position:position + 1] or [k.value for k in node.keywords if k.arg == "reason"]
            place = f"{path.relative_to(BUILDER.parent)}:{node.lineno}"
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((place, arg.value))
                elif isinstance(arg, ast.JoinedStr):  # f"malformed_{kind}" in builder.parse.decode
                    prefix = "".join(part.value for part in arg.values if isinstance(part, ast.Constant))
                    found += [(place, prefix + kind) for kind in ("json", "vtt", "xml")]
    return found


def test_every_reason_a_stage_writes_is_in_the_table():
    written = reasons_written_in_builder()
    assert len(written) > 30  # the scan sees the stages' calls
    unknown = [(place, reason) for place, reason in written if reason not in set(SkipReason)]
    assert not unknown


def test_a_reason_outside_the_table_is_refused():
    with pytest.raises(ValueError, match="malformed_jsn"):
        Skip("track", "malformed_jsn", 1, "en")
    with pytest.raises(ValueError, match="empty_fle"):
        InputError("empty_fle")


def test_reasons_read_and_serialise_as_their_keys():
    skip = Skip("track", "chunk_gap", 7, "de", "de.vtt.2", "missing chunk(s) [1]")
    assert skip.reason is SkipReason.CHUNK_GAP and skip.reason == "chunk_gap"
    assert json.loads(json.dumps(skip.as_dict()))["reason"] == "chunk_gap"
    assert str(InputError("too_large", "9 bytes > 8")) == "too_large: 9 bytes > 8"
    assert f"{Drop.LENGTH_RATIO}" == "length_ratio"


def test_every_reason_says_what_it_means():
    for reason in [*SkipReason, *Drop]:
        assert reason.what and reason.what != reason.value
    assert len({reason.value for reason in SkipReason} & {reason.value for reason in Drop}) == 0
