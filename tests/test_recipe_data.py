"""The recipes' data code (recipes/data.py) and argument checks, without training: the four CPT
formats at one token budget, provenance through packing, the unaligned control, the SFT
instructions, the chat template fallback and the errors raised before any heavy work."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
import yaml

pytest.importorskip("trl", reason="the recipes need the `train` extra")

from builder.languages import UnknownLanguageError  # noqa: E402
from recipes import cpt, data, sft  # noqa: E402
from recipes.smoke import corpus as smoke_corpus  # noqa: E402
from recipes.smoke.make_tiny_model import train_tokenizer  # noqa: E402
from recipes.training import DeviceProfileError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
SUBSET = "en-de-fr-ja-zh-cn"  # in both ../shared's real sample and the demo sample
MAX_LENGTH = 256
BUDGET = 4096


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> str:
    return smoke_corpus.smoke_corpus(str(tmp_path_factory.mktemp("recipe-data") / "corpus"))


@pytest.fixture(scope="session")
def windows(corpus):
    return data.load_windows(corpus, SUBSET, "train", 2, 1)


@pytest.fixture(scope="session")
def tokenizer(windows):
    texts = [text for window in windows[0] for text in window.texts.values()]
    return train_tokenizer(texts, vocab_size=2048)


@pytest.fixture(scope="session")
def built(windows, tokenizer):
    """Every format at the same budget: {format: (dataset, summary)}."""
    return {
        fmt: data.build_cpt_dataset(*windows, data.CPTSettings(fmt, BUDGET), tokenizer, MAX_LENGTH, seed=0)
        for fmt in data.FORMATS
    }


def test_every_format_meets_the_same_token_budget(built):
    tokens = {fmt: summary["tokens"] for fmt, (_, summary) in built.items()}
    for fmt, count in tokens.items():
        assert BUDGET * (1 - data.BUDGET_SHORTFALL) <= count <= BUDGET, (fmt, count)
    assert (max(tokens.values()) - min(tokens.values())) / BUDGET < 0.01
    for dataset, summary in built.values():
        assert sum(map(len, dataset["input_ids"])) == summary["tokens"]


def test_texts_fit_max_length_and_end_with_eos_unless_cut(built, tokenizer):
    for dataset, summary in built.values():
        lengths = [len(ids) for ids in dataset["input_ids"]]
        assert max(lengths) <= MAX_LENGTH
        ended = sum(ids[-1] == tokenizer.eos_token_id for ids in dataset["input_ids"])
        assert ended >= len(dataset) - summary["counts"].get("texts_cut_to_max_length", 0)


def test_blocks_are_tagged_and_languages_per_text_follow_the_format(built):
    expected = {"pairwise": {2}, "monolingual": {1}}
    for fmt, (dataset, _) in built.items():
        counts = {len(languages) for languages in dataset["block_languages"]}
        assert counts == expected[fmt] if fmt in expected else min(counts) >= 2, (fmt, counts)
        for text, languages in zip(dataset["text"], dataset["block_languages"]):
            tags = [line.split("] ")[0] + "]" for line in text.split("\n") if line.startswith("[")]
            assert tags == [data.LANGUAGE_TAG.format(code=code).strip() for code in languages]


def test_multiway_blocks_are_one_window_in_shuffled_language_order(built):
    dataset, _ = built["multiway"]
    orders = Counter()
    for keys, talks, languages in zip(dataset["block_segment_keys"], dataset["block_talk_ids"], dataset["block_languages"]):
        assert len({tuple(k) for k in keys}) == 1 and len(set(talks)) == 1
        orders[tuple(languages)] += 1
    assert len(orders) > 1  # not one fixed language order


@pytest.mark.parametrize("fmt", ["unaligned", "monolingual"])
def test_no_packed_sequence_contains_an_aligned_pair(built, fmt):
    dataset, _ = built[fmt]
    # Sequences four times as long as training's hold several texts each (the check is not
    # vacuous), and are the harder case: more texts that could share a segment.
    packed = data.pack(dataset, 4 * MAX_LENGTH)
    assert len(packed) < len(dataset)
    assert data.shared_segments(packed, dataset) == []
    # stronger: a talk belongs to one language in the whole dataset
    language_of_talk = {}
    for talks, languages in zip(dataset["block_talk_ids"], dataset["block_languages"]):
        for talk, language in zip(talks, languages):
            assert language_of_talk.setdefault(talk, language) == language


def test_the_provenance_check_finds_the_pairs_of_aligned_formats(built):
    for fmt in ("multiway", "pairwise"):
        dataset, _ = built[fmt]
        assert data.shared_segments(data.pack(dataset, MAX_LENGTH), dataset)


def test_unaligned_texts_mix_languages_from_different_talks(built):
    dataset, _ = built["unaligned"]
    assert all(len(set(talks)) == len(talks) >= 2 for talks in dataset["block_talk_ids"])


def test_pack_keeps_every_token_once(built):
    dataset, _ = built["monolingual"]
    packed = data.pack(dataset, MAX_LENGTH, shuffle_seed=3)
    assert sorted(i for row in packed["example_index"] for i in row) == sorted(
        i for i, ids in enumerate(dataset["input_ids"]) for _ in ids
    )
    assert 0 < data.packing_efficiency(packed, MAX_LENGTH) <= 1


def test_same_seed_same_texts_other_seed_other_texts(windows, tokenizer, built):
    again = data.build_cpt_dataset(*windows, data.CPTSettings("multiway", BUDGET), tokenizer, MAX_LENGTH, seed=0)[1]
    other = data.build_cpt_dataset(*windows, data.CPTSettings("multiway", BUDGET), tokenizer, MAX_LENGTH, seed=1)[1]
    assert again["fingerprint"] == built["multiway"][1]["fingerprint"] != other["fingerprint"]


def test_a_budget_the_data_cannot_meet_is_an_error(windows, tokenizer):
    with pytest.raises(data.BudgetError, match="token_budget"):
        data.build_cpt_dataset(*windows, data.CPTSettings("unaligned", 10**9), tokenizer, MAX_LENGTH, seed=0)


def test_talks_are_given_to_languages_that_have_them():
    windows = [data.Window(1, (0,), {"en": "a" * 50, "de": "b"}), data.Window(2, (0,), {"en": "c"}),
               data.Window(3, (0,), {"en": "d", "de": "e"})]
    owner = data.assign_talks(windows, ["en", "de"], random.Random(0), Counter())
    assert owner[2] == "en" and "de" in owner.values()
    with pytest.raises(data.BudgetError, match="fr got no talk"):
        data.assign_talks(windows, ["en", "de", "fr"], random.Random(0), Counter())


def test_the_demo_sample_is_the_fallback_without_shared_data(tmp_path, monkeypatch):
    monkeypatch.setattr(smoke_corpus, "SHARED_TED_SAMPLE", tmp_path / "absent")
    corpus = smoke_corpus.smoke_corpus(str(tmp_path / "corpus"))
    windows, languages = data.load_windows(corpus, SUBSET, "train", 2, 1)
    assert set(languages) == set(data.subset_languages(SUBSET)) and windows
    assert "sample" in (Path(corpus) / "build_report.json").read_text()


# --- SFT -------------------------------------------------------------------------------------


def test_instructions_cover_directions_phrasings_and_multi_target(windows):
    dataset, summary = data.build_sft_dataset(windows[0], data.SFTSettings(num_examples=300), seed=0)
    assert len(dataset) == 300 and summary["directions"] > 5
    assert len(set(dataset["template"])) >= len(data.TRANSLATION_TEMPLATES)
    for example in dataset:
        user, assistant = example["messages"]
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        assert example["source"] not in example["targets"]
        if len(example["targets"]) == 2:
            names = [data.registry.get(code).name for code in example["targets"]]
            assert [line.split(": ")[0] for line in assistant["content"].split("\n")][: 2] == names
            assert " and ".join(names) in user["content"]
    assert 0 < summary["multi_target_examples"] < 300


def test_a_model_without_chat_template_gets_the_documented_default():
    from trl.chat_template_utils import is_chat_template_stop_token_trained

    bare = train_tokenizer(["hello world"] * 10, vocab_size=300, chat_template=None)
    assert data.ensure_chat_template(bare, assistant_only_loss=True) == "default"
    assert bare.chat_template == data.DEFAULT_CHAT_TEMPLATE
    assert is_chat_template_stop_token_trained(bare)  # EOS is inside the assistant mask


def test_a_template_that_cannot_mask_assistant_turns_is_an_error_with_assistant_only_loss():
    bare = train_tokenizer(["hello world"] * 10, vocab_size=300, chat_template="{{ messages[0]['content'] }}")
    with pytest.raises(ValueError, match="generation"):
        data.ensure_chat_template(bare, assistant_only_loss=True)
    assert data.ensure_chat_template(bare, assistant_only_loss=False) == "model"


# --- arguments and configs ------------------------------------------------------------------------


def smoke_args(recipe, *extra):
    config = f"recipes/smoke/{'cpt' if recipe is cpt else 'sft'}.yaml"
    return recipe.make_parser().parse_args_and_config(["--config", str(REPO_ROOT / config), "--output_dir", "unused", *extra])


@pytest.mark.parametrize("recipe", [cpt, sft])
def test_unknown_language_fails_at_parse_time(recipe):
    with pytest.raises(UnknownLanguageError, match="'cm'; did you mean: zh-cn"):
        smoke_args(recipe, "--dataset_config", "en-zh-cm")


@pytest.mark.parametrize("recipe", [cpt, sft])
def test_empty_subset_fails_at_parse_time(recipe):
    with pytest.raises(ValueError, match="empty language subset"):
        smoke_args(recipe, "--dataset_config", " ")


def test_bad_format_and_budget_fail_at_parse_time():
    with pytest.raises(SystemExit):  # argparse: "invalid choice: 'aligned' (choose from 'multiway', ...)"
        smoke_args(cpt, "--cpt_format", "aligned")
    with pytest.raises(ValueError, match="token_budget"):
        smoke_args(cpt, "--token_budget", "0")
    with pytest.raises(ValueError, match="min_languages=9"):
        smoke_args(sft, "--min_languages", "9")


def test_4bit_without_lora_fails_at_parse_time():
    with pytest.raises(ValueError, match="QLoRA"):
        smoke_args(cpt, "--use_peft", "false")


GPU_CONFIGS = sorted(p for p in REPO_ROOT.glob("recipes/qwen2.5-*/*/config_qlora.yaml") if p.parent.name in ("cpt", "sft"))


def test_there_are_consumer_and_datacenter_profiles():
    names = {path.relative_to(REPO_ROOT / "recipes").as_posix() for path in GPU_CONFIGS}
    assert {"qwen2.5-7b/cpt/config_qlora.yaml", "qwen2.5-7b/sft/config_qlora.yaml",
            "qwen2.5-72b/cpt/config_qlora.yaml", "qwen2.5-72b/sft/config_qlora.yaml"} <= names


@pytest.mark.parametrize("config", GPU_CONFIGS, ids=lambda p: p.parent.parent.name + "/" + p.parent.name)
def test_gpu_profiles_parse_and_push_privately_every_save(config):
    import torch

    recipe = cpt if config.parent.name == "cpt" else sft
    values = yaml.safe_load(config.read_text())
    assert values["load_in_4bit"] and values["use_peft"] and values["lora_target_modules"] == "all-linear"
    assert values["push_to_hub"] and values["hub_model_id"] and values["hub_strategy"] == "every_save"
    assert values["hub_private_repo"] is True and values["bf16"] and values["activation_checkpointing"]
    if not torch.cuda.is_available():
        with pytest.raises(DeviceProfileError, match="no CUDA"):
            recipe.make_parser().parse_args_and_config(["--config", str(config)])
        extra = ["--bf16", "false", "--load_in_4bit", "false"]  # the rest of the config must still parse
    else:
        extra = []
    script_args, training_args, model_args = recipe.make_parser().parse_args_and_config(["--config", str(config), *extra])
    assert training_args.hub_private_repo and training_args.packing
    if "72b" in str(config):  # FSDP / ZeRO-3 shard float tensors only
        assert model_args.bnb_4bit_quant_storage == "bfloat16"


def test_accelerate_profiles():
    from accelerate.commands.config.config_args import load_config_from_file

    kinds = {path.stem: load_config_from_file(str(path)) for path in (REPO_ROOT / "recipes/accelerate_configs").glob("*.yaml")}
    assert {name: str(c.distributed_type).split(".")[-1] for name, c in kinds.items()} == {
        "single_gpu": "NO", "multi_gpu": "MULTI_GPU", "deepspeed_zero3": "DEEPSPEED", "fsdp": "FSDP"}
    fsdp = kinds["fsdp"].fsdp_config
    assert fsdp["fsdp_use_orig_params"] is False and fsdp["fsdp_cpu_ram_efficient_loading"] is True
