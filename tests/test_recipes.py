"""Both recipes end to end on a CPU with 4-bit QLoRA and a tiny local model: the README commands
as written, a loss that falls on a repeated batch, an adapter that saves and reloads, a run that
resumes after an interruption, the unaligned control on the trainer's own packed sequences, the
assistant-only loss, the default chat template and the LoRA / full fine-tuning modes.

Nothing is downloaded: the model is made by recipes/smoke/make_tiny_model.py and the corpus is
built from ../shared's real TED sample (or the demo sample without it)."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("trl", reason="the recipes need the `train` extra")

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from recipes import cpt, data, sft  # noqa: E402
from recipes.training import DATA_CACHE, RUN_RECORD  # noqa: E402

from conftest import run  # noqa: E402

pytestmark = pytest.mark.usefixtures("smoke_corpus")  # what the smoke configs read

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMOKE_CORPUS = REPO_ROOT / ".cache" / "ted2025" / "smoke-corpus"  # what the smoke YAMLs name


def parse(recipe, tiny: str, output_dir: Path, *extra: str):
    config = REPO_ROOT / "recipes" / "smoke" / f"{'cpt' if recipe is cpt else 'sft'}.yaml"
    return recipe.make_parser().parse_args_and_config(
        ["--config", str(config), "--model_name_or_path", tiny, "--output_dir", str(output_dir),
         "--dataset_name", str(SMOKE_CORPUS), *extra]
    )


def train(recipe, tiny: str, output_dir: Path, *extra: str, callbacks=None):
    return recipe.main(*parse(recipe, tiny, output_dir, *extra), callbacks=callbacks)


def losses(trainer) -> list[float]:
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


# --- the README commands --------------------------------------------------------------------


def test_readme_smoke_commands(tiny, tmp_path):
    accelerate = str(BIN / "accelerate")
    run([accelerate, "launch", "recipes/cpt.py", "--config", "recipes/smoke/cpt.yaml",
         "--model_name_or_path", tiny, "--output_dir", str(tmp_path / "RUN_CPT")])
    run([accelerate, "launch", "recipes/sft.py", "--config", "recipes/smoke/sft.yaml",
         "--model_name_or_path", tiny, "--output_dir", str(tmp_path / "RUN_SFT")])
    for name, recipe in (("RUN_CPT", "cpt"), ("RUN_SFT", "sft")):
        out = tmp_path / name
        assert (out / "adapter_model.safetensors").is_file() and (out / "adapter_config.json").is_file()
        record = json.loads((out / RUN_RECORD).read_text())
        assert record["recipe"] == recipe and record["subset"] == "en-de-fr-ja-zh-cn"
        assert record["training_mode"].startswith("QLoRA: 4-bit NF4")
        card = (out / "README.md").read_text()
        assert "Language subset: `en-de-fr-ja-zh-cn`" in card
    card = (tmp_path / "RUN_CPT" / "README.md").read_text()
    assert "Format: `multiway`" in card and "Token budget: 4,096" in card


# --- training ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[cpt, sft], ids=["cpt", "sft"])
def repeated_batch_run(request, tiny, tmp_path_factory):
    """Eight steps on one packed sequence: every step sees the same batch."""
    recipe = request.param
    one_sequence = ["--token_budget", "250"] if recipe is cpt else ["--num_train_examples", "1"]
    out = tmp_path_factory.mktemp(f"{recipe.__name__.split('.')[-1]}-repeated")
    trainer = train(recipe, tiny, out, *one_sequence, "--max_steps", "8", "--per_device_train_batch_size", "1",
                    "--learning_rate", "2e-2", "--save_strategy", "no")
    return recipe, trainer, out


def test_loss_is_finite_and_falls_on_a_repeated_batch(repeated_batch_run):
    recipe, trainer, _ = repeated_batch_run
    assert len(trainer.train_dataset) == 1
    steps = losses(trainer)
    assert len(steps) == 8 and all(math.isfinite(loss) for loss in steps)
    assert steps[-1] < steps[0] - 0.1, steps


def test_adapter_saves_and_reloads(repeated_batch_run, tiny):
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    _, trainer, out = repeated_batch_run
    saved = load_file(out / "adapter_model.safetensors")
    trained = {name.replace(".default", ""): tensor for name, tensor in trainer.model.state_dict().items() if "lora_" in name}
    assert saved.keys() == trained.keys() and len(saved) == 2 * 7 * 2  # A and B, 7 linear layers, 2 blocks
    assert all(torch.equal(saved[name].float(), trained[name].float()) for name in saved)

    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float32)
    base = AutoModelForCausalLM.from_pretrained(tiny, quantization_config=quantization, dtype=torch.float32)
    inputs = torch.tensor([trainer.train_dataset[0]["input_ids"][:64]])
    # The reloaded model must reproduce the trained one, up to bitsandbytes' CPU kernels, which
    # differ by code path at the 1e-3 level (in eval mode they even repack the 4-bit weights with
    # bf16 scales, hence train mode here; LoRA dropout is 0 in the smoke config).
    trainer.model.train()
    with torch.no_grad():
        base_logits = base.train()(inputs).logits
        reloaded = PeftModel.from_pretrained(base, out).train()
        for name, parameter in reloaded.named_parameters():
            if "lora_" in name:  # SFTTrainer keeps QLoRA adapters in bf16 (QLoRA paper); compute alike
                parameter.data = parameter.data.to(torch.bfloat16)
        reloaded_logits = reloaded(inputs).logits
        trained_logits = trainer.model(input_ids=inputs).logits
    adapter_effect = (reloaded_logits - base_logits).abs().max()
    assert adapter_effect > 0.1  # the adapter does something
    assert (reloaded_logits - trained_logits).abs().max() < 0.02 * adapter_effect


class Interrupted(Exception):
    pass


class InterruptAfterFirstSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        raise Interrupted(state.global_step)


class RecordSteps(TrainerCallback):
    def __init__(self):
        self.steps = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny, tmp_path):
    extra = ["--max_steps", "4", "--save_steps", "2"]
    with pytest.raises(Interrupted):
        train(cpt, tiny, tmp_path, *extra, callbacks=[InterruptAfterFirstSave()])
    assert (tmp_path / "checkpoint-2" / "trainer_state.json").is_file()
    assert not (tmp_path / "checkpoint-4").exists()
    built = sorted((tmp_path / DATA_CACHE).iterdir())

    record = RecordSteps()
    trainer = train(cpt, tiny, tmp_path, *extra, callbacks=[record])
    assert record.steps == [3, 4]  # steps 1-2 came from checkpoint-2
    assert sorted((tmp_path / DATA_CACHE).iterdir()) == built  # the same texts, read back
    assert trainer.state.global_step == 4 and (tmp_path / "checkpoint-4").is_dir()
    assert [entry["step"] for entry in trainer.state.log_history if "loss" in entry] == [1, 2, 3, 4]


@pytest.mark.parametrize("fmt", ["unaligned", "multiway"])
def test_the_trainers_packed_sequences_hold_no_aligned_pair_in_the_unaligned_control(tiny, tmp_path, fmt):
    """The provenance check runs on the very sequences SFTTrainer trains on."""
    script_args, training_args, model_args = parse(cpt, tiny, tmp_path, "--cpt_format", fmt, "--max_steps", "2",
                                                   "--save_strategy", "no")
    trainer = cpt.main(script_args, training_args, model_args)
    texts, summary = data.cpt_dataset(
        str(SMOKE_CORPUS), script_args.dataset_train_split, script_args.dataset_config, script_args.min_languages,
        script_args.cpt_settings(), trainer.processing_class, training_args.max_length, training_args.seed,
    )
    assert summary["fingerprint"] == trainer.run_record["train"]["fingerprint"]
    packed = data.pack(texts, training_args.max_length, training_args.packing_strategy,
                       training_args.seed if training_args.shuffle_dataset else None)
    assert packed["input_ids"] == trainer.train_dataset["input_ids"]
    assert packed["seq_lengths"] == trainer.train_dataset["seq_lengths"]
    assert max(map(len, packed["seq_lengths"])) > 1  # sequences do hold several texts
    shared = data.shared_segments(packed, texts)
    assert (shared == []) if fmt == "unaligned" else shared


def test_sft_loss_is_on_assistant_turns_only(tiny, tmp_path):
    trainer = train(sft, tiny, tmp_path, "--max_steps", "2", "--save_strategy", "no")
    tokenizer = trainer.processing_class
    conversations = 0
    for row in trainer.train_dataset:
        offset = 0
        for length in row["seq_lengths"]:  # the conversations packed into this row
            ids, labels = row["input_ids"][offset : offset + length], row["labels"][offset : offset + length]
            offset += length
            answer = tokenizer.decode(ids).split("<|im_start|>assistant\n", 1)[1]
            if "<|im_end|>" in answer:  # else BFD cut this conversation at max_length
                answer = answer.split("<|im_end|>")[0] + "<|im_end|>"
            assert tokenizer.decode([label for label in labels if label != -100]) == answer
            conversations += 1
    assert conversations == 48 > len(trainer.train_dataset)  # every instruction, several per row
    assert all(math.isfinite(loss) for loss in losses(trainer))


def test_a_model_without_chat_template_trains_with_the_default(tiny, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(tiny, bare)
    (bare / "chat_template.jinja").unlink()
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    trainer = train(sft, str(bare), tmp_path / "run", "--max_steps", "2", "--save_strategy", "no")
    assert trainer.processing_class.chat_template == data.DEFAULT_CHAT_TEMPLATE
    assert "### Assistant:" in tokenizer_text(trainer)


def tokenizer_text(trainer) -> str:
    return trainer.processing_class.decode(trainer.train_dataset[0]["input_ids"])


@pytest.mark.parametrize(
    "mode, extra",
    [("lora", ["--load_in_4bit", "false"]), ("full", ["--load_in_4bit", "false", "--use_peft", "false"])],
)
def test_plain_lora_and_full_fine_tuning(tiny, tmp_path, mode, extra):
    trainer = train(cpt, tiny, tmp_path, *extra, "--max_steps", "2", "--save_strategy", "no", "--learning_rate", "1e-3")
    assert all(math.isfinite(loss) for loss in losses(trainer))
    saved = "adapter_model.safetensors" if mode == "lora" else "model.safetensors"
    assert (tmp_path / saved).is_file()
    assert not getattr(trainer.model, "is_loaded_in_4bit", False)
    assert trainer.run_record["training_mode"].startswith("LoRA" if mode == "lora" else "full")
