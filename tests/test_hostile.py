"""Hostile raw stores and output folders: one bad file costs that file, never the build, and
nothing is lost without a reason in the report (issue 12).

The property test mixes any of the hostile files below with good talks in one store. For every
build: it exits 0, every good talk's text is in the output, every hostile file is named in the
report (or its text is in drops.parquet), and no (talk, segment) or talk appears twice.
"""

from __future__ import annotations

import json
import os
import resource
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import write
from builder.cli import main as cli
from builder.compose import build_corpus
from builder.records import InputError
from builder.store import read_file

SENTENCES = {
    "en": ["We heal wounds with our immune system today.", "Materials instruct the cells to grow new tissue.",
           "The body knows how to repair itself."],
    "de": ["Wir heilen heute Wunden mit unserem Immunsystem.", "Materialien weisen die Zellen an, neues Gewebe zu bilden.",
           "Der Körper weiß, wie er sich selbst repariert."],
    "fr": ["Nous guérissons les plaies avec notre système immunitaire.", "Les matériaux indiquent aux cellules de former un tissu.",
           "Le corps sait comment se réparer lui-même."],
}
GOOD_TALKS = (1, 2, 3)


def transcript(code: str, offset_ms: int = 0, text_of=lambda text: text) -> bytes:
    cues = [{"time": i * 3000 + offset_ms, "text": text_of(text)} for i, text in enumerate(SENTENCES[code])]
    return json.dumps({"paragraphs": [{"cues": cues}]}).encode()


def vtt(code: str, offset_ms: int = 0, bad_timing: str | None = None) -> bytes:
    blocks = []
    for i, text in enumerate(SENTENCES[code]):
        start, end = i * 3000 + offset_ms, i * 3000 + offset_ms + 2500
        timing = f"00:00:{start // 1000:02d}.{start % 1000:03d} --> 00:00:{end // 1000:02d}.{end % 1000:03d}"
        blocks.append(f"{bad_timing if i == 1 and bad_timing else timing}\n{text}")
    return ("WEBVTT\n\n" + "\n\n".join(blocks) + "\n").encode()


def good_talk(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "en.json").write_bytes(transcript("en"))
    (folder / "de.json").write_bytes(transcript("de", 40))
    (folder / "meta.json").write_text(json.dumps({"id": int(folder.name), "title": f"Talk {folder.name}"}))


# Each hostile kind writes into the store and returns what the report must show:
# (talk_id or None, file name as shown, a reason or None for "in drops.parquet").
def talk(root: Path, n: int) -> Path:
    """A good talk ``n`` whose folder a hostile kind then spoils."""
    good_talk(root / str(n))
    return root / str(n)


def with_files(name: str, files: dict[str, bytes], culprit: str, reason: str | None):
    """The hostile kind ``name``: a good talk plus ``files`` (meta.json replaced if given), of
    which ``culprit`` must be named with ``reason`` (None: ``culprit`` is text in drops.parquet)."""
    def kind(root, n):
        folder = talk(root, n)
        for file, data in files.items():
            (folder / file).write_bytes(data)
        return [(n, culprit, reason)]

    kind.__name__ = kind.__qualname__ = name
    return kind


lone_surrogate_cue = with_files(  # json.dumps writes the lone surrogate as the escape \ud800
    "lone_surrogate_cue", {"fr.json": transcript("fr", 10, lambda text: text + "\ud800")}, "fr.json", "malformed_json")
lone_surrogate_meta = with_files(
    "lone_surrogate_meta", {"meta.json": b'{"id": 1, "title": "bad \\ud800 title", "topics": ["x\\udfff"]}'},
    "meta.json", "malformed_meta")
malformed_cue_timing = with_files(
    "malformed_cue_timing", {"fr.vtt": vtt("fr", 20, bad_timing="00:00:04,000 --> 00:00:05.000")},
    SENTENCES["fr"][1], None)
header_only_middle_chunk = with_files(
    "header_only_middle_chunk", {"fr.vtt": vtt("fr", 20), "fr.vtt.1": b"WEBVTT\n\n", "fr.vtt.2": vtt("fr", 9000)},
    "fr.vtt.1", "empty_chunk")
json_spelled_twice = with_files("json_spelled_twice", {"EN.json": transcript("en", 5)}, "EN.json", "duplicate_track")
chunk_spelled_twice = with_files(
    "chunk_spelled_twice", {"fr.vtt": vtt("fr", 20), "fr.vtt.0": vtt("fr", 20)}, "fr.vtt.0", "duplicate_track")
json_and_vtt = with_files("json_and_vtt", {"de.vtt": vtt("de", 40)}, "de.vtt", "duplicate_track")
unknown_code_chunk = with_files("unknown_code_chunk", {"xx.vtt.1": vtt("fr")}, "xx.vtt.1", "unknown_language")


def non_utf8_file_name(root, n):
    folder = talk(root, n)
    (Path(os.fsdecode(os.fsencode(folder) + b"/\xff\xfe.json"))).write_bytes(transcript("fr"))
    return [(n, "\\xff\\xfe.json", "unrecognised_file")]


def non_utf8_folder_name(root, n):
    bad = Path(os.fsdecode(os.fsencode(root) + b"/1\xff"))
    bad.mkdir()
    (bad / "en.json").write_bytes(transcript("en"))
    return [(None, "1\\xff", "not_a_talk_folder")]


def meta_is(name: str, make, reason: str):
    """The hostile kind ``name``, whose meta.json is what ``make(path)`` puts there instead of a file."""
    def kind(root, n):
        meta = talk(root, n) / "meta.json"
        meta.unlink()
        make(meta)
        return [(n, "meta.json", reason)]

    kind.__name__ = kind.__qualname__ = name
    return kind


meta_is_a_folder = meta_is("meta_is_a_folder", Path.mkdir, "not_a_regular_file")
meta_is_a_fifo = meta_is("meta_is_a_fifo", os.mkfifo, "not_a_regular_file")
meta_links_to_dev_zero = meta_is("meta_links_to_dev_zero", lambda path: path.symlink_to("/dev/zero"), "outside_store")


def sparse_3_gib_transcript(root, n):
    with open(talk(root, n) / "fr.json", "wb") as f:
        f.truncate(3 << 30)
    return [(n, "fr.json", "too_large")]


def talk_id_with_newline(root, n):
    folder = root / f"{GOOD_TALKS[0]}\n"
    folder.mkdir()
    (folder / "en.json").write_bytes(transcript("en"))
    (folder / "de.json").write_bytes(transcript("de"))
    return [(None, f"{GOOD_TALKS[0]}\\n", "not_a_talk_folder")]


def file_links_out_of_the_store(root, n):
    folder = talk(root, n)
    outside = root.parent / f"outside-{n}.json"
    outside.write_bytes(transcript("fr"))
    (folder / "fr.json").symlink_to(outside)
    return [(n, "fr.json", "outside_store")]


def folder_links_out_of_the_store(root, n):
    outside = root.parent / "outside-talks" / str(n)
    good_talk(outside)
    (root / str(n)).symlink_to(outside)
    return [(n, str(n), "outside_store")]


HOSTILE = [lone_surrogate_cue, lone_surrogate_meta, non_utf8_file_name, non_utf8_folder_name, meta_is_a_folder,
           meta_is_a_fifo, meta_links_to_dev_zero, sparse_3_gib_transcript, malformed_cue_timing,
           header_only_middle_chunk, json_spelled_twice, chunk_spelled_twice, json_and_vtt, unknown_code_chunk,
           talk_id_with_newline, file_links_out_of_the_store, folder_links_out_of_the_store]


def hostile_store(root: Path, kinds) -> list[tuple]:
    root.mkdir(parents=True)
    for talk_id in GOOD_TALKS:
        good_talk(root / str(talk_id))
    expected = []
    for i, kind in enumerate(kinds):
        expected += kind(root, 100 + i)
    return expected


def check_build(out: Path, expected: list[tuple]) -> None:
    report = json.loads((out / "build_report.json").read_text(encoding="utf-8"))
    skips = pq.read_table(out / report["skips_file"]).to_pylist()
    drops = pq.read_table(out / "reports" / "drops.parquet").to_pylist()
    rows = pq.read_table(sorted((out / "data").glob("*.parquet"))).to_pylist()
    # every good talk's text is in the output
    for talk_id in GOOD_TALKS:
        for code in ("en", "de"):
            text = " ".join(row[code] or "" for row in rows if row["talk_id"] == talk_id)
            assert all(sentence in text for sentence in SENTENCES[code]), (talk_id, code)
    # every hostile file is named in the report, or its text is in drops.parquet
    for talk_id, name, reason in expected:
        if reason is None:
            assert any(d["talk_id"] == talk_id and d["reason"] == "malformed_cue" and name in d["text"] for d in drops), name
        else:
            named = [s for s in skips if s["path"] == name and s["reason"] == reason
                     and (talk_id is None or s["talk_id"] == str(talk_id))]
            assert named, f"{name!r} ({reason}) not in the report: {skips}"
            assert len(report["skips"]) == len(skips)  # under MAX_SKIPS_LISTED the JSON lists them all too
    # nothing appears twice
    keys = [(row["talk_id"], row["segment_id"]) for row in rows]
    assert len(keys) == len(set(keys))
    talks = pq.read_table(out / "metadata" / "talks.parquet").column("talk_id").to_pylist()
    assert len(talks) == len(set(talks))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=6, unique=True))
def test_any_mix_of_hostile_files_builds_and_every_file_is_accounted_for(tmp_path_factory, kinds):
    root = tmp_path_factory.mktemp("hostile")
    expected = hostile_store(root / "raw", kinds)
    assert cli(["build", "--source", str(root / "raw"), "--out", str(root / "out"), "--quiet", "--workers", "1",
                "--no-pair-configs"]) == 0
    check_build(root / "out", expected)


def test_every_hostile_kind_at_once_in_worker_processes(tmp_path):
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expected = hostile_store(tmp_path / "raw", HOSTILE)
    assert cli(["build", "--source", str(tmp_path / "raw"), "--out", str(tmp_path / "out"), "--quiet",
                "--workers", "2"]) == 0
    check_build(tmp_path / "out", expected)
    # the 3 GiB sparse file was refused from its size, not read (ru_maxrss is in KiB on Linux)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 512 * 1024


def test_read_file_refuses_what_is_not_a_bounded_regular_file_in_the_store(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with open(tmp_path / "big", "wb") as f:
        f.truncate(1 << 40)
    (tmp_path / "ok").write_bytes(b"fine")
    (tmp_path / "inner").symlink_to(tmp_path / "ok")
    reasons = {}
    for name in ("fifo", "dir", "zero", "loop", "big", "missing"):
        with pytest.raises(InputError) as info:
            read_file(tmp_path / name, tmp_path)
        reasons[name] = info.value.reason
    assert reasons == {"fifo": "not_a_regular_file", "dir": "not_a_regular_file", "zero": "outside_store",
                       "loop": "unreadable_file", "big": "too_large", "missing": "unreadable_file"}
    assert read_file(tmp_path / "ok", tmp_path) == read_file(tmp_path / "inner", tmp_path) == b"fine"


# -- the output folder -------------------------------------------------------------------------


def small_store(root: Path) -> Path:
    for talk_id in GOOD_TALKS:
        good_talk(root / str(talk_id))
    return root


def test_a_second_build_into_the_same_out_fails_at_once_and_the_first_is_intact(tmp_path, monkeypatch, capsys):
    import builder.pipeline as pipeline

    store, out = small_store(tmp_path / "raw"), tmp_path / "out"
    started, release = threading.Event(), threading.Event()
    process = pipeline._process

    def slow(job):
        started.set()
        assert release.wait(30)
        return process(job)

    monkeypatch.setattr(pipeline, "_process", slow)
    first = threading.Thread(target=build_corpus, args=(store, out), kwargs={"workers": 1, "progress": False, "pair_configs": ()})
    first.start()
    try:
        assert started.wait(30)
        monkeypatch.setattr(pipeline, "_process", process)
        assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--workers", "1"]) == 2
        assert "another build is writing" in capsys.readouterr().err
    finally:
        release.set()
        first.join()
    report = json.loads((out / "build_report.json").read_text())
    listed = {f for split in report["splits"].values() for f in split["files"] + split["alignment_files"]}
    on_disk = {f"{p.parent.name}/{p.name}" for folder in ("data", "alignment") for p in (out / folder).iterdir()}
    assert listed == on_disk  # one build's files, and only its own
    assert not list(tmp_path.glob(".out.*"))  # no lock, staging or old folder left behind


@pytest.mark.parametrize("report", [None, "[]", "{}", '{"tool": "ted2025"}', '{"format_version": 2}', "not json",
                                    '{"format_version": 2, "versions": {"other": "1"}}'])
def test_a_folder_that_is_not_our_build_is_never_replaced(tmp_path, capsys, report):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    if report is not None:
        (out / "build_report.json").write_text(report)
    assert cli(["build", "--source", str(small_store(tmp_path / "raw")), "--out", str(out), "--quiet"]) == 2
    assert "is not a TED2025 build" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "years of work"


def test_an_earlier_build_is_replaced(tmp_path):
    store, out = small_store(tmp_path / "raw"), tmp_path / "out"
    for _ in range(2):
        assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--no-pair-configs"]) == 0
    assert json.loads((out / "build_report.json").read_text())["tool"] == write.TOOL
    # a report written before the "tool" key names the tool in its versions
    (out / "build_report.json").write_text('{"format_version": 2, "versions": {"ted2025": "0.1.0"}}')
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--no-pair-configs"]) == 0


@pytest.mark.parametrize("case", ["file", "unwritable"])
def test_an_out_that_cannot_be_a_build_folder_gets_one_line_before_any_work(tmp_path, capsys, case):
    out = tmp_path / "out.txt" if case == "file" else Path("/proc/self/ted2025-out")
    if case == "file":
        out.write_text("x")
    assert cli(["build", "--source", str(small_store(tmp_path / "raw")), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("is a file, not a folder" if case == "file" else "is not writable") in err


def test_a_kill_between_the_commit_renames_is_recovered(tmp_path):
    store, out = small_store(tmp_path / "raw"), tmp_path / "out"
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--no-pair-configs"]) == 0
    before = (out / "build_report.json").read_bytes()
    old = tmp_path / ".out.old"
    os.replace(out, old)  # killed after the first rename: OUT is gone, the previous build is in .out.old
    # a build that fails after taking the lock still gives the previous build back
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--pair-configs", "ja"]) == 2
    assert (out / "build_report.json").read_bytes() == before and not old.exists()
    # killed after the second rename: .out.old is an earlier build and goes
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "build_report.json").write_bytes(before)
    os.replace(tmp_path / "copy", old)
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--no-pair-configs"]) == 0
    assert not old.exists()
