"""End-to-end builds on generated raw stores: bad input, determinism, splits, Parquet shape."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.cli import main as cli
from builder.pipeline import BuildSettings, build

from conftest import write_store

SENTENCES = {
    "en": ["We heal wounds with our immune system today.", "Materials instruct the cells to grow new tissue."],
    "de": ["Wir heilen heute Wunden mit unserem Immunsystem.", "Materialien weisen die Zellen an, neues Gewebe zu bilden."],
    "fr": ["Nous guérissons les plaies avec notre système immunitaire.", "Les matériaux indiquent aux cellules de former un tissu."],
    "es": ["Hoy curamos heridas con nuestro sistema inmunitario.", "Los materiales indican a las células que formen tejido nuevo."],
}


def transcript(code: str, offset_ms: int = 0) -> bytes:
    texts = [f"{text[:-1]} {i // 2}." for i, text in enumerate(SENTENCES[code] * 3)]
    cues = [{"time": i * 3000 + offset_ms, "text": text} for i, text in enumerate(texts)]
    return json.dumps({"paragraphs": [{"cues": cues}]}).encode()


def data_rows(out: Path) -> list[dict]:
    return pq.read_table(sorted((out / "data").glob("*.parquet"))).to_pylist()


GOOD = {"en.json": transcript("en"), "de.json": transcript("de", 37), "fr.json": transcript("fr", 12)}
BAD_FILES = {
    "es.json": (b"{\"paragraphs\": [", "malformed_json"),
    "it.json": (b"", "empty_file"),
    "ja.json": (b"\x00\x9f\x92\x96 binary", "malformed_json"),
    "ko.json": (b'{"paragraphs": [{"cues": [{"time": "soon", "text": 3}]}]}', "malformed_json"),
    "xx-yy.json": (transcript("en"), "unknown_language"),
    "ru.vtt": (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n", "chunk_gap"),
    "ru.vtt.2": (b"WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nx\n", None),
    "el.vtt": (b"this is not webvtt", "malformed_vtt"),
}


def test_bad_files_are_skipped_with_reasons_and_the_rest_builds(tmp_path):
    store = write_store(tmp_path / "raw", {
        1: GOOD | {name: data for name, (data, _) in BAD_FILES.items()},
        2: {"en.json": transcript("en")},  # a single language
        3: {"notes.txt": b"hello"},
    })
    (store / "README").write_text("not a talk")
    report = build(store, tmp_path / "out", BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    reasons = {(s["talk_id"], s["language"], s["reason"]) for s in report["skips"]}
    for name, (_, reason) in BAD_FILES.items():
        if reason:
            code = name.split(".")[0]
            assert (1, code, reason) in reasons, f"{name}: expected a {reason} skip"
    assert (2, None, "single_language") in reasons
    assert (3, None, "no_usable_track") in reasons
    assert report["talks"]["skipped"] == {"not_a_talk_folder": 1, "single_language": 1, "no_usable_track": 1}
    rows = data_rows(tmp_path / "out")
    assert {r["talk_id"] for r in rows} == {1}
    assert all(r["num_languages"] == 3 for r in rows)
    assert [r["de"] for r in rows[:2]] == [f"{text[:-1]} 0." for text in SENTENCES["de"]]


file_bytes = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([transcript("en"), transcript("de", 40), b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHallo Welt.\n"]),
    st.builds(lambda doc: json.dumps(doc).encode(), st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["paragraphs", "cues", "time", "text"]), inner, max_size=3),
        max_leaves=12,
    )),
)
file_names = st.sampled_from(["en.json", "de.json", "fr.vtt", "fr.vtt.1", "fr.vtt.3", "es.json", "zz.json", "meta.json", "x.bin"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.integers(1, 50), st.dictionaries(file_names, file_bytes, max_size=5), min_size=1, max_size=4))
def test_no_input_crashes_the_build(tmp_path_factory, talks):
    root = tmp_path_factory.mktemp("fuzz")
    write_store(root / "raw", talks)
    report = build(root / "raw", root / "out", BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    assert report["talks"]["seen"] == len(talks)
    assert report["talks"]["written"] + sum(report["talks"]["skipped"].values()) == len(talks)
    assert all(s["reason"] for s in report["skips"])
    written = {r["talk_id"] for r in data_rows(root / "out")} if report["rows"] else set()
    assert len(written) == report["talks"]["written"]


def test_build_is_deterministic_and_splits_are_disjoint(tmp_path):
    store = write_store(tmp_path / "raw", {
        talk_id: {"en.json": transcript("en"), "de.json": transcript("de", talk_id), "es.json": transcript("es", 2 * talk_id)}
        for talk_id in range(1, 41)
    })
    settings_ = BuildSettings(splits={"train": 0.5, "validation": 0.25, "test": 0.25})
    digests = []
    for run, workers in enumerate([1, 2]):
        out = tmp_path / f"out{run}"
        build(store, out, settings_, workers=workers, progress=False)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((out / "data").glob("*"))})
    assert digests[0] == digests[1]
    talks_by_split = {}
    for path in (tmp_path / "out0" / "data").glob("*.parquet"):
        split = path.name.split("-")[0]
        talks_by_split.setdefault(split, set()).update(pq.read_table(path, columns=["talk_id"])["talk_id"].to_pylist())
    assert set(talks_by_split) == {"train", "validation", "test"}
    splits = list(talks_by_split.values())
    assert all(not (a & b) for i, a in enumerate(splits) for b in splits[i + 1:])
    assert sum(map(len, splits)) == 40


def test_parquet_suits_the_hub_viewer(tmp_path):
    store = write_store(tmp_path / "raw", {i: dict(GOOD) for i in range(1, 6)})
    build(store, tmp_path / "out", BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    path = tmp_path / "out" / "data" / "train-00000-of-00001.parquet"
    meta = pq.ParquetFile(path).metadata
    assert all(meta.row_group(i).total_byte_size < 100 * 2**20 for i in range(meta.num_row_groups))
    assert meta.row_group(0).column(0).has_offset_index, "page index for the viewer"
    schema = pq.read_schema(path)
    assert schema.names[:5] == ["talk_id", "segment_id", "start_ms", "end_ms", "num_languages"]
    assert json.loads(schema.metadata[b"ted2025"])["languages"] == ["en", "fr", "de"]
    talks = pq.read_table(tmp_path / "out" / "metadata" / "talks.parquet").to_pylist()
    assert [t["talk_id"] for t in talks] == [1, 2, 3, 4, 5]


def test_rebuild_replaces_only_an_earlier_build(tmp_path, capsys):
    store = write_store(tmp_path / "raw", {1: dict(GOOD)})
    out = tmp_path / "out"
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    assert "talks      1 written" in capsys.readouterr().out
    assert cli(["build", "--source", str(store), "--out", str(out), "--quiet", "--workers", "1"]) == 0
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me")
    assert cli(["build", "--source", str(store), "--out", str(precious), "--quiet"]) == 2
    assert "refusing to replace" in capsys.readouterr().err
    assert (precious / "thesis.tex").read_text() == "keep me"
    assert not list(tmp_path.glob(".*partial"))


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        cli(["build", "--source", "x", "--out", "y", "--splits", "train=0.5"])
    assert "sum to 1" in capsys.readouterr().err
    assert cli(["build", "--source", "/nonexistent", "--out", "/tmp/never"]) == 2


def test_deeply_nested_json_is_a_counted_skip(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    store = write_store(tmp_path / "raw", {1: GOOD | {"es.json": deep, "meta.json": deep}})
    report = build(store, tmp_path / "out", BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    reasons = {(s["language"], s["reason"]) for s in report["skips"]}
    assert ("es", "malformed_json") in reasons and (None, "malformed_meta") in reasons
    assert report["talks"]["written"] == 1


def test_a_stray_xml_file_does_not_make_a_raw_store_wit3(tmp_path):
    store = write_store(tmp_path / "raw", {1: dict(GOOD)})
    (store / ".crawl").mkdir()
    (store / ".crawl" / "sitemap.xml").write_text("<urlset/>")
    (store / "notes.en-de.en.xml").write_text("<mteval/>")
    report = build(store, tmp_path / "out", BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    assert report["source"]["kind"] == "raw" and report["source"]["formats"] == {"json": 3}
    assert report["talks"]["written"] == 1


def test_an_error_mid_build_stops_the_workers_and_leaves_nothing(tmp_path, monkeypatch):
    """Real worker processes (the build's fork Pool): each records the talks it finished in a file.
    The main process fails on the first result; the workers must be stopped then, not left to
    finish the rest of the corpus (what pool.close() alone would let them do)."""
    import builder.pipeline as pipeline

    talks = 40
    store = write_store(tmp_path / "raw", {i: dict(GOOD) for i in range(1, talks + 1)})
    finished = tmp_path / "finished"
    finished.mkdir()
    real_build_talk = pipeline.build_talk

    def slow_build_talk(talk, settings):  # runs in a worker: the first chunk fast, then slowly
        result = real_build_talk(talk, settings)
        if talk.talk_id > 4:
            time.sleep(0.1)
        (finished / str(talk.talk_id)).write_text(str(os.getpid()))
        return result

    calls = []

    def failing_assign(talk_id, splits):  # runs in the main process, on the first result
        calls.append(talk_id)
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "build_talk", slow_build_talk)
    monkeypatch.setattr(pipeline, "assign", failing_assign)
    with pytest.raises(RuntimeError, match="disk full"):
        build(store, tmp_path / "out", workers=2, progress=False)
    assert calls == [1]
    workers = {path.read_text() for path in finished.iterdir()}
    assert workers and str(os.getpid()) not in workers, "the talks ran in worker processes"
    time.sleep(0.5)  # a worker still alive would go on finishing talks now
    done = len(list(finished.iterdir()))
    assert done <= talks // 2, f"the workers finished {done} of {talks} talks after the error"
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
