"""Split stage: train / validation / test by talk, from a hash of the talk id.

A talk's split depends only on its id and the fractions, never on which other talks are in
the build, so adding talks to a later build does not move old talks between splits.
"""

from __future__ import annotations

import hashlib
import re

DEFAULT_SPLITS = {"train": 0.9, "validation": 0.05, "test": 0.05}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def parse_splits(spec: str) -> dict[str, float]:
    """``"train=0.9,validation=0.05,test=0.05"`` -> ordered {name: fraction}; fractions sum to 1."""
    splits: dict[str, float] = {}
    for item in spec.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(f"bad split {item!r} in {spec!r}: expected name=fraction, e.g. train=0.9")
        if name in splits:
            raise ValueError(f"split {name!r} given twice in {spec!r}")
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"bad fraction {value!r} for split {name!r}") from None
        if not 0 <= fraction <= 1:
            raise ValueError(f"fraction for split {name!r} must be in [0, 1], got {fraction}")
        splits[name] = fraction
    total = sum(splits.values())
    if abs(total - 1) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {total:g} in {spec!r}")
    return splits


def talk_position(talk_id: int) -> float:
    """A stable pseudo-random number in [0, 1) for a talk."""
    digest = hashlib.sha256(f"ted2025-split:{talk_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(talk_id: int, splits: dict[str, float]) -> str:
    position, cumulative = talk_position(talk_id), 0.0
    for name, fraction in splits.items():
        cumulative += fraction
        if position < cumulative:
            return name
    return next(reversed(splits))  # rounding: the last split takes the remainder
