"""The synthetic raw-store generator and the demo sample built on it."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pycld2
import pytest

from builder import languages, store
from builder.fixtures import cldr, plan, render, synthetic
from builder.fixtures.plan import SyntheticConfig
from builder.fixtures.sample import SAMPLE_NOTICE, sample_config, write_sample
from builder.fixtures.synthetic import generate_store
from builder.parse import parse_transcript_json

SMALL = dict(seed=7, num_languages=60, cues_per_track=40)  # ranks: ar 4, ru 8, ja 11, de 20, kmr 35, yue 51
SOUND_TAG = re.compile(r"[(（][^)）]*[)）]")
SENTENCE_MARKS = {"zh-cn": "。？！", "ja": "。？！", "hi": "।?!", "ar": ".؟!", "en": ".?!"}


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tracks_of(folder: Path) -> dict[str, list[list[dict]]]:
    """Registry code -> paragraphs -> cues, for every transcript file of one talk."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        if path.name != "meta.json":
            code = languages.from_ted(path.stem).code
            out[code] = [p["cues"] for p in json.loads(path.read_bytes())["paragraphs"]]
    return out


def flat(paragraphs: list[list[dict]]) -> list[dict]:
    return [cue for cues in paragraphs for cue in cues]


def talk_folders(root: Path) -> list[Path]:
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: int(p.name))


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> tuple[Path, synthetic.StoreStats]:
    root = tmp_path_factory.mktemp("synthetic") / "raw"
    return root, generate_store(root, 12, **SMALL)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> tuple[Path, synthetic.StoreStats]:
    root = tmp_path_factory.mktemp("sample") / "raw"
    return root, write_sample(root)


# --- determinism and writing ---------------------------------------------------------------------


def test_same_arguments_same_bytes_with_any_number_of_workers(small_store, tmp_path):
    root, stats = small_store
    again = generate_store(tmp_path / "again", 12, **SMALL, workers=2)
    assert again == stats
    assert snapshot(tmp_path / "again") == snapshot(root)


def test_bytes_do_not_depend_on_the_process(tmp_path):
    """Nothing may hang on str hashing (PYTHONHASHSEED) or on what the process built before."""
    script = (
        "import sys; from pathlib import Path; from builder.fixtures.synthetic import generate_store; "
        "generate_store(Path(sys.argv[1]), 3, seed=5, num_languages=12, cues_per_track=12)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "child")], env=env, check=True, timeout=120)
    generate_store(tmp_path / "here", 3, seed=5, num_languages=12, cues_per_track=12)
    assert snapshot(tmp_path / "child") == snapshot(tmp_path / "here")


def test_seed_changes_the_store(small_store, tmp_path):
    root, _ = small_store
    generate_store(tmp_path / "other", 12, **{**SMALL, "seed": 8})
    assert sorted(p.name for p in talk_folders(tmp_path / "other")) != sorted(p.name for p in talk_folders(root))


def test_regenerating_into_a_store_gives_exactly_the_new_store(tmp_path):
    generate_store(tmp_path / "fresh", 4, seed=3, num_languages=10, cues_per_track=10)
    target = tmp_path / "reused"
    generate_store(target, 6, seed=1, num_languages=20, cues_per_track=12)
    some_talk = talk_folders(target)[0]
    (some_talk / ".en.json.999.tmp").write_bytes(b"half a file from a killed run")
    generate_store(target, 4, seed=3, num_languages=10, cues_per_track=10)
    assert snapshot(target) == snapshot(tmp_path / "fresh")


def test_refuses_to_overwrite_a_store_it_did_not_write(tmp_path):
    (tmp_path / "123").mkdir()
    (tmp_path / "123" / "en.json").write_text('{"paragraphs": []}')
    with pytest.raises(FileExistsError):
        generate_store(tmp_path, 2, num_languages=3)
    assert (tmp_path / "123" / "en.json").exists()


def test_stats_count_what_is_on_disk(small_store):
    root, stats = small_store
    folders = talk_folders(root)
    tracks = [tracks_of(folder) for folder in folders]
    assert stats.talks == len(folders) == 12
    assert stats.tracks == sum(map(len, tracks))
    assert stats.cues == sum(len(flat(paragraphs)) for talk in tracks for paragraphs in talk.values())
    assert stats.bytes == sum(p.stat().st_size for folder in folders for p in folder.iterdir())
    assert set(stats.languages) == {code for talk in tracks for code in talk}
    assert list(stats.languages) == sorted(stats.languages, key=languages.rank)
    marker = json.loads((root / synthetic.MARKER).read_text())
    assert marker["stats"]["cues"] == stats.cues and marker["config"]["seed"] == SMALL["seed"]


# --- shape ------------------------------------------------------------------------------------------


def test_files_have_the_ted_transcript_and_meta_shape(small_store):
    root, _ = small_store
    for folder in talk_folders(root):
        meta = json.loads((folder / "meta.json").read_bytes())
        assert meta["id"] == int(folder.name) > 0
        for key, kind in store.META_FIELDS.items():
            if key != "url":
                assert isinstance(meta[key], kind), key
        assert "synthetic" in meta["title"].lower()
        names = {p.name for p in folder.iterdir()}
        assert names == {"meta.json", *(f"{code}.json" for code in meta["languages"])}
        for path in folder.glob("*.json"):
            if path.name == "meta.json":
                continue
            data = path.read_bytes()
            doc = json.loads(data)
            assert set(doc) == {"paragraphs"}
            for paragraph in doc["paragraphs"]:
                assert set(paragraph) == {"cues"} and paragraph["cues"]
                for cue in paragraph["cues"]:
                    assert set(cue) == {"text", "time"}
                    assert isinstance(cue["time"], int) and cue["time"] >= 0
                    assert isinstance(cue["text"], str) and cue["text"].strip()
            assert len(parse_transcript_json(data)) == sum(len(p["cues"]) for p in doc["paragraphs"])
            assert data == json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def test_store_reader_reads_every_track_back(small_store):
    root, stats = small_store
    folders, skips = store.discover(root)  # the marker is a dotfile: not a skipped "talk"
    assert not skips and len(folders) == stats.talks
    for folder in folders:
        talk, skips = store.read_talk(folder)
        assert not skips
        assert sorted(talk.tracks) == sorted(tracks_of(folder))
    assert "yue" in stats.languages  # TED's "zh.json" is Cantonese, written under TED's code


def test_start_times_strictly_increase_within_a_track(small_store):
    root, _ = small_store
    for folder in talk_folders(root):
        for paragraphs in tracks_of(folder).values():
            times = [cue["time"] for cue in flat(paragraphs)]
            assert all(a < b for a, b in zip(times, times[1:]))


def test_every_track_has_the_talks_paragraphs_and_ends_in_applause(small_store):
    root, _ = small_store
    sentences = SMALL["cues_per_track"] / plan.CUES_PER_SENTENCE
    low, high = plan.SENTENCES_PER_PARAGRAPH
    for folder in talk_folders(root):
        tracks = tracks_of(folder)
        assert len({len(p) for p in tracks.values()}) == 1  # paragraphs are the talk's, not a language's
        assert 0.8 * sentences / high <= len(tracks["en"]) <= 1.2 * sentences / low + 1
        assert "(Applause)" in tracks["en"][-1][-1]["text"]


# --- the long tail --------------------------------------------------------------------------------


def test_long_tail_of_languages_per_talk():
    config = SyntheticConfig(300, language_codes=languages.CODES[:113])
    plans = [plan.plan_languages(config, talk_id) for talk_id in plan.plan_talk_ids(config)]
    share = Counter(code for plan in plans for code in plan)
    sizes = [len(plan) for plan in plans]
    codes = config.language_codes
    assert share["en"] == 300 and min(sizes) >= 2
    assert share[codes[1]] / 300 > 0.9
    assert share[codes[20]] / 300 > 0.5
    assert share[codes[99]] / 300 < 0.05
    assert 25 <= statistics.mean(sizes) <= 35
    assert max(sizes) >= 50
    assert len(share) >= 90  # the tail is reached, but rarely
    assert all(list(plan) == sorted(plan, key=languages.rank) for plan in plans)


def test_talk_ids_are_unique_sparse_and_seeded():
    ids = plan.plan_talk_ids(SyntheticConfig(500))
    assert ids == sorted(set(ids)) and ids[0] >= 1 and ids[-1] > 10 * len(ids)
    assert ids != plan.plan_talk_ids(SyntheticConfig(500, seed=1))


def test_meta_languages_are_the_planned_ones(small_store):
    root, _ = small_store
    config = SyntheticConfig(12, SMALL["seed"], languages.CODES[: SMALL["num_languages"]], SMALL["cues_per_track"])
    for folder in talk_folders(root):
        meta = json.loads((folder / "meta.json").read_bytes())
        planned = plan.plan_languages(config, int(folder.name))
        assert meta["languages"] == [languages.get(code).ted_code for code in planned]


# --- cues and timing ------------------------------------------------------------------------------


def test_cue_counts_are_near_cues_per_track(small_store):
    root, _ = small_store
    counts = [len(flat(p)) for folder in talk_folders(root) for p in tracks_of(folder).values()]
    assert abs(statistics.mean(counts) / 40 - 1) < 0.12
    assert all(0.6 * 40 <= n <= 1.6 * 40 for n in counts)


def test_default_talk_has_about_150_cues_per_language():
    config = SyntheticConfig(2, language_codes=languages.CODES[:113])
    files = render.render_talk(config, plan.plan_talk_ids(config)[0])
    counts = [data.count(b'"time":') for name, data in files.items() if name != "meta.json"]
    assert abs(statistics.mean(counts) / 150 - 1) < 0.15


def test_languages_share_a_timeline_but_rarely_a_timestamp(small_store):
    root, _ = small_store
    equal = total = 0
    for folder in talk_folders(root):
        tracks = tracks_of(folder)
        if "de" not in tracks:
            continue
        en_starts = {cue["time"] for cue in flat(tracks["en"])}
        equal += sum(cue["time"] in en_starts for cue in flat(tracks["de"]))
        total += len(flat(tracks["de"]))
        # Paragraphs start with a sentence: every language starts it within its offset + jitter.
        for en_paragraph, de_paragraph in zip(tracks["en"], tracks["de"]):
            assert abs(en_paragraph[0]["time"] - de_paragraph[0]["time"]) <= 2 * (90 + plan.TIME_JITTER_MS)
    assert total > 100
    assert equal / total < 0.05


def test_some_cues_run_across_a_sentence_end(small_store):
    root, _ = small_store
    spanning = total = 0
    for folder in talk_folders(root):
        for code in ("zh-cn", "ja"):  # "。" is unambiguous, unlike the "." of "St. Martin"
            for cue in flat(tracks_of(folder).get(code, [])):
                spanning += any(mark in SOUND_TAG.sub("", cue["text"]).rstrip()[:-1] for mark in "。？！")
                total += 1
    assert total > 200
    assert 0.01 < spanning / total < 0.3


# --- text -------------------------------------------------------------------------------------------


def test_sentences_end_with_the_languages_own_punctuation(small_store):
    root, _ = small_store
    seen = Counter()
    for folder in talk_folders(root):
        for code, paragraphs in tracks_of(folder).items():
            if code not in SENTENCE_MARKS:
                continue
            for cues in paragraphs:
                last = SOUND_TAG.sub("", cues[-1]["text"]).strip(" ♪")
                if last:  # a paragraph ends with a sentence, or with a sound tag in its own cue
                    seen[code] += 1
                    assert last[-1] in SENTENCE_MARKS[code], (code, last)
    assert set(seen) >= {"zh-cn", "ja", "ar", "en"}


def test_cjk_text_has_no_spaces_between_words(small_store):
    root, _ = small_store
    cues = [cue["text"] for folder in talk_folders(root) for cue in flat(tracks_of(folder).get("zh-cn", []))]
    assert len(cues) > 200
    assert not any("\n" in text for text in cues)
    # Only CLDR's own phrases hold a space, e.g. zh-Hant "5 分鐘後"; items and sentences are joined without.
    assert sum(" " in text for text in cues) / len(cues) < 0.1


def test_sound_tags_are_localized(small_store):
    root, _ = small_store
    text = {code: "" for code in ("en", "fr", "zh-cn", "ja", "de")}
    for folder in talk_folders(root):
        for code, paragraphs in tracks_of(folder).items():
            if code in text:
                text[code] += " ".join(c["text"] for c in flat(paragraphs))
    assert "(Applause)" in text["en"]
    assert "(Applaudissements)" in text["fr"] and "(Applause)" not in text["fr"]
    assert "（掌声）" in text["zh-cn"] and "（拍手）" in text["ja"] and "(Applaus)" in text["de"]


@pytest.mark.parametrize("code", ["de", "fr", "ru", "ja", "ar"])
def test_cld2_recognises_the_language(small_store, code):
    root, _ = small_store
    right = judged = 0
    for folder in talk_folders(root):
        for paragraph in tracks_of(folder).get(code, []):
            text = " ".join(cue["text"] for cue in paragraph)
            if len(text) < 60:
                continue
            judged += 1
            _, _, details = pycld2.detect(text)
            right += details[0][1] in languages.cld2_codes(code)
    assert judged >= 20
    assert right / judged > 0.8


def test_same_concepts_in_every_language():
    items = ((0, cldr.concept_keys()[0].index("DE")), (8, 2))  # Germany, March
    en, de, ja = (cldr.vocabulary(code).sentence(items, 1) for code in ("en", "de", "ja"))
    assert en == "Germany and March?"
    assert de == "Deutschland und März?"
    assert ja == "ドイツ、3月？"


@pytest.mark.parametrize(
    "code, locale",
    [("pt-br", "pt_BR"), ("pt", "pt_PT"), ("zh-cn", "zh_Hans_CN"), ("zh-tw", "zh_Hant_TW"), ("yue", "yue_Hant"),
     ("sr", "sr_Latn"), ("sh", "sr_Latn"), ("fr-ca", "fr_CA"), ("tl", "fil"), ("kmr", None), ("tlh", None)],
)
def test_babel_locale_follows_teds_script_and_region(code, locale):
    assert cldr.babel_locale(languages.get(code)) == locale


def test_languages_babel_lacks_get_pseudo_words_in_their_script():
    vocab = cldr.vocabulary("inh")  # Ingush: Cyrillic, not in Babel
    assert vocab.locale is None and not any(map(any, vocab.real))
    words = "".join(vocab.phrases[0][:20]).replace(" ", "")
    assert all("\u0400" <= ch <= "\u04ff" for ch in words)


def test_config_is_checked():
    with pytest.raises(ValueError):
        generate_store(Path("/nonexistent"), 1, num_languages=1)
    with pytest.raises(ValueError):
        SyntheticConfig(1, language_codes=("de", "en"))
    with pytest.raises(ValueError, match="Babel"):
        SyntheticConfig(1, language_codes=("en", "tlh"), cldr_only=True)


# --- the demo sample ------------------------------------------------------------------------------


def test_sample_is_small_cldr_only_and_says_it_is_synthetic(sample_store):
    root, stats = sample_store
    config = sample_config()
    cldr_codes = set(cldr.cldr_languages())
    assert stats.talks == 12 and set(stats.languages) <= cldr_codes
    for folder in talk_folders(root):
        meta = json.loads((folder / "meta.json").read_bytes())
        assert meta["title"].startswith("SYNTHETIC SAMPLE talk") and "not a TED talk" in meta["title"]
        tracks = tracks_of(folder)
        assert 20 <= len(tracks) <= 40
        assert all(15 <= len(flat(p)) <= 50 for p in tracks.values())
    for code in config.language_codes:  # every phrase is CLDR text: no pseudo-words anywhere
        assert all(map(all, cldr.vocabulary(code).real))
    assert "SYNTHETIC" in SAMPLE_NOTICE and "CLDR" in SAMPLE_NOTICE and "Unicode License" in SAMPLE_NOTICE


def test_sample_is_the_same_every_time(sample_store, tmp_path):
    root, stats = sample_store
    assert write_sample(tmp_path) == stats
    assert snapshot(tmp_path) == snapshot(root)
