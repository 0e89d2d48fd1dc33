"""recipes/eval.py on a CPU: the README command end to end (the tiny smoke model and its SFT adapter,
on the smoke corpus's test split, with the local lm-eval task and the probe), the scores against
sacrebleu, the probe's reference points (identical inputs: 1.0; aligned translations far above
chance; shuffled pairs and uninformative embeddings at chance), a generated FLORES-layout folder,
the errors raised before any model loads, and the push to the loopback Hub.

Nothing is downloaded: the model is made by recipes/smoke/make_tiny_model.py, the corpus is built
from ../shared's real TED sample (or the demo sample without it)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="the recipes need the `train` extra")
pytest.importorskip("lm_eval", reason="recipes/eval.py needs lm-eval (the `train` extra)")

import torch  # noqa: E402
import yaml  # noqa: E402
from sacrebleu.metrics import BLEU, CHRF  # noqa: E402

from builder import languages as registry  # noqa: E402
from recipes import data  # noqa: E402
from recipes import eval as evaluation  # noqa: E402
from recipes.tasks import mc_docs, parse_direction  # noqa: E402

from conftest import run  # noqa: E402
from hub_server import HubServer, hub_environment  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMOKE_CONFIG = REPO_ROOT / "recipes" / "smoke" / "eval.yaml"
SMOKE_CORPUS = REPO_ROOT / ".cache" / "ted2025" / "smoke-corpus"  # what the smoke YAMLs name
TOKEN = "hf_loopbackSecret0123456789abcdefXYZ"


@pytest.fixture(scope="session")
def corpus(smoke_corpus) -> str:
    assert smoke_corpus == str(SMOKE_CORPUS)
    return smoke_corpus


@pytest.fixture(scope="session")
def run_sft(tiny, corpus, tmp_path_factory) -> str:
    """The smoke SFT adapter, with the README's command."""
    out = tmp_path_factory.mktemp("sft") / "RUN_SFT"
    run([str(BIN / "accelerate"), "launch", "recipes/sft.py", "--config", "recipes/smoke/sft.yaml",
         "--model_name_or_path", tiny, "--output_dir", str(out)])
    return str(out)


@pytest.fixture(scope="session")
def smoke_eval(tiny, run_sft, tmp_path_factory) -> Path:
    """`python recipes/eval.py --config recipes/smoke/eval.yaml --model_name_or_path TINY --adapter RUN_SFT --output_dir EVAL`."""
    out = tmp_path_factory.mktemp("eval") / "EVAL"
    run([sys.executable, "recipes/eval.py", "--config", str(SMOKE_CONFIG), "--model_name_or_path", tiny,
         "--adapter", run_sft, "--output_dir", str(out)])
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32).eval(), AutoTokenizer.from_pretrained(tiny)


def parse(*args: str):
    """The smoke config with these overrides (a later flag wins over an earlier one)."""
    return evaluation.make_parser().parse_args_and_config(
        ["--config", str(SMOKE_CONFIG), "--dataset_name", str(SMOKE_CORPUS), "--model_name_or_path", "unused", *args]
    )


def corpus_rows(corpus, codes: list[str]) -> dict[str, list]:
    return evaluation.load_test_rows(corpus, "test", codes)


# --- the README command ---------------------------------------------------------------------


def test_readme_command_writes_results_table_and_plot(smoke_eval, tiny, run_sft):
    results = json.loads((smoke_eval / "results.json").read_text())
    assert results["model"] == tiny and results["adapter"]["path"] == run_sft
    assert results["adapter"]["recipe"] == "sft" and results["tokenizer"] == run_sft  # the adapter's chat template
    assert results["data"]["split"] == "test" and results["data"]["directions"] == ["en-de", "de-en", "en-zh-cn"]

    ted = results["translation"]["ted2025"]
    assert list(ted) == ["en-de", "de-en", "en-zh-cn"]
    for direction, score in ted.items():
        assert score["segments"] == 16 and 0 <= score["chrf++"] <= 100 and 0 <= score["bleu"] <= 100
        assert score["signatures"]["chrf++"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:2|")
        hypotheses = [json.loads(line) for line in (smoke_eval / "translations" / f"ted2025.{direction}.jsonl").open()]
        assert len(hypotheses) == 16
        # The stored score is sacrebleu's on the stored hypotheses.
        chrf = CHRF(word_order=2).corpus_score([h["hypothesis"] for h in hypotheses], [[h["reference"] for h in hypotheses]])
        assert score["chrf++"] == round(chrf.score, 2)
    assert "tok:zh" in ted["en-zh-cn"]["signatures"]["bleu"] and "tok:13a" in ted["en-de"]["signatures"]["bleu"]

    mc = results["benchmarks"]["tasks"]["ted2025_mc"]
    assert mc["samples"] == 3 * 16 and mc["dataset"] == "json" and 0 <= mc["metrics"]["acc"] <= 1
    assert "acc_stderr" in mc["metrics"] and results["benchmarks"]["lm_eval_version"]

    probe = results["probe"]
    assert probe["languages"] == ["en", "de", "fr", "ja", "zh-cn"] and probe["segments"] == 32
    assert [layer["layer"] for layer in probe["layers"]] == [0, 1, 2]  # embeddings + 2 blocks
    assert len(probe["layers"][0]["pairs"]) == 10 and all(0 <= layer["retrieval_accuracy"] <= 1 for layer in probe["layers"])

    assert results["versions"]["lm_eval"] and results["versions"]["sacrebleu"] and results["versions"]["torch"]
    assert results["settings"]["model_args"]["load_in_4bit"] is True
    table = (smoke_eval / "results.md").read_text()
    for heading in ("## Translation", "## Benchmarks", "## Cross-lingual alignment probe", "| ted2025 | en-de | 16 |"):
        assert heading in table
    assert (smoke_eval / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- metrics ---------------------------------------------------------------------------------


def translation_set(source: str, target: str, sources: list[str], references: list[str]) -> evaluation.TranslationSet:
    return evaluation.TranslationSet("ted2025", source, target, [str(i) for i in range(len(sources))], sources,
                                     references, len(sources))


def test_scores_match_sacrebleu_on_known_strings(corpus):
    rows = corpus_rows(corpus, ["en", "de", "zh-cn"])
    keep = [i for i in range(len(rows["en"])) if rows["en"][i] and rows["de"][i] and rows["zh-cn"][i]][:40]
    english, german, chinese = ([rows[code][i] for i in keep] for code in ("en", "de", "zh-cn"))

    perfect = evaluation.score_translations(translation_set("de", "en", german, english), english)
    assert perfect["chrf++"] == 100.0 and perfect["bleu"] == 100.0

    # A "translation" left in the source language scores low, and exactly what sacrebleu says.
    wrong_language = evaluation.score_translations(translation_set("de", "en", german, english), german)
    assert wrong_language["chrf++"] < 30 and wrong_language["bleu"] < 5
    assert wrong_language["chrf++"] == round(CHRF(word_order=2).corpus_score(german, [english]).score, 2)
    assert wrong_language["bleu"] == round(BLEU().corpus_score(german, [english]).score, 2)

    chinese_scores = evaluation.score_translations(translation_set("en", "zh-cn", english, chinese), chinese)
    assert chinese_scores["chrf++"] == 100.0 and "tok:zh" in chinese_scores["signatures"]["bleu"]
    assert evaluation.bleu_tokenizer("ja") == "char" and evaluation.bleu_tokenizer("de") == "13a"


# --- prompts ----------------------------------------------------------------------------------


def test_prompt_is_the_sft_rendering_up_to_the_answer(tiny_model):
    model, tokenizer = tiny_model
    prompt = evaluation.translation_prompt(tokenizer, "en", "de", "Hello, world.")
    user = data.TRANSLATION_TEMPLATES[0].format(source="English", target="German", text="Hello, world.")
    trained = tokenizer.apply_chat_template(
        [{"role": "user", "content": user}, {"role": "assistant", "content": "Hallo, Welt."}], tokenize=False
    )
    assert user in prompt and trained.startswith(prompt)
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in evaluation.stop_token_ids(tokenizer, model)
    assert evaluation.first_line("  Hallo, Welt.\nmore text\n") == "Hallo, Welt."


# --- probe ------------------------------------------------------------------------------------


def test_probe_functions_on_synthetic_embeddings():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(50, 16, generator=generator)
    assert evaluation.retrieval_accuracy(points, points) == 1.0
    derangement = torch.roll(torch.arange(50), 1)
    assert evaluation.retrieval_accuracy(points, points[derangement]) == 0.0
    # On a shuffled pairing, embeddings that tell rows apart find exactly the rows the shuffle left in place.
    rng = random.Random(0)
    for _ in range(20):
        order = torch.tensor(rng.sample(range(50), 50))
        assert evaluation.retrieval_accuracy(points, points[order]) == pytest.approx((order == torch.arange(50)).float().mean().item())
    # Translations are near each other, not identical: noisy copies still retrieve far above chance.
    noisy = points + 0.1 * torch.randn(50, 16, generator=generator)
    assert evaluation.retrieval_accuracy(points, noisy) >= 0.9 and evaluation.retrieval_accuracy(noisy, points) >= 0.9
    # Embeddings that carry nothing about the text score at chance, never above.
    independent = [evaluation.retrieval_accuracy(torch.randn(50, 16, generator=generator), torch.randn(50, 16, generator=generator))
                   for _ in range(200)]
    assert abs(sum(independent) / len(independent) - 1 / 50) < 0.01 and max(independent) < 0.9
    constant = torch.ones(50, 16)
    assert evaluation.retrieval_accuracy(constant, constant) <= 1 / 50 + 1e-6
    translations, others = evaluation.translation_cosines(points, points)
    assert translations == pytest.approx(1.0) and abs(others) < 0.1


def test_probe_identical_inputs_retrieve_perfectly_at_every_layer(tiny_model, corpus):
    """The same texts pooled twice, in other batches (other padding): a text's embedding is its own,
    whatever else is in its batch, so every layer retrieves perfectly. (A copy of one tensor would
    retrieve perfectly for any embeddings at all, noise included.)"""
    model, tokenizer = tiny_model
    texts = evaluation.probe_segments(corpus, parse("--probe_languages", "en-de", "--probe_segments", "24")[0], seed=0)["en"]
    states = evaluation.mean_pooled_states(model, tokenizer, texts, batch_size=8, max_length=128)
    assert states.shape[:2] == (model.config.num_hidden_layers + 1, 24)
    again = evaluation.mean_pooled_states(model, tokenizer, texts, batch_size=5, max_length=128)
    for layer in evaluation.probe_by_layer({"en": states, "again": again}):
        assert layer["retrieval_accuracy"] == 1.0 and layer["cosine_translations"] == pytest.approx(1.0, abs=1e-4)


def test_probe_is_far_above_chance_on_aligned_pairs_and_at_chance_only_when_shuffled(tiny_model, corpus):
    """Averaged over random shufflings, retrieval is 1/N for *any* embeddings, so "shuffled pairs
    are at chance" alone proves nothing. The model's states must score far above chance when the
    pairs are aligned and fall to the shuffle's fixed points when they are not; embeddings that
    carry nothing about the text (noise, a constant) must not score above chance."""
    model, tokenizer = tiny_model
    n = 32
    chance = 1 / n
    texts = evaluation.probe_segments(corpus, parse("--probe_languages", "en-de", "--probe_segments", str(n))[0], seed=0)
    english, german = (evaluation.mean_pooled_states(model, tokenizer, texts[code], 8, 128) for code in ("en", "de"))
    english_again = evaluation.mean_pooled_states(model, tokenizer, texts["en"], 5, 128)  # other batches, other padding
    rng = random.Random(0)
    shufflings = [torch.tensor(rng.sample(range(n), n)) for _ in range(20)]
    derangements = [order for order in (torch.tensor(rng.sample(range(n), n)) for _ in range(200))
                    if not (order == torch.arange(n)).any()][:20]  # no row left in place
    for layer in range(english.shape[0]):
        assert evaluation.retrieval_accuracy(english[layer], english_again[layer]) == 1.0, layer
        for order in shufflings:  # the same states, shuffled: only the rows left in place are found
            fixed = (order == torch.arange(n)).float().mean().item()
            assert evaluation.retrieval_accuracy(english[layer], english_again[layer][order]) == pytest.approx(fixed), layer

    # English and German: even random weights share names, numbers and subwords between translations.
    aligned = evaluation.probe_by_layer({"en": english, "de": german})
    for layer in aligned:
        assert layer["retrieval_accuracy"] >= 2 * chance, layer
        assert layer["cosine_translations"] > layer["cosine_non_translations"], layer
    shuffled = [evaluation.probe_by_layer({"en": english, "de": german[:, order]}) for order in derangements]
    for layer in range(english.shape[0]):
        mean_shuffled = sum(draw[layer]["retrieval_accuracy"] for draw in shuffled) / len(shuffled)
        assert mean_shuffled < 1.5 * chance and mean_shuffled < aligned[layer]["retrieval_accuracy"] / 2, layer

    generator = torch.Generator().manual_seed(0)
    noise = [evaluation.probe_by_layer({code: torch.randn(english.shape, generator=generator) for code in ("en", "de")})
             for _ in range(20)]
    for layer in range(english.shape[0]):
        mean_noise = sum(draw[layer]["retrieval_accuracy"] for draw in noise) / len(noise)
        assert mean_noise < 1.5 * chance, layer
    constant = evaluation.probe_by_layer({"en": torch.ones_like(english), "de": torch.ones_like(german)})
    assert all(layer["retrieval_accuracy"] <= chance + 1e-4 for layer in constant)


# --- FLORES-200 --------------------------------------------------------------------------------


def test_flores_codes_map_through_the_registry():
    assert evaluation.flores_language("eng_Latn") == "en"
    assert evaluation.flores_language("deu_Latn") == "de"
    assert evaluation.flores_language("zho_Hans") == "zh-cn" and evaluation.flores_language("zho_Hant") == "zh-tw"
    assert evaluation.flores_language("yue_Hant") == "yue"
    assert evaluation.flores_language("arb_Arab") == "ar"  # an individual-language alias
    assert evaluation.flores_language("por_Latn") == "pt-br" and evaluation.flores_language("fra_Latn") == "fr"
    assert evaluation.flores_language("kmr_Latn") is None  # TED's kmr track is in Arabic script
    assert evaluation.flores_language("srp_Cyrl") is None and evaluation.flores_language("xyz_Latn") is None


def write_flores(folder: Path, rows: dict[str, list], codes: list[str], split: str = "devtest") -> Path:
    """A FLORES-200 layout (flores200_dataset/devtest/{iso639_3}_{Script}.devtest) from corpus rows."""
    keep = [i for i in range(len(rows["talk_id"])) if all(rows[code][i] for code in codes)][:12]
    (folder / split).mkdir(parents=True)
    for code in codes:
        lang = registry.get(code)
        (folder / split / f"{lang.iso639_3}_{lang.script}.{split}").write_text(
            "\n".join(rows[code][i] for i in keep) + "\n", encoding="utf-8")
    return folder


def test_flores_run_without_the_harness(tiny, run_sft, corpus, tmp_path):
    flores = write_flores(tmp_path / "flores200_dataset", corpus_rows(corpus, ["en", "de", "ja"]), ["en", "de", "ja"])
    script_args, eval_args, model_args = parse(
        "--model_name_or_path", tiny, "--adapter", run_sft, "--output_dir", str(tmp_path / "out"),
        "--flores_dir", str(flores), "--flores_directions", "en-ja", "de-en", "--directions", "en-de",
        "--max_segments", "8", "--probe_segments", "0", "--max_new_tokens", "8",
    )
    script_args.lm_eval_tasks = []
    results = evaluation.main(script_args, eval_args, model_args)
    flores_scores = results["translation"]["flores200"]
    assert list(flores_scores) == ["en-ja", "de-en"] and flores_scores["en-ja"]["segments"] == 8
    assert flores_scores["en-ja"]["available_segments"] == 12 and "tok:char" in flores_scores["en-ja"]["signatures"]["bleu"]
    assert results["data"]["flores"]["split"] == "devtest" and results["probe"] is None and results["benchmarks"] is None
    assert (tmp_path / "out" / "translations" / "flores200.en-ja.jsonl").is_file()
    assert not (tmp_path / "out" / "probe.png").exists()


# --- errors before heavy work -------------------------------------------------------------------


@pytest.fixture
def no_model_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad input was reported")

    monkeypatch.setattr(evaluation, "load_model", refuse)
    monkeypatch.setattr(evaluation, "load_tokenizer", refuse)


def test_unknown_language_and_bad_directions():
    with pytest.raises(registry.UnknownLanguageError, match="did you mean: de"):
        parse("--directions", "en-germn")
    with pytest.raises(ValueError, match="names two languages"):
        parse("--directions", "en-de-fr")
    with pytest.raises(ValueError, match="given twice"):
        parse("--directions", "en-en")
    assert parse_direction("en->zh-cn") == ("en", "zh-cn") and parse_direction("zh_CN-pt-br") == ("zh-cn", "pt-br")
    with pytest.raises(ValueError, match="hub_model_id"):
        parse("--push_to_hub", "true")


def test_missing_adapter(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        parse("--adapter", str(tmp_path / "RUN_SFT"))
    with pytest.raises(FileNotFoundError, match="not found"):
        parse("--adapter", "RUN_SFT")
    with pytest.raises(ValueError, match="no adapter_config.json"):
        parse("--adapter", str(tmp_path))


def test_language_missing_from_the_corpus(corpus, no_model_loading, tmp_path):
    args = parse("--output_dir", str(tmp_path), "--directions", "en-sw")
    with pytest.raises(ValueError, match="sw is not in the corpus"):
        evaluation.main(*args)


def test_flores_folder_missing_a_language(corpus, no_model_loading, tmp_path):
    flores = write_flores(tmp_path / "flores200_dataset", corpus_rows(corpus, ["en", "de"]), ["en", "de"])
    args = parse("--output_dir", str(tmp_path / "out"), "--flores_dir", str(flores),
                 "--flores_directions", "en-fr")
    with pytest.raises(FileNotFoundError, match=r"no file for fr .*fra_Latn\.devtest.*it has de, en"):
        evaluation.main(*args)
    args = parse("--output_dir", str(tmp_path / "out"), "--flores_dir", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="no FLORES-200 split folder"):
        evaluation.main(*args)


def test_unknown_harness_task(corpus, no_model_loading, tmp_path):
    args = parse("--output_dir", str(tmp_path), "--lm_eval_tasks", "xnlii", "--probe_segments", "0")
    with pytest.raises(ValueError, match=r"xnlii \(did you mean: xnli"):
        evaluation.main(*args)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the GPU profile on a machine without CUDA")
def test_gpu_profile_without_cuda(no_model_loading, tmp_path):
    args = parse("--output_dir", str(tmp_path), "--device_profile", "gpu")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        evaluation.main(*args)


# --- the local lm-eval task ------------------------------------------------------------------------


def test_mc_documents(corpus):
    rows = corpus_rows(corpus, ["en", "de"])
    docs = mc_docs(rows, [("en", "de")], num_choices=4, max_docs=30, seed=1)
    assert len(docs) == 30 and docs == mc_docs(rows, [("en", "de")], num_choices=4, max_docs=30, seed=1)
    answer_by_source = {en: de for en, de in zip(rows["en"], rows["de"]) if en and de}
    talks_by_german = {}
    for german, talk in zip(rows["de"], rows["talk_id"]):
        talks_by_german.setdefault(german, set()).add(talk)
    for doc in docs:
        assert doc["choices"][doc["label"]] == answer_by_source[doc["source"]]
        assert len(set(doc["choices"])) == 4 and doc["source_name"] == "English" and doc["target_name"] == "German"
        talk = int(doc["id"].split("/")[1])
        assert all(talk in talks_by_german[choice] for choice in doc["choices"])  # distractors from the same talk
    assert len({doc["label"] for doc in docs}) > 1
    task = yaml.safe_load((REPO_ROOT / "recipes" / "tasks" / "ted2025_mc.yaml").read_text())
    assert task["dataset_path"] == "json" and task["output_type"] == "multiple_choice"


# --- push ------------------------------------------------------------------------------------------

CARD = """---
license: apache-2.0
tags:
- my-tag
custom_field:
  kept: true
model-index:
- name: tiny-sft
  results:
  - task:
      type: text-classification
    dataset:
      name: Other
      type: someone/other
    metrics:
    - type: accuracy
      value: 0.5
---
# tiny-sft

Custom text that the push must keep.
"""


@pytest.fixture
def model_hub(tmp_path, monkeypatch):
    with HubServer(tmp_path / "hub", repo_type="model") as server:
        hub_environment(monkeypatch, server.url, tmp_path / "hf_home")
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        yield server


def test_push_keeps_the_card_and_adds_eval_results(model_hub, smoke_eval):
    from huggingface_hub import ModelCard, parse_eval_result_entries

    repo = model_hub.root / "org" / "tiny-sft"
    repo.mkdir(parents=True)
    (repo / "README.md").write_text(CARD)
    results = json.loads((smoke_eval / "results.json").read_text())
    evaluation.push_results(results, "org/tiny-sft", "ted2025/TED2025")
    assert [path for method, path in model_hub.requests if method == "POST" and path.endswith("/commit/main")] == [
        "/api/models/org/tiny-sft/commit/main"]  # one commit

    card = ModelCard((repo / "README.md").read_text())
    assert "Custom text that the push must keep." in card.text
    assert card.data.license == "apache-2.0" and card.data.tags == ["my-tag"] and card.data.custom_field == {"kept": True}
    by_dataset = {(r.dataset_type, r.dataset_config, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert by_dataset[("someone/other", None, "accuracy")] == 0.5  # an unrelated result stays
    assert by_dataset[("ted2025/TED2025", "en-de", "chrf")] == results["translation"]["ted2025"]["en-de"]["chrf++"]
    assert by_dataset[("ted2025/TED2025", None, "acc")] == results["benchmarks"]["tasks"]["ted2025_mc"]["metrics"]["acc"]

    entries = parse_eval_result_entries(yaml.safe_load((repo / ".eval_results" / "ted2025.yaml").read_text()))
    assert {(e.dataset_id, e.task_id) for e in entries} == {
        ("ted2025/TED2025", "translation_en-de"), ("ted2025/TED2025", "translation_de-en"),
        ("ted2025/TED2025", "translation_en-zh-cn"), ("ted2025/TED2025", "ted2025_mc")}
    assert json.loads((repo / "ted2025_eval.json").read_text()) == results

    # A new evaluation replaces its own scores and nothing else.
    results["translation"]["ted2025"]["en-de"]["chrf++"] = 42.0
    evaluation.push_results(results, "org/tiny-sft", "ted2025/TED2025")
    card = ModelCard((repo / "README.md").read_text())
    chrf_en_de = [r.metric_value for r in card.data.eval_results if r.dataset_config == "en-de" and r.metric_type == "chrf"]
    assert chrf_en_de == [42.0] and len(card.data.eval_results) == len(by_dataset)
    assert "Custom text that the push must keep." in card.text and card.data.custom_field == {"kept": True}


def test_push_creates_a_private_repo_with_a_card(model_hub, smoke_eval):
    from huggingface_hub import ModelCard

    results = json.loads((smoke_eval / "results.json").read_text())
    evaluation.push_results(results, "org/new-model", "ted2025/TED2025")
    assert model_hub.private["org/new-model"] is True
    card = ModelCard((model_hub.root / "org" / "new-model" / "README.md").read_text())
    assert card.data.model_name == "new-model" and len(card.data.eval_results) == 3 * 2 + 1


def test_gpu_eval_profile_parses_and_refuses_a_machine_without_cuda():
    config = REPO_ROOT / "recipes" / "qwen2.5-7b" / "eval" / "config_qlora.yaml"
    script_args, eval_args, model_args = evaluation.make_parser().parse_args_and_config(["--config", str(config)])
    assert script_args.device_profile == "gpu" and model_args.load_in_4bit
    if not torch.cuda.is_available():
        with pytest.raises(Exception, match="CUDA"):
            evaluation.check_device(script_args.device_profile)
