"""builder/splits.py: the --splits spec, and a talk's split from its id alone."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.splits import DEFAULT_SPLITS, assign, parse_splits, talk_position


def test_a_spec_parses_in_order_with_spaces_around_items():
    assert parse_splits("train=0.9, validation=0.05 ,test=0.05") == {"train": 0.9, "validation": 0.05, "test": 0.05}
    assert list(parse_splits("test=0.5,train=0.5")) == ["test", "train"]
    assert parse_splits("all=1") == {"all": 1.0}


@pytest.mark.parametrize("spec, message", [
    ("train", "expected name=fraction"),
    ("Train=1", "expected name=fraction"),
    ("1st=1", "expected name=fraction"),
    ("a" * 33 + "=1", "expected name=fraction"),
    ("train=0.5,,test=0.5", "expected name=fraction"),
    ("train=0.5,train=0.5", "given twice"),
    ("train=half,test=0.5", "bad fraction"),
    ("train=1.5,test=-0.5", "must be in [0, 1]"),
    ("train=nan,test=1", "must be in [0, 1]"),
    ("train=0.5", "sum to 1"),
    ("train=0.6,test=0.6", "sum to 1"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_splits(spec)


@given(st.text(max_size=40))
def test_any_spec_parses_to_valid_splits_or_raises_value_error(spec):
    try:
        splits = parse_splits(spec)
    except ValueError:
        return
    assert splits and abs(sum(splits.values()) - 1) <= 1e-6
    assert all(0 <= fraction <= 1 for fraction in splits.values())


@given(st.lists(st.integers(0, 100), min_size=1, max_size=5).filter(sum))
def test_formatted_fractions_parse_back(weights):
    fractions = [w / sum(weights) for w in weights]
    spec = ",".join(f"split_{i}={f!r}" for i, f in enumerate(fractions))
    assert list(parse_splits(spec).values()) == fractions


def test_talk_positions_are_stable_and_in_the_unit_interval():
    positions = [talk_position(t) for t in range(1, 2001)]
    assert all(0 <= p < 1 for p in positions) and positions == [talk_position(t) for t in range(1, 2001)]
    assert len(set(positions)) == len(positions)


def test_split_of_a_talk_is_pinned_across_versions():
    """Changing the hash or its key would move published talks between splits."""
    expected = {1: "train", 13: "validation", 20: "validation", 53: "test", 64: "test", 1500: "train", 30000: "test"}
    assert {t: assign(t, DEFAULT_SPLITS) for t in expected} == expected


def test_proportions_follow_the_fractions():
    splits = {"train": 0.8, "validation": 0.15, "test": 0.05}
    counts = Counter(assign(t, splits) for t in range(1, 20001))
    for name, fraction in splits.items():
        assert abs(counts[name] / 20000 - fraction) < 0.01, name


def test_a_talk_keeps_its_split_whatever_else_is_built_and_however_the_rest_is_split():
    ids = range(1, 3001)
    before = {t: assign(t, {"train": 0.9, "validation": 0.05, "test": 0.05}) for t in ids}
    after = {t: assign(t, {"train": 0.9, "validation": 0.1}) for t in ids}  # the remainder re-split
    assert {t for t in ids if before[t] == "train"} == {t for t in ids if after[t] == "train"}


@settings(max_examples=100)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=4).filter(sum), st.integers(1, 10**9))
def test_a_split_with_no_share_gets_no_talk(weights, talk_id):
    splits = {f"s{i}": w / sum(weights) for i, w in enumerate(weights)}
    name = assign(talk_id, splits)
    assert name in splits and assign(talk_id, splits) == name
    assert splits[name] > 0 or name == next(reversed(splits))  # rounding: the last split takes the remainder
