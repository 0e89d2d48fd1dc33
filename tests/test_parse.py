"""Parsers: TED transcript JSON and WebVTT chunks, and the reasons they give for bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.parse import parse_transcript_json, parse_vtt_chunks
from builder.records import InputError


def vtt(*cues: tuple[str, str, str]) -> bytes:
    body = "\n\n".join(f"{a} --> {b}\n{text}" for a, b, text in cues)
    return f"WEBVTT\n\n{body}\n".encode()


def test_transcript_json_starts_become_intervals():
    doc = {"paragraphs": [{"cues": [{"time": 0, "text": "Hi."}, {"time": 1500, "text": "There."}]},
                          {"cues": [{"time": 4000, "text": "End."}]}]}
    cues = parse_transcript_json(json.dumps(doc).encode())
    assert [(c.start, c.end, c.paragraph) for c in cues] == [(0, 1500, 0), (1500, 4000, 0), (4000, 4280, 1)]


@pytest.mark.parametrize("data, reason", [
    (b"", "empty_file"),
    (b"{not json", "malformed_json"),
    (b"[]", "malformed_json"),
    (b'{"paragraphs": [{"cues": [{"time": "0", "text": "x"}]}]}', "malformed_json"),
    (b'{"paragraphs": [{"cues": [{"time": true, "text": "x"}]}]}', "malformed_json"),
    (b'{"paragraphs": [{"cues": [{"time": -5, "text": "x"}]}]}', "malformed_json"),
    (b'{"paragraphs": []}', "empty_track"),
    (b"\x00\x01\x02binary", "malformed_json"),
    (b"\xff\xfe\xfa", "malformed_json"),
])
def test_bad_transcript_json_names_the_problem(data, reason):
    with pytest.raises(InputError) as info:
        parse_transcript_json(data)
    assert info.value.reason == reason


def test_vtt_chunks_drop_the_repeated_boundary_cue():
    first = vtt(("00:00:01.404", "00:00:04.912", "one"), ("00:00:04.936", "00:00:06.666", "two"))
    second = vtt(("00:00:04.936", "00:00:06.666", "two"), ("00:00:06.690", "00:00:08.785", "three"))
    cues, malformed = parse_vtt_chunks([first, second])
    assert [c.text for c in cues] == ["one", "two", "three"] and malformed == []
    assert cues[0].start == 1404 and cues[-1].end == 8785


def test_vtt_not_repeating_the_boundary_cue_keeps_everything():
    first = vtt(("00:01:28.000", "00:01:28.129", "a"))
    second = vtt(("00:01:30.011", "00:01:31.000", "b"))
    assert [c.text for c in parse_vtt_chunks([first, second]).cues] == ["a", "b"]


@pytest.mark.parametrize("data, reason", [
    (b"garbage", "malformed_vtt"),
    (b"WEBVTT\n\n", "empty_track"),
    (b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nbackwards\n", "malformed_vtt"),
])
def test_bad_vtt_names_the_problem(data, reason):
    with pytest.raises(InputError) as info:
        parse_vtt_chunks([data])
    assert info.value.reason == reason


def test_a_lone_surrogate_makes_the_transcript_malformed_but_a_pair_is_text():
    lone = b'{"paragraphs": [{"cues": [{"time": 0, "text": "a\\ud800b"}]}]}'
    with pytest.raises(InputError) as info:
        parse_transcript_json(lone)
    assert info.value.reason == "malformed_json" and "lone surrogate U+D800" in info.value.detail
    pair = b'{"paragraphs": [{"cues": [{"time": 0, "text": "\\ud83d\\ude00"}]}]}'
    assert parse_transcript_json(pair)[0].text == "\U0001F600"


@pytest.mark.parametrize("timing", [
    "00:00:04,000 --> 00:00:05.000",  # comma
    "00:00:04.000 -> 00:00:05.000",  # short arrow
    "00:99:00.000 --> 00:99:01.000",  # 99 minutes
    "-00:00:04.000 --> 00:00:05.000",  # negative
    "00:00:04.0000 --> 00:00:05.000",  # four-digit ms
    "ab:cd:ef.ghi --> 00:00:05.000",  # letters
    "00:00:06.000 --> 00:00:04.000",  # ends before it starts
    None,  # no timing line at all
])
def test_a_cue_that_does_not_parse_is_dropped_with_its_text_not_lost(timing):
    block = "lost words" if timing is None else f"{timing}\nlost words"
    data = f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nbefore\n\n{block}\n\n00:00:07.000 --> 00:00:08.000\nafter\n"
    cues, malformed = parse_vtt_chunks([data.encode()])
    assert [c.text for c in cues] == ["before", "after"]
    assert len(malformed) == 1 and "lost words" in malformed[0]


def test_vtt_comments_styles_and_identifiers_are_not_malformed():
    data = (b"WEBVTT\nKind: captions\n\nSTYLE\n::cue { color: red }\n\nNOTE a comment\n\n   \n\n"
            b"1\n00:00:01.000 --> 00:00:02.000 align:left\none\n00:00:03.000 --> 00:00:04.000\ntwo\n")
    cues, malformed = parse_vtt_chunks([data])
    assert [c.text for c in cues] == ["one", "two"] and malformed == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["WEBVTT", "", " ", "\t", "1", "text", "more words",  # NOTE blocks: the test above
                                 "00:00:01.000 --> 00:00:02.000", "00:00:03.000-->00:00:02.000", "00:99:00.000 --> 01:00:00.000",
                                 "0:0:1.5 --> 0:0:2", "-->", "->", "\u00e9\u200b"]), max_size=30))
def test_any_webvtt_text_gives_cues_or_an_input_error_and_loses_no_text(lines):
    try:
        cues, malformed = parse_vtt_chunks([("WEBVTT\n\n" + "\n".join(lines)).encode()])
    except InputError:
        return
    kept = "\n".join([c.text for c in cues] + malformed)
    # Subtitle text is in a cue or a malformed block; a line right above a timing line may be
    # that cue's identifier, which WebVTT does not count as text.
    following = [*lines[1:], ""]
    for word in ("text", "more words", "\u00e9\u200b"):
        assert sum(line == word and "-->" not in after for line, after in zip(lines, following)) <= kept.count(word)


@pytest.mark.parametrize("hole", [b"", b"  \n", b"WEBVTT\n\n", b"WEBVTT\nKind: captions\n\nNOTE nothing\n"])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_an_empty_or_header_only_chunk_costs_the_track_wherever_it_is(hole, position):
    chunks = [vtt(("00:00:01.000", "00:00:02.000", "a")), vtt(("00:00:03.000", "00:00:04.000", "b"))]
    chunks.insert(position, hole)
    with pytest.raises(InputError) as info:
        parse_vtt_chunks(chunks)
    assert info.value.reason == "empty_chunk" and f"chunk {position} of 3" in info.value.detail
