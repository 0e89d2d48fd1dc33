"""The crawler against a TED look-alike on loopback (tests/ted_server.py): store, faults, resume, safety."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ted_server import FAULT_KINDS, FakeTalk, Faults, TedServer, real_talks, synthetic_talks, synthetic_transcript

from builder import crawl as crawl_module
from builder import ted_api
from builder.cli import main as cli
from builder.crawl import CrawlConfig, crawl, parse_id_range, read_talk_ids
from builder.crawl_state import Manifest, RunLog
from builder.fetch import USER_AGENT, Fetcher, FetchError, pause_note, retry_after_s
from builder.parse import parse_transcript_json
from builder.pipeline import BuildSettings, build
from builder.rawstore import write_atomic
from builder.records import InputError
from builder.store import META_FIELDS, read_meta
from builder.ted_api import check_slug, parse_rss, parse_video

from conftest import REPO_ROOT

GOOD_SYNTHETIC = (9001, 9008)  # every listed transcript is served, except 9001's "es" (a 404)
FAST = dict(rate=1000.0, burst=100, backoff_base_s=0.005, backoff_max_s=0.05, retry_after_max_s=0.05,
            timeout_s=0.5, max_bytes=300_000, concurrency=8, progress=False)


def run(out: Path, ted: TedServer, talk_ids=(), **overrides):
    return crawl(CrawlConfig(out, talk_ids=tuple(talk_ids), endpoint=ted.url, **(FAST | overrides)))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a raw store, by relative path, except the run log (it holds times)."""
    files = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and name != ".crawl/log.jsonl":
            files[name] = path.read_bytes()
    return files


def manifest(raw: Path) -> dict:
    return json.loads((raw / ".crawl" / "manifest.json").read_bytes())["talks"]


def expected_transcripts(ted: TedServer, talk_ids) -> dict[str, bytes]:
    return {f"{talk_id}/{code}.json": data for talk_id in talk_ids
            for code, data in ted.by_id[talk_id].transcripts.items()}


def stored_transcripts(raw: Path) -> dict[str, bytes]:
    return {name: data for name, data in snapshot(raw).items()
            if not name.startswith(".") and not name.endswith("meta.json")}


# -- the store ----------------------------------------------------------------------------------------


def test_crawl_writes_the_raw_store_and_the_build_reads_it(vtt_dir, tmp_path):
    raw = tmp_path / "raw"
    with TedServer(real_talks(vtt_dir) + synthetic_talks()) as ted:
        summary = run(raw, ted, (10, 1500, *GOOD_SYNTHETIC, 4242))
        expected = expected_transcripts(ted, (10, 1500, *GOOD_SYNTHETIC))
    assert stored_transcripts(raw) == expected, "every transcript is stored verbatim, as served"
    assert (summary.talks_ok, summary.talks_missing, summary.talks_failed) == (4, 1, 0)
    assert (summary.transcripts_fetched, summary.transcripts_missing, summary.transcripts_failed) == (29, 1, 0)
    assert summary.retries == 0 and summary.requests == 4 * 2 + 1 + 30

    meta, skips = read_meta(raw / "10" / "meta.json", 10)
    assert not skips and set(meta) == set(META_FIELDS), "meta.json has every field the store reads"
    assert meta["languages"] == sorted(ted.by_id[10].transcripts) and meta["slug"] == "speaker_10_real_talk"
    assert (raw / "10" / "meta.json").read_bytes() == crawl_module.meta_bytes(meta)  # sorted, deterministic

    talks = manifest(raw)
    assert talks["4242"] == {"status": "missing", "reason": "not on TED"}
    assert talks["9001"]["transcripts"]["es"] == {"status": "missing"}
    assert all(t == {"status": "ok"} for t in talks["10"]["transcripts"].values())

    out = tmp_path / "corpus"
    build(raw, out, BuildSettings(splits={"train": 1.0}), workers=1, progress=False)
    rows = pq.read_table(out / "data" / "train-00000-of-00001.parquet").to_pylist()
    talk10 = [r for r in rows if r["talk_id"] == 10]
    assert max(r["num_languages"] for r in talk10) == 15
    assert sum(r["num_languages"] == 15 for r in talk10) >= 15, "talk 10 is multi-way parallel"
    assert talk10[0]["en"].startswith("What if you could take a pill")
    assert {r["talk_id"] for r in rows} == {10, 1500, *GOOD_SYNTHETIC}
    talks_table = pq.read_table(out / "metadata" / "talks.parquet").to_pylist()
    assert {t["talk_id"]: t["title"] for t in talks_table}[10] == "Talk 10"


def test_crawl_under_20_percent_faults_equals_a_clean_crawl(vtt_dir, tmp_path):
    talk_ids = (10, 1500, *GOOD_SYNTHETIC, 9002, 9003, 9006, 9007, 4242)
    talks = real_talks(vtt_dir) + synthetic_talks()
    with TedServer(talks) as ted:
        run(tmp_path / "clean", ted, talk_ids)
    with TedServer(talks, Faults(rate=0.2, seed=7, hang_s=0.7)) as ted:
        summary = run(tmp_path / "faulty", ted, talk_ids)
        faults = [r["fault"] for r in ted.requests if r["fault"]]
        expected = expected_transcripts(ted, (10, 1500, *GOOD_SYNTHETIC))
    assert set(faults) == set(FAULT_KINDS), "every kind of fault was injected"
    assert len(faults) / len(ted.requests) > 0.12
    assert summary.retries >= len(faults) - 1  # a reset can be counted before the server logs it
    stored = stored_transcripts(tmp_path / "faulty")
    for name, data in expected.items():
        assert stored[name] == data, name
        parse_transcript_json(stored[name])
    assert snapshot(tmp_path / "faulty") == snapshot(tmp_path / "clean")
    log = [json.loads(line) for line in (tmp_path / "faulty" / ".crawl" / "log.jsonl").read_text().splitlines()]
    requests = [entry for entry in log if "url" in entry]
    assert {"time", "url", "status", "attempt", "bytes", "error"} <= set(requests[0])
    errors = {entry["error"].split(":")[0] for entry in requests if entry["error"]}
    assert {"timeout", "protocol_error", "network_error", "invalid_body", "too_large"} <= errors
    assert {entry["status"] for entry in requests} >= {200, 301, 404, 429, 500, 503}


def test_killed_crawl_resumes_to_the_same_bytes(vtt_dir, tmp_path):
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("10\n1500\n9001\n9008\n4242\n")
    talks = real_talks(vtt_dir) + synthetic_talks()
    with TedServer(talks, Faults(rate=0.1, seed=3, hang_s=0.7)) as ted:
        run(tmp_path / "reference", ted, read_talk_ids(ids_file))
        raw = tmp_path / "raw"
        command = [sys.executable, "-m", "builder.cli", "crawl", "--out", str(raw), "--talk-ids", str(ids_file),
                   "--endpoint", ted.url, "--concurrency", "2", "--backoff", "0.01", "--timeout", "0.5", "--quiet"]
        process = subprocess.Popen(command + ["--rate", "12"], cwd=REPO_ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while len(list(raw.glob("*/*.json"))) < 8 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the crawl finished before it could be killed"
        partial = snapshot(raw)
        assert 8 <= sum(name.endswith(".json") for name in partial) < len(snapshot(tmp_path / "reference"))
        resumed = subprocess.run(command + ["--rate", "1000"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "talks: 5 (4 ok, 1 missing on TED, 0 failed)" in resumed.stdout
    final = snapshot(raw)
    assert final == snapshot(tmp_path / "reference")
    assert all(final[name] == data for name, data in partial.items() if not name.startswith(".crawl/")), \
        "files written before the kill are kept as they were"


def test_complete_files_and_known_404s_are_never_fetched_again(tmp_path):
    raw = tmp_path / "raw"
    with TedServer(synthetic_talks()) as ted:
        run(raw, ted, (*GOOD_SYNTHETIC, 4242))
        first = len(ted.requests)
        again = run(raw, ted, (*GOOD_SYNTHETIC, 4242))
        assert len(ted.requests) == first, "nothing is asked twice"
        assert again.transcripts_cached == 6 and again.transcripts_missing == 1 and again.talks_missing == 1
        (raw / "9008" / "fr.json").unlink()
        run(raw, ted, (*GOOD_SYNTHETIC, 4242))
        assert [r["target"] for r in ted.requests[first:]] == ["/talks/talk_9008/transcript.json?language=fr"]


def test_stale_temp_files_are_cleaned_and_failed_writes_leave_nothing(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    for folder in (raw / "9008", raw / ".crawl"):
        folder.mkdir(parents=True)
        (folder / ".tmp-killed.part").write_bytes(b'{"paragra')
    with TedServer(synthetic_talks()) as ted:
        run(raw, ted, (9008,))
    assert not list(raw.rglob(".tmp-*"))

    target = raw / "9008" / "en.json"
    before = target.read_bytes()
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == before and not list(raw.rglob(".tmp-*"))


def test_the_manifest_shows_progress_while_a_talk_is_still_being_crawled(tmp_path):
    raw = tmp_path / "raw"
    slow = "GET /talks/talk_9008/transcript.json?language=fr"
    with TedServer(synthetic_talks(), Faults(slow_s=1.0, forced={slow: ["slow"]})) as ted:
        crawler = threading.Thread(target=run, args=(raw, ted, (9008,)), kwargs=dict(timeout_s=3.0, manifest_every_s=0.3))
        crawler.start()
        seen, deadline = {}, time.monotonic() + 10
        while crawler.is_alive() and time.monotonic() < deadline:
            try:
                seen = manifest(raw).get("9008", {})  # written atomically: always whole, valid JSON
            except FileNotFoundError:
                pass
            if {"en", "de"} <= set(seen.get("transcripts", {})):
                break
            time.sleep(0.01)
        crawler.join()
    # en and de were done at once; nothing changed after that until fr came, about 1 s later. The
    # manifest was saved when due (0.3 s) all the same, before the talk completed.
    assert seen == {"status": "in_progress", "slug": "talk_9008",
                    "transcripts": {"de": {"status": "ok"}, "en": {"status": "ok"}}}
    assert manifest(raw)["9008"] == {"status": "ok", "slug": "talk_9008", "transcripts": {
        "de": {"status": "ok"}, "en": {"status": "ok"}, "fr": {"status": "ok"}}}


# -- safety -------------------------------------------------------------------------------------------


def test_unsafe_slugs_language_codes_and_redirects_are_rejected(tmp_path):
    raw = tmp_path / "raw"
    with TedServer(synthetic_talks()) as ted:
        summary = run(raw, ted, (9002, 9003, 9004))
        targets = [r["target"] for r in ted.requests]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "raw/.crawl/log.jsonl", "raw/.crawl/manifest.json", "raw/9002/de.json", "raw/9002/en.json",
        "raw/9002/meta.json"]
    talks = manifest(raw)
    assert talks["9003"] == {"status": "failed", "reason": "unsafe_slug: '../../x'"}
    assert talks["9004"]["status"] == "failed" and talks["9004"]["reason"].startswith("offsite_redirect")
    assert json.loads((raw / "9002" / "meta.json").read_bytes())["languages"] == ["en", "de"]
    assert summary.languages_rejected == 7  # ../../evil, /etc/passwd, en/../../x, zz, "en\n", 5, None ("EN" is en)
    assert not any("evil" in t or "passwd" in t or ".." in t for t in targets)
    assert summary.talks_failed == 2 and summary.transcripts_ok == 2


def test_malformed_metadata_oversized_and_invalid_bodies_fail_with_a_reason(tmp_path):
    raw = tmp_path / "raw"
    with TedServer(synthetic_talks()) as ted:
        summary = run(raw, ted, (9005, 9006, 9007), max_attempts=3)
        targets = [r["target"] for r in ted.requests]
    talks = manifest(raw)
    assert talks["9005"] == {"status": "failed", "reason": "malformed_metadata: 'edges' is not a list"}
    assert talks["9006"]["transcripts"]["en"]["reason"].startswith("too_large")
    assert talks["9007"]["transcripts"]["de"] == {"status": "failed",
                                                   "reason": "invalid_body: malformed_json: after 3 attempts"}
    assert targets.count("/talks/huge_talk_9006/transcript.json?language=en") == 1, "too large: not retried"
    assert targets.count("/talks/broken_talk_9007/transcript.json?language=de") == 3
    assert sorted(p.name for p in (raw / "9006").iterdir()) == ["de.json", "meta.json"]
    assert summary.failures == {"malformed_metadata": 1, "too_large": 1, "invalid_body": 1}


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["data", "video", "slug", "title", "duration", "edges", "node", "nodes",
                                         "name", "internalLanguageCode", "publishedSubtitleLanguages", "topics",
                                         "errors"]), inner, max_size=5),
                    max_leaves=30))
def test_metadata_parsing_never_crashes_and_never_yields_an_unsafe_name(doc):
    try:
        meta, _, _ = parse_video(doc, 1, None)
    except (InputError, FetchError):
        return
    if meta is not None:
        assert ted_api.SLUG.fullmatch(meta["slug"])
        assert all(ted_api.ted_language(code) for code in meta["languages"])
        crawl_module.meta_bytes(meta).decode("utf-8")  # valid Unicode: no lone surrogate survives


def test_rss_parsing_refuses_entity_expansion():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss>&b;</rss>'
    with pytest.raises(InputError):
        parse_rss(bomb)
    feed = (b'<rss xmlns:j="http://rss.jwpcdn.com/"><channel><item><link>https://www.ted.com/talks/a_b</link>'
            b'<j:talkId>12</j:talkId></item><item><link>https://www.ted.com/talks/../x</link></item></channel></rss>')
    assert parse_rss(feed) == [(12, "a_b"), (None, None)]


def test_lone_surrogates_never_reach_the_store(tmp_path):
    raw = tmp_path / "raw"
    bad = b'{"paragraphs": [{"cues": [{"time": 0, "text": "half a pair \\ud800 here"}]}]}'  # valid JSON
    hostile = FakeTalk(9100, "hostile_text_9100", {"en": synthetic_transcript("en", 9100), "de": bad,
                                                   "fr": synthetic_transcript("fr", 9100)},
                       listed=["en", "de", "fr", "fr\ud800"])
    hostile.video = hostile.video_json() | {  # served as the JSON escapes \ud800, \udfff, \ud83d
        "title": "Half \ud800 a pair", "presenterDisplayName": "\udfffSpeaker",
        "topics": {"nodes": [{"name": "science"}, {"name": "bad \ud83d topic"}]}}
    with TedServer([hostile, *synthetic_talks()]) as ted:
        summary = run(raw, ted, (9100, 9008), max_attempts=2)
        targets = [r["target"] for r in ted.requests]
    assert targets.count("/talks/hostile_text_9100/transcript.json?language=de") == 2, "retried, then given up"
    assert sorted(p.name for p in (raw / "9100").iterdir()) == ["en.json", "fr.json", "meta.json"]
    talks = manifest(raw)
    assert talks["9100"]["transcripts"]["de"] == {"status": "failed",
                                                   "reason": "invalid_body: malformed_json: after 2 attempts"}
    assert talks["9100"]["status"] == "ok" and all(t == {"status": "ok"} for t in talks["9008"]["transcripts"].values())
    assert summary.failures == {"invalid_body": 1} and summary.transcripts_fetched == 5
    assert summary.texts_repaired == 3 and summary.languages_rejected == 1

    stored = json.loads((raw / "9100" / "meta.json").read_bytes().decode("utf-8"))
    assert (stored["title"], stored["speaker"], stored["topics"]) == (
        "Half \ufffd a pair", "\ufffdSpeaker", ["science", "bad \ufffd topic"]), "each lone surrogate is U+FFFD"
    meta, skips = read_meta(raw / "9100" / "meta.json", 9100)
    assert not skips and meta["title"] == stored["title"], "the build keeps every field"
    log = [json.loads(line) for line in (raw / ".crawl" / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    events = {entry["event"]: entry for entry in log if entry.get("talk_id") == 9100}
    assert events["repaired_text"]["fields"] == [
        "topics[1]: lone surrogate U+D83D at character 4", "title: lone surrogate U+D800 at character 5",
        "speaker: lone surrogate U+DFFF at character 0"]
    assert events["rejected_languages"]["codes"] == ["fr\ud800"], "logged as received, as a JSON escape"

    saved = Manifest(tmp_path / "manifest.json")  # a reason quoting TED's answer may hold one too
    saved.record(1, "failed", reason='graphql_error: [{"message": "\ud800"}]')
    saved.save()
    assert b"\\ud800" in saved.path.read_bytes()
    assert Manifest(saved.path).talks == {1: {"status": "failed", "reason": 'graphql_error: [{"message": "\ud800"}]'}}


def test_names_with_a_trailing_newline_are_refused(tmp_path):
    with pytest.raises(FetchError, match="unsafe_slug"):
        check_slug("talk_9008\n")
    assert ted_api.ted_language("en\n") is None and ted_api.ted_language("en") is not None
    feed = b'<rss><channel><item><link>https://www.ted.com/talks/a_b%0A</link></item></channel></rss>'
    assert parse_rss(feed) == [(None, None)]
    path = tmp_path / "manifest.json"
    path.write_text('{"format": 1, "talks": {"12": {"status": "ok"}, "12\\n": {"status": "missing"}}}')
    assert Manifest(path).talks == {12: {"status": "ok"}}, "a key '12\\n' is not talk 12"


# -- politeness ---------------------------------------------------------------------------------------


def test_requests_are_spaced_by_the_rate_limit_and_identify_the_crawler(tmp_path):
    with TedServer(synthetic_talks()) as ted:
        run(tmp_path / "raw", ted, (9008,), rate=10.0, burst=1)
        times = [r["time"] for r in ted.requests]
        agents = {r["user_agent"] for r in ted.requests}
    assert len(times) == 5
    assert min(b - a for a, b in zip(times, times[1:])) > 0.08, "10 requests/s at most"
    assert agents == {USER_AGENT} and USER_AGENT.startswith("ted2025-crawler/") and "research corpus" in USER_AGENT


def test_429_retry_after_is_honoured_in_both_forms_and_capped(tmp_path):
    key = "GET /talks/talk_9008/transcript.json?language=de"
    faults = Faults(retry_after_s=5, forced={key: ["429", "429"]})
    with TedServer(synthetic_talks(), faults) as ted:
        start = time.monotonic()
        summary = run(tmp_path / "raw", ted, (9008,), retry_after_max_s=0.3)
        took = time.monotonic() - start
        times = [r["time"] for r in ted.requests if f"{r['method']} {r['target']}" == key]
    assert len(times) == 3 and summary.transcripts_failed == 0 and summary.retries == 2
    assert all(0.28 < b - a < 1.0 for a, b in zip(times, times[1:])), "waited Retry-After, capped at 0.3 s"
    assert took < 2.0


def test_a_429_pauses_only_its_host(tmp_path):
    async def fetch_all(config: CrawlConfig, urls: list[str], pauses: list) -> None:
        log = RunLog(tmp_path / "log.jsonl")
        fetcher = Fetcher(config, log, on_pause=pauses.append)
        try:
            await asyncio.gather(*(fetcher.fetch("GET", url) for url in urls))
        finally:
            await fetcher.close()
            log.close()

    pauses: list = []
    with TedServer(synthetic_talks(), Faults(retry_after_s=30, forced={"GET /a1": ["429"]})) as a, \
            TedServer(synthetic_talks()) as b:
        # One slot for both hosts: a request waiting for a's pause must not sit in it.
        config = CrawlConfig(tmp_path, talk_ids=(1,), endpoint=a.url, **(FAST | dict(concurrency=1,
                                                                                       retry_after_max_s=0.4)))
        asyncio.run(fetch_all(config, [f"{a.url}/a1", f"{a.url}/a2"] + [f"{b.url}/b{i}" for i in range(4)], pauses))
        a_times = [(r["target"], r["fault"], r["time"]) for r in a.requests]
        b_times = [r["time"] for r in b.requests]
    assert a_times[0][:2] == ("/a1", "429") and sorted(t[:2] for t in a_times[1:]) == [("/a1", None), ("/a2", None)]
    paused_at = a_times[0][2]
    assert all(t - paused_at > 0.38 for _, _, t in a_times[1:]), "a's requests wait out its Retry-After (capped)"
    assert len(b_times) == 4 and max(b_times) - paused_at < 0.3, "b's requests go on meanwhile"
    host = urlsplit(a.url).netloc
    assert len(pauses) == 1 and set(pauses[0]) == {host} and 0.3 < pauses[0][host] <= 0.4
    assert pause_note(pauses[0]) == f"paused={host} 1s" and pause_note({}) == ""
    assert pause_note({"www.ted.com": 36.2}) == "paused=www.ted.com 37s"


def test_a_paused_host_shows_on_the_progress_bar(tmp_path, monkeypatch):
    class Bar:  # records what the crawl shows; the real tqdm draws it
        def __init__(self, total=0, **_):
            self.total, self.postfixes = total, []
            bars.append(self)

        def set_postfix_str(self, s="", refresh=True):
            self.postfixes.append(s)

        def update(self, n=1):
            pass

        refresh = close = update

    bars: list[Bar] = []
    monkeypatch.setattr(crawl_module, "tqdm", Bar)
    faults = Faults(retry_after_s=30, forced={"GET /talks/talk_9008/transcript.json?language=de": ["429"]})
    with TedServer(synthetic_talks(), faults) as ted:
        summary = run(tmp_path / "raw", ted, (9008,), retry_after_max_s=0.6, progress=True)
    assert summary.transcripts_fetched == 3 and summary.retries == 1
    talks_bar, transcripts_bar = bars
    assert talks_bar.postfixes == [f"paused={urlsplit(ted.url).netloc} 1s", ""], "shown while paused, then cleared"
    assert transcripts_bar.postfixes == []


def test_retry_after_values():
    from datetime import datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("120") == 120.0
    assert retry_after_s("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_s("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_s("soon") is None and retry_after_s(None) is None and retry_after_s("-5") is None


# -- inputs and the command line ----------------------------------------------------------------------


def test_talk_ids_from_a_list_a_seed_csv_and_a_range(tmp_path):
    plain = tmp_path / "ids.txt"
    plain.write_text("# latest\n10\n\n1500  # cars\n10\n")
    assert read_talk_ids(plain) == (10, 1500)
    seed_csv = tmp_path / "ted_talks_ids.csv"
    seed_csv.write_text("Talk URL,Talk ID\nhttps://www.ted.com/talks/a,10\nhttps://www.ted.com/talks/b,\n"
                        "https://www.ted.com/talks/c,1500\n")
    assert read_talk_ids(seed_csv) == (10, 1500)
    plain.write_text("10\n../../etc\n")
    with pytest.raises(ValueError, match="ids.txt:2"):
        read_talk_ids(plain)
    assert parse_id_range("0:4") == (1, 2, 3) and parse_id_range("7:9") == (7, 8)
    for bad in ("5:5", "a:b", "3", "-1:3"):
        with pytest.raises(ValueError):
            parse_id_range(bad)


def test_cli_crawls_the_latest_talks_in_the_chosen_languages(tmp_path, capsys):
    raw = tmp_path / "raw"
    with TedServer(synthetic_talks(), rss_ids=[9008, 9001, 9002]) as ted:
        code = cli(["crawl", "--out", str(raw), "--latest", "2", "--languages", "en+fr", "--endpoint", ted.url,
                    "--rate", "1000", "--quiet"])
    assert code == 0
    assert "talks: 2 (2 ok, 0 missing on TED, 0 failed)" in capsys.readouterr().out
    assert sorted(p.relative_to(raw).as_posix() for p in raw.glob("[0-9]*/*")) == [
        "9001/en.json", "9001/fr.json", "9001/meta.json", "9008/en.json", "9008/fr.json", "9008/meta.json"]
    assert set(manifest(raw)["9001"]["transcripts"]) == {"en", "fr"}

    with TedServer(synthetic_talks()) as ted:
        ids = tmp_path / "ids.txt"
        ids.write_text("9007\n")
        code = cli(["crawl", "--out", str(raw), "--talk-ids", str(ids), "--endpoint", ted.url, "--rate", "1000",
                    "--backoff", "0.001", "--max-attempts", "2", "--contact", "research@example.org", "--quiet"])
        agents = {r["user_agent"] for r in ted.requests}
    assert code == 1, "a failed transcript makes the exit status 1: rerun to retry it"
    assert agents == {"ted2025-crawler/0.1.0 (+research@example.org; research corpus)"}
    assert cli(["crawl", "--out", str(raw), "--id-range", "9:3"]) == 2
