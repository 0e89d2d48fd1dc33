"""Evaluate a base model, a LoRA adapter or a merged model trained on TED2025: translation quality,
the multilingual benchmarks, and a cross-lingual representation-alignment probe, in one command.

```bash
# a Qwen2.5-7B SFT adapter on one GPU (the base is loaded in 4 bit, as it was trained)
python recipes/eval.py --config recipes/qwen2.5-7b/eval/config_qlora.yaml

# on a CPU, with the smoke model and adapter (see recipes/smoke/sft.yaml)
python recipes/eval.py --config recipes/smoke/eval.yaml --model_name_or_path TINY --adapter RUN_SFT --output_dir EVAL
```

What it measures
----------------
* **Machine translation** on the TED2025 test split (held-out talks) for ``directions``, and on
  FLORES-200 ``devtest`` when ``flores_dir`` is given. Generation is batched and greedy, with the
  first SFT phrasing (``recipes.data.TRANSLATION_TEMPLATES[0]``) as the user turn of the model's
  chat template and ``add_generation_prompt=True``, exactly as SFT renders its instructions; the
  first line of the answer is the hypothesis. Scores are sacrebleu's corpus chrF++ and BLEU (BLEU
  tokenised per target script: ``zh`` for Chinese, ``char`` for scripts written without spaces),
  each with its signature. (``evaluate``'s sacrebleu metric fetches its script from the Hub, so
  sacrebleu is called directly: same numbers, and it runs offline.)
* **Benchmarks** through lm-evaluation-harness (``lm_eval.simple_evaluate``): the task names in
  ``lm_eval_tasks`` go to the harness as they are (xnli, xcopa, xstorycloze, belebele,
  mgsm_direct, m_mmlu, mmmlu, ...; these download their data from the Hub). ``ted2025_mc`` is a
  local multiple-choice translation task (``recipes/tasks/``) built here from the test split.
  The harness scores the same model object as the rest of the run (an ``HFLM`` around the loaded
  base + adapter), so a QLoRA adapter is scored on its 4-bit base, as it was trained.
* **The alignment probe** (the paper's RQ1): multi-way test segments in ``probe_languages`` are
  encoded one language at a time, their hidden states mean-pooled at every layer (layer 0 is the
  embeddings). Per layer and language pair: retrieval accuracy (does segment i in A have segment
  i in B as its nearest neighbour by cosine within the batch, averaged over A->B and B->A; chance
  is 1/N) and the mean cosine of translations against that of non-translations.

FLORES-200
----------
``flores_dir`` is the folder the FLORES-200 archive unpacks to, ``flores200_dataset/``::

    flores200_dataset/
      dev/eng_Latn.dev  deu_Latn.dev  ...
      devtest/eng_Latn.devtest  deu_Latn.devtest  zho_Hans.devtest  ...

one sentence per line, line i of every file a translation of line i of the others. A FLORES code
``xxx_Scrp`` names the registry language with ISO 639-3 ``xxx`` (or the alias ``xxx``, e.g.
``arb`` -> ``ar``) written in script ``Scrp``; where two registry languages share both (``por_Latn``:
``pt-br`` and ``pt``) the more translated one on TED is taken (``pt-br``, ``fr``).

Results
-------
``output_dir`` gets ``results.json`` (model, adapter, data, metrics by direction, task and layer,
settings, versions and the sacrebleu signatures), ``results.md`` (the same as tables),
``probe.png`` (the probe by layer) and ``translations/{test set}.{src}-{tgt}.jsonl`` (every
source, reference and hypothesis). With ``push_to_hub``, the scores go to ``hub_model_id`` in one
commit: ``.eval_results/ted2025.yaml`` (the Hub's eval-results format), ``model-index`` merged into
the model card (other metadata and the card's text are kept), and ``ted2025_eval.json``.

Bad input fails before a model is loaded: an unknown language in a direction, a missing adapter,
a FLORES folder without a language, a direction whose languages the corpus lacks, an unknown
harness task, and a GPU profile on a machine without CUDA.
"""

from __future__ import annotations

import difflib
import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trl import ModelConfig, TrlParser, get_quantization_config

from builder import languages as registry
from ted2025 import is_repo_id
from recipes import data, training
from recipes.training import DEVICE_PROFILES
from recipes.tasks import LOCAL_TASKS, MC_TASK, TASKS_DIR, parse_direction, task_config, write_mc_task_data

logger = logging.getLogger(__name__)

TED_TESTSET = "ted2025"
FLORES_TESTSET = "flores200"
FLORES_DATASET_ID = "facebook/flores"  # how FLORES-200 results are named on the Hub
TRANSLATION_TEMPLATE = data.TRANSLATION_TEMPLATES[0]
# BLEU needs words: Chinese has sacrebleu's own tokenizer, other scripts without spaces are scored on
# characters. chrF++ needs no tokenizer.
BLEU_TOKENIZE_BY_SCRIPT = {script: "char" for script in registry.UNSPACED_WORD_SCRIPTS} | {"Hans": "zh", "Hant": "zh"}
VERSIONED = ("ted2025", "torch", "transformers", "peft", "accelerate", "bitsandbytes", "datasets", "tokenizers",
             "trl", "sacrebleu", "lm_eval", "huggingface_hub")
RESULTS_JSON, RESULTS_MD, PROBE_PNG = "results.json", "results.md", "probe.png"
EVAL_RESULTS_FILE = ".eval_results/ted2025.yaml"
HUB_RECORD = "ted2025_eval.json"


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


@dataclass
class EvalScriptArguments:
    """What to evaluate on."""

    dataset_name: str = field(default="ted2025", metadata={"help": "TED2025 corpus: a folder, a Hub repo id or hf:// path."})
    build_smoke_corpus: bool = field(
        default=False, metadata={"help": "Build dataset_name on first use from ../shared's real TED sample (smoke profile)."}
    )
    dataset_test_split: str = field(default="test", metadata={"help": "Split of held-out talks to evaluate on."})
    directions: list[str] = field(
        default_factory=list, metadata={"help": "Translation directions, source-target in registry codes: en-de de-en en-zh-cn."}
    )
    max_segments: int | None = field(
        default=500,
        metadata={"help": "Segments per direction and test set, and ted2025_mc documents per direction (a seeded sample; None: all)."},
    )
    flores_dir: str | None = field(
        default=None, metadata={"help": "Local FLORES-200 folder (flores200_dataset/); see the module docstring."}
    )
    flores_split: str = field(default="devtest", metadata={"help": "FLORES-200 split: dev or devtest."})
    flores_directions: list[str] | None = field(default=None, metadata={"help": "Directions on FLORES (default: directions)."})
    lm_eval_tasks: list[str] = field(
        default_factory=list, metadata={"help": "lm-evaluation-harness tasks or groups: xnli xcopa belebele ..., or ted2025_mc (local)."}
    )
    mc_num_choices: int = field(default=4, metadata={"help": "Choices per ted2025_mc document."})
    probe_languages: str | None = field(
        default=None, metadata={"help": "Languages of the alignment probe, e.g. 'en-de-fr-ja-zh-cn' (default: the directions')."}
    )
    probe_segments: int = field(default=200, metadata={"help": "Multi-way segments in the probe (0: no probe)."})
    device_profile: str = field(
        default="gpu", metadata={"help": "gpu: needs CUDA. cpu: the smoke profile.", "choices": list(DEVICE_PROFILES)}
    )

    def __post_init__(self):
        # Unknown languages and malformed directions raise here, with the registry's suggestions.
        self.directions = [_canonical_direction(spec) for spec in self.directions]
        if self.flores_directions is not None:
            self.flores_directions = [_canonical_direction(spec) for spec in self.flores_directions]
        if self.probe_languages is not None:
            self.probe_languages = registry.subset_name(registry.parse_subset(self.probe_languages))
        if self.probe_segments and len(self.probe_codes()) < 2:
            raise ValueError("the alignment probe needs two languages: give probe_languages or directions, or probe_segments 0")
        if self.device_profile not in DEVICE_PROFILES:
            raise ValueError(f"device_profile must be one of {DEVICE_PROFILES}, got {self.device_profile!r}")
        if self.flores_split not in ("dev", "devtest"):
            raise ValueError(f"flores_split must be dev or devtest, got {self.flores_split!r}")
        if self.max_segments is not None and self.max_segments < 1:
            raise ValueError(f"max_segments must be positive, got {self.max_segments}")
        if self.mc_num_choices < 2:
            raise ValueError(f"mc_num_choices must be at least 2, got {self.mc_num_choices}")
        if not (self.directions or self.lm_eval_tasks or self.probe_segments):
            raise ValueError("nothing to evaluate: give directions, lm_eval_tasks or a probe")
        if MC_TASK in self.lm_eval_tasks and not self.directions:
            raise ValueError(f"{MC_TASK} is built for the translation directions: give directions")

    def direction_pairs(self, testset: str = TED_TESTSET) -> list[tuple[str, str]]:
        specs = self.directions if testset == TED_TESTSET or self.flores_directions is None else self.flores_directions
        return [parse_direction(spec) for spec in specs]

    def probe_codes(self) -> list[str]:
        if self.probe_languages is not None:
            return [lang.code for lang in registry.parse_subset(self.probe_languages)]
        return list(dict.fromkeys(code for pair in self.direction_pairs() for code in pair))


@dataclass
class EvalArguments:
    """How to run the evaluation, and where its results go."""

    output_dir: str = field(default="runs/eval", metadata={"help": "Where results.json, results.md and probe.png go."})
    batch_size: int = field(default=8, metadata={"help": "Batch size for generation, the probe and the harness."})
    max_new_tokens: int = field(default=256, metadata={"help": "Generated tokens per translation."})
    probe_max_tokens: int = field(default=512, metadata={"help": "Probe inputs longer than this are cut (TED segments rarely are)."})
    lm_eval_limit: float | None = field(default=None, metadata={"help": "Documents per harness task (<1: a fraction); for tests."})
    num_fewshot: int | None = field(default=None, metadata={"help": "Few-shot examples for the harness tasks (default: each task's)."})
    lm_eval_apply_chat_template: bool = field(default=False, metadata={"help": "Render harness prompts with the chat template."})
    bootstrap_iters: int = field(default=1000, metadata={"help": "The harness's bootstrap iterations for standard errors."})
    chat_template_path: str | None = field(
        default=None, metadata={"help": "A .jinja chat template for a model without one (default: recipes/default_chat_template.jinja)."}
    )
    trust_remote_code: bool = field(default=False, metadata={"help": "Allow custom model code from the Hub."})
    device_map: str | None = field(default=None, metadata={"help": "'auto' to shard a large model over GPUs (default: one device)."})
    seed: int = field(default=42, metadata={"help": "Seed of the segment samples and the ted2025_mc choices."})
    push_to_hub: bool = field(default=False, metadata={"help": "Push the scores to hub_model_id."})
    hub_model_id: str | None = field(default=None, metadata={"help": "Model repo that gets the scores (org/name)."})
    hub_private_repo: bool = field(default=True, metadata={"help": "Create hub_model_id private if it does not exist."})
    eval_dataset_id: str = field(
        default="ted2025/TED2025", metadata={"help": "Dataset id the TED2025 scores are reported under on the Hub."}
    )

    def __post_init__(self):
        if self.push_to_hub and not (self.hub_model_id and is_repo_id(self.hub_model_id)):
            raise ValueError(f"push_to_hub needs hub_model_id as org/name, got {self.hub_model_id!r}")
        if self.batch_size < 1 or self.max_new_tokens < 1:
            raise ValueError("batch_size and max_new_tokens must be positive")


@dataclass
class EvalModelConfig(ModelConfig):
    """TRL's ModelConfig (model, dtype, 4/8-bit loading) plus the adapter to evaluate on it."""

    adapter: str | None = field(
        default=None, metadata={"help": "PEFT adapter: a folder (e.g. an SFT output_dir) or Hub repo id; none: the model itself."}
    )

    def __post_init__(self):
        super().__post_init__()
        if self.adapter is not None and self.adapter.lower() in ("", "none", "null"):
            self.adapter = None  # so that a config's adapter can be switched off on the command line
        if self.adapter is not None:
            check_adapter(self.adapter)
        if self.model_name_or_path is None and self.adapter is None:
            raise ValueError("give model_name_or_path (a base or merged model), an adapter, or both")


def _canonical_direction(spec: str) -> str:
    return "-".join(parse_direction(spec))


def check_adapter(adapter: str) -> None:
    """A local adapter folder must hold adapter_config.json; a path that is not there and is not a
    Hub repo id (org/name) is an error now, not after the base model has loaded."""
    path = Path(adapter).expanduser()
    if path.exists():
        if not (path / "adapter_config.json").is_file():
            raise ValueError(f"adapter {adapter!r} is not a PEFT adapter folder: it has no adapter_config.json")
        return
    if not is_repo_id(adapter) or adapter.startswith((".", "/", "~")):
        raise FileNotFoundError(f"adapter {adapter!r} not found: no such folder, and not a Hub repo id (org/name)")


def check_device(device_profile: str) -> None:
    import torch

    if device_profile == "gpu" and not torch.cuda.is_available():
        raise RuntimeError(
            "this config is a GPU profile (device_profile: gpu), but no CUDA device is visible. Run it on a GPU "
            "machine, or use the CPU smoke config (recipes/smoke/eval.yaml, device_profile: cpu)"
        )


def make_parser() -> TrlParser:
    return TrlParser((EvalScriptArguments, EvalArguments, EvalModelConfig))


# --------------------------------------------------------------------------------------------
# The recipe
# --------------------------------------------------------------------------------------------


def main(script_args: EvalScriptArguments, eval_args: EvalArguments, model_args: EvalModelConfig) -> dict:
    started = time.time()
    check_device(script_args.device_profile)
    output_dir = Path(eval_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    # Everything that can fail on bad input is read before the model.
    corpus = data.resolve_corpus(script_args.dataset_name, script_args.build_smoke_corpus)
    test_sets = ted_translation_sets(corpus, script_args, eval_args.seed)
    if script_args.flores_dir:
        test_sets += flores_translation_sets(
            Path(script_args.flores_dir), script_args.flores_split, script_args.direction_pairs(FLORES_TESTSET),
            script_args.max_segments, eval_args.seed,
        )
    probe_texts = probe_segments(corpus, script_args, eval_args.seed) if script_args.probe_segments else None
    task_manager, task_specs, task_data = benchmark_tasks(script_args, corpus, output_dir, eval_args.seed)

    tokenizer, tokenizer_source = load_tokenizer(model_args, eval_args)
    model = load_model(model_args, eval_args)

    translation = {}
    for test_set in test_sets:
        logger.info("translating %s %s: %d segments", test_set.testset, test_set.direction, len(test_set.sources))
        hypotheses = translate(model, tokenizer, test_set, eval_args)
        translation.setdefault(test_set.testset, {})[test_set.direction] = score_translations(test_set, hypotheses)
        write_translations(output_dir, test_set, hypotheses)
    benchmarks = run_benchmarks(model, tokenizer, task_manager, task_specs, task_data, eval_args) if task_specs else None
    probe = probe_alignment(model, tokenizer, probe_texts, eval_args) if probe_texts else None

    results = results_record(script_args, eval_args, model_args, corpus, tokenizer_source, translation, benchmarks, probe)
    results["elapsed_s"] = round(time.time() - started, 1)
    write_results(results, output_dir)
    print(f"Results written to {output_dir / RESULTS_JSON}, {output_dir / RESULTS_MD} and {output_dir / PROBE_PNG}.")
    if eval_args.push_to_hub:
        url = push_results(results, eval_args.hub_model_id, eval_args.eval_dataset_id, eval_args.hub_private_repo)
        print(f"Results pushed to {url}.")
    return results


# --------------------------------------------------------------------------------------------
# Test data: TED2025 test split, FLORES-200, probe segments, harness tasks
# --------------------------------------------------------------------------------------------


@dataclass
class TranslationSet:
    testset: str
    source: str
    target: str
    ids: list[str]
    sources: list[str]
    references: list[str]
    available: int  # segments with both languages, before max_segments

    @property
    def direction(self) -> str:
        return f"{self.source}-{self.target}"


def load_test_rows(corpus: str, split: str, codes: list[str]) -> dict[str, list]:
    """Wide rows of a split with at least one of ``codes``; a language the corpus lacks raises here."""
    import ted2025

    rows = ted2025.load_dataset(corpus, languages=codes, split=split, min_languages=1, format="wide")
    return rows.select_columns(["talk_id", "segment_id", *codes]).to_dict()


def sample_indices(count: int, limit: int | None, seed: int) -> list[int]:
    """At most ``limit`` of ``range(count)``, a seeded sample kept in order."""
    if limit is None or limit >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), limit))


def ted_translation_sets(corpus: str, script_args: EvalScriptArguments, seed: int) -> list[TranslationSet]:
    pairs = script_args.direction_pairs()
    if not pairs:
        return []
    codes = list(dict.fromkeys(code for pair in pairs for code in pair))
    rows = load_test_rows(corpus, script_args.dataset_test_split, codes)
    sets = []
    for source, target in pairs:
        both = [i for i, (a, b) in enumerate(zip(rows[source], rows[target])) if a and b]
        if not both:
            raise ValueError(f"no {script_args.dataset_test_split} rows of {corpus} have both {source} and {target}")
        chosen = [both[i] for i in sample_indices(len(both), script_args.max_segments, seed)]
        sets.append(TranslationSet(
            TED_TESTSET, source, target,
            ids=[f"{rows['talk_id'][i]}/{rows['segment_id'][i]}" for i in chosen],
            sources=[rows[source][i] for i in chosen],
            references=[rows[target][i] for i in chosen],
            available=len(both),
        ))
    return sets


def flores_language(flores_code: str) -> str | None:
    """The registry code of a FLORES-200 code such as ``deu_Latn``, or None (see the module docstring)."""
    iso639_3, _, script = flores_code.partition("_")
    matches = [lang for lang in registry.LANGUAGES if lang.iso639_3 == iso639_3 and lang.script == script]
    if not matches and registry.is_known(iso639_3) and registry.get(iso639_3).script == script:
        matches = [registry.get(iso639_3)]  # an individual-language alias: arb -> ar, pes -> fa
    return matches[0].code if matches else None  # registry order: the most translated first


def flores_files(flores_dir: Path, split: str) -> dict[str, Path]:
    """Registry code -> FLORES file of that split, for the files whose code maps to the registry."""
    folder = flores_dir / split
    if not folder.is_dir():
        raise FileNotFoundError(f"no FLORES-200 split folder {folder}: flores_dir must hold dev/ and devtest/")
    files = {}
    for path in sorted(folder.glob(f"*.{split}")):
        code = flores_language(path.name.removesuffix(f".{split}"))
        if code is not None:
            files.setdefault(code, path)
    return files


def flores_translation_sets(
    flores_dir: Path, split: str, pairs: list[tuple[str, str]], limit: int | None, seed: int
) -> list[TranslationSet]:
    files = flores_files(flores_dir, split)
    missing = sorted({code for pair in pairs for code in pair} - set(files))
    if missing:
        raise FileNotFoundError(
            f"{flores_dir / split} has no file for {', '.join(missing)} (FLORES code = ISO 639-3 + script, e.g. "
            f"{_flores_example(missing[0])}); it has {', '.join(sorted(files)) or 'no registry language'}"
        )
    lines = {code: files[code].read_text(encoding="utf-8").splitlines() for code in {c for p in pairs for c in p}}
    sizes = {code: len(text) for code, text in lines.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"FLORES files of {flores_dir / split} differ in length: {sizes}")
    sets = []
    for source, target in pairs:
        chosen = sample_indices(sizes[source], limit, seed)
        sets.append(TranslationSet(
            FLORES_TESTSET, source, target, ids=[str(i) for i in chosen],
            sources=[lines[source][i] for i in chosen], references=[lines[target][i] for i in chosen],
            available=sizes[source],
        ))
    return sets


def _flores_example(code: str) -> str:
    lang = registry.get(code)
    return f"{lang.iso639_3}_{lang.script}.devtest"


def probe_segments(corpus: str, script_args: EvalScriptArguments, seed: int) -> dict[str, list[str]]:
    """Multi-way test segments: language -> texts, row i of every language the same segment.

    Rows with all probe languages, without rows whose text in some language repeats an earlier
    row's ("Thank you."), since a duplicate has two right answers in retrieval.
    """
    codes = script_args.probe_codes()
    rows = load_test_rows(corpus, script_args.dataset_test_split, codes)
    seen = {code: set() for code in codes}
    usable = []
    for i in range(len(rows["talk_id"])):
        texts = [rows[code][i] for code in codes]
        if all(texts) and not any(text in seen[code] for code, text in zip(codes, texts)):
            usable.append(i)
            for code, text in zip(codes, texts):
                seen[code].add(text)
    if len(usable) < 2:
        raise ValueError(
            f"the probe needs multi-way rows: {len(usable)} {script_args.dataset_test_split} rows have all of {', '.join(codes)}"
        )
    chosen = [usable[i] for i in sample_indices(len(usable), script_args.probe_segments, seed)]
    return {code: [rows[code][i] for i in chosen] for code in codes}


def benchmark_tasks(script_args: EvalScriptArguments, corpus: str, output_dir: Path, seed: int) -> tuple:
    """The harness's TaskManager (its tasks and ours) and the task specs: names passed through,
    local tasks as configs over data built here. Unknown names raise now, with close matches."""
    if not script_args.lm_eval_tasks:
        return None, [], {}
    from lm_eval.tasks import TaskManager

    task_manager = TaskManager(include_path=str(TASKS_DIR))
    known = set(task_manager.all_tasks)
    unknown = [name for name in script_args.lm_eval_tasks if name not in known]
    if unknown:
        hints = {name: difflib.get_close_matches(name, known, n=3) for name in unknown}
        raise ValueError("unknown lm-evaluation-harness task(s): " + "; ".join(
            f"{name}" + (f" (did you mean: {', '.join(close)}?)" if close else "") for name, close in hints.items()
        ))
    specs, task_data = [], {}
    for name in script_args.lm_eval_tasks:
        if name in LOCAL_TASKS:
            data_file = output_dir / "tasks" / f"{name}.jsonl"
            task_data[name] = write_mc_task_data(
                corpus, script_args.dataset_test_split, script_args.direction_pairs(), data_file,
                script_args.mc_num_choices, script_args.max_segments, seed,
            )
            specs.append(task_config(name, data_file))
        else:
            specs.append(name)
    return task_manager, specs, task_data


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def load_tokenizer(model_args: EvalModelConfig, eval_args: EvalArguments):
    """The adapter's tokenizer where it saved one (SFT saves its chat template there), else the
    model's; a model without a chat template gets the recipes' default, as in SFT."""
    from transformers import AutoTokenizer

    source = model_args.model_name_or_path or base_model_of(model_args.adapter)
    if model_args.adapter and _has_tokenizer(model_args.adapter):
        source = model_args.adapter
    tokenizer = AutoTokenizer.from_pretrained(
        source, revision=None if source == model_args.adapter else model_args.model_revision,
        trust_remote_code=eval_args.trust_remote_code,
    )
    data.ensure_chat_template(tokenizer, assistant_only_loss=False, chat_template_path=eval_args.chat_template_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, source


def _has_tokenizer(adapter: str) -> bool:
    path = Path(adapter).expanduser()
    if path.is_dir():
        return (path / "tokenizer_config.json").is_file()
    from huggingface_hub import file_exists

    return file_exists(adapter, "tokenizer_config.json")


def base_model_of(adapter: str) -> str:
    from peft import PeftConfig

    return PeftConfig.from_pretrained(adapter).base_model_name_or_path


def load_model(model_args: EvalModelConfig, eval_args: EvalArguments):
    """The base (or merged) model, quantized as ModelConfig says, with the adapter on top; eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    name = model_args.model_name_or_path or base_model_of(model_args.adapter)
    device = 0 if torch.cuda.is_available() else "cpu"
    dtype = model_args.dtype if model_args.dtype in (None, "auto") else getattr(torch, model_args.dtype)
    model = AutoModelForCausalLM.from_pretrained(
        name,
        revision=model_args.model_revision,
        dtype=dtype,
        attn_implementation=model_args.attn_implementation,
        quantization_config=get_quantization_config(model_args),
        device_map=eval_args.device_map or {"": device},
        trust_remote_code=eval_args.trust_remote_code,
    )
    if model_args.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, model_args.adapter)
    return model.eval()


# --------------------------------------------------------------------------------------------
# Machine translation
# --------------------------------------------------------------------------------------------


def translation_prompt(tokenizer, source: str, target: str, text: str) -> str:
    """The SFT instruction (first phrasing) as a user turn, rendered for generation."""
    names = {code: registry.get(code).name for code in (source, target)}
    content = TRANSLATION_TEMPLATE.format(source=names[source], target=names[target], text=text)
    return tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True)


def stop_token_ids(tokenizer, model) -> list[int]:
    """EOS ids, and the special token that closes an assistant turn in the chat template
    (``<|im_end|>`` in ChatML), which is where an SFT model stops."""
    ids = [tokenizer.eos_token_id, *_as_list(model.generation_config.eos_token_id)]
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "u"}, {"role": "assistant", "content": "ANSWER"}], tokenize=False
    )
    after_answer = rendered.split("ANSWER", 1)[-1].strip()
    if after_answer:
        first = tokenizer(after_answer, add_special_tokens=False)["input_ids"][:1]
        ids += [token for token in first if token in tokenizer.all_special_ids]
    return list(dict.fromkeys(token for token in ids if token is not None))


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def translate(model, tokenizer, test_set: TranslationSet, eval_args: EvalArguments) -> list[str]:
    """Greedy, batched; longest prompts first so that a batch pads little. The hypothesis is the
    first line of the answer (TED segments and FLORES sentences are single lines)."""
    import torch

    prompts = [translation_prompt(tokenizer, test_set.source, test_set.target, text) for text in test_set.sources]
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    stop = stop_token_ids(tokenizer, model)
    hypotheses: list[str] = [""] * len(prompts)
    for start in range(0, len(order), eval_args.batch_size):
        batch = order[start : start + eval_args.batch_size]
        # The template already holds any BOS; prompts are not cut, so the generation prompt stays.
        inputs = tokenizer(
            [prompts[i] for i in batch], return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False
        ).to(model.device)
        with torch.inference_mode():
            output = model.generate(
                **inputs, do_sample=False, num_beams=1, max_new_tokens=eval_args.max_new_tokens,
                eos_token_id=stop, pad_token_id=tokenizer.pad_token_id,
            )
        answers = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        for i, answer in zip(batch, answers):
            hypotheses[i] = first_line(answer)
    return hypotheses


def first_line(answer: str) -> str:
    return answer.strip().split("\n", 1)[0].strip()


def bleu_tokenizer(target: str) -> str:
    return BLEU_TOKENIZE_BY_SCRIPT.get(registry.get(target).script, "13a")


def score_translations(test_set: TranslationSet, hypotheses: list[str]) -> dict:
    """Corpus chrF++ and BLEU with sacrebleu, each with its signature."""
    from sacrebleu.metrics import BLEU, CHRF

    chrf, bleu = CHRF(word_order=2), BLEU(tokenize=bleu_tokenizer(test_set.target))
    references = [test_set.references]
    chrf_score, bleu_score = chrf.corpus_score(hypotheses, references), bleu.corpus_score(hypotheses, references)
    return {
        "chrf++": round(chrf_score.score, 2),
        "bleu": round(bleu_score.score, 2),
        "segments": len(hypotheses),
        "available_segments": test_set.available,
        "signatures": {"chrf++": str(chrf.get_signature()), "bleu": str(bleu.get_signature())},
        "examples": [
            {"id": i, "source": s, "reference": r, "hypothesis": h}
            for i, s, r, h in list(zip(test_set.ids, test_set.sources, test_set.references, hypotheses))[:3]
        ],
    }


def write_translations(output_dir: Path, test_set: TranslationSet, hypotheses: list[str]) -> None:
    path = output_dir / "translations" / f"{test_set.testset}.{test_set.direction}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in zip(test_set.ids, test_set.sources, test_set.references, hypotheses):
            f.write(json.dumps(dict(zip(("id", "source", "reference", "hypothesis"), row)), ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# Benchmarks (lm-evaluation-harness)
# --------------------------------------------------------------------------------------------


def run_benchmarks(model, tokenizer, task_manager, task_specs: list, task_data: dict, eval_args: EvalArguments) -> dict:
    """``lm_eval.simple_evaluate`` on the loaded model. HFLM is given the model object rather than
    ``pretrained=``/``peft=`` names: transformers 5 no longer takes ``load_in_4bit`` in
    ``from_pretrained``, and HFLM passes on only a quantization config stored in the model's own
    config, so by name it could not put a QLoRA adapter on its 4-bit base (and would load a second copy)."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    logger.info("lm-evaluation-harness: %s", ", ".join(spec if isinstance(spec, str) else spec["task"] for spec in task_specs))
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=eval_args.batch_size)
    raw = lm_eval.simple_evaluate(
        model=lm,
        tasks=task_specs,
        task_manager=task_manager,
        num_fewshot=eval_args.num_fewshot,
        limit=eval_args.lm_eval_limit,
        apply_chat_template=eval_args.lm_eval_apply_chat_template,
        bootstrap_iters=eval_args.bootstrap_iters,
        log_samples=False,
        random_seed=eval_args.seed,
    )
    return benchmark_summary(raw, task_data, eval_args)


def benchmark_summary(raw: dict, task_data: dict, eval_args: EvalArguments) -> dict:
    """Metrics per task (``acc``, ``acc_stderr``, ...; a filter other than ``none`` stays in the
    name), with the task's data, version, shots and sample count."""
    tasks = {}
    for task, entry in raw["results"].items():
        metrics = {}
        for key, value in entry.items():
            if "," in key:
                metric, filter_name = key.split(",", 1)
                metrics[metric if filter_name == "none" else key] = value
        config = raw.get("configs", {}).get(task, {})
        tasks[task] = {
            "metrics": metrics,
            "dataset": config.get("dataset_path"),
            "dataset_config": config.get("dataset_name"),
            "split": config.get("test_split") or config.get("validation_split"),
            "num_fewshot": raw.get("n-shot", {}).get(task),
            "version": raw.get("versions", {}).get(task),
            "samples": raw.get("n-samples", {}).get(task, {}).get("effective"),
            "is_group": task in raw.get("groups", {}),
        }
    return {
        "tasks": tasks,
        "local_task_data": task_data,
        "settings": {
            "limit": eval_args.lm_eval_limit, "num_fewshot": eval_args.num_fewshot, "batch_size": eval_args.batch_size,
            "apply_chat_template": eval_args.lm_eval_apply_chat_template, "bootstrap_iters": eval_args.bootstrap_iters,
            "random_seed": eval_args.seed,
        },
        "lm_eval_version": raw.get("lm_eval_version"),
    }


def main_metric(task_result: dict) -> tuple[str, float] | None:
    """The task's first numeric metric that is not a standard error (``acc`` for most tasks)."""
    for name, value in task_result["metrics"].items():
        if "stderr" not in name and isinstance(value, (int, float)):
            return name, value
    return None


# --------------------------------------------------------------------------------------------
# Cross-lingual alignment probe
# --------------------------------------------------------------------------------------------


def mean_pooled_states(model, tokenizer, texts: list[str], batch_size: int, max_length: int):
    """Mean over each text's tokens of the hidden states at every layer: ``[layers + 1, N, hidden]``
    float32 on the CPU (index 0: the embeddings)."""
    import torch

    pooled = []
    for start in range(0, len(texts), batch_size):
        inputs = tokenizer(
            texts[start : start + batch_size], return_tensors="pt", padding=True, padding_side="right",
            truncation=True, max_length=max_length,
        ).to(model.device)
        with torch.inference_mode():
            output = model(**inputs, output_hidden_states=True, logits_to_keep=1)
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        states = torch.stack([layer.float() for layer in output.hidden_states])  # [L+1, B, T, H]
        pooled.append(((states * mask).sum(dim=2) / mask.sum(dim=1)).cpu())
    return torch.cat(pooled, dim=1)


def cosine_matrix(a, b):
    import torch.nn.functional as F

    return F.normalize(a.float(), dim=-1) @ F.normalize(b.float(), dim=-1).T


def retrieval_accuracy(a, b) -> float:
    """Share of rows i of ``a`` whose most similar row of ``b`` (cosine) is row i; chance is 1/N."""
    import torch

    similarity = cosine_matrix(a, b)
    return (similarity.argmax(dim=1) == torch.arange(len(a))).float().mean().item()


def translation_cosines(a, b) -> tuple[float, float]:
    """Mean cosine of translations (row i with row i) and of non-translations (i with j != i)."""
    import torch

    similarity = cosine_matrix(a, b)
    diagonal = torch.eye(len(a), dtype=torch.bool)
    return similarity[diagonal].mean().item(), similarity[~diagonal].mean().item()


def probe_by_layer(states_by_language: dict) -> list[dict]:
    """Per layer: per language pair the retrieval accuracy (mean of both directions) and the
    cosines, and their means over the pairs."""
    codes = list(states_by_language)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    layers = []
    for layer in range(next(iter(states_by_language.values())).shape[0]):
        by_pair = {}
        for a, b in pairs:
            x, y = states_by_language[a][layer], states_by_language[b][layer]
            translations, others = translation_cosines(x, y)
            by_pair[f"{a}-{b}"] = {
                "retrieval_accuracy": round((retrieval_accuracy(x, y) + retrieval_accuracy(y, x)) / 2, 4),
                "cosine_translations": round(translations, 4),
                "cosine_non_translations": round(others, 4),
            }
        layers.append({
            "layer": layer,
            **{key: round(sum(p[key] for p in by_pair.values()) / len(by_pair), 4)
               for key in ("retrieval_accuracy", "cosine_translations", "cosine_non_translations")},
            "pairs": by_pair,
        })
    return layers


def probe_alignment(model, tokenizer, texts_by_language: dict[str, list[str]], eval_args: EvalArguments) -> dict:
    logger.info("alignment probe: %d segments in %s", len(next(iter(texts_by_language.values()))), ", ".join(texts_by_language))
    states = {
        code: mean_pooled_states(model, tokenizer, texts, eval_args.batch_size, eval_args.probe_max_tokens)
        for code, texts in texts_by_language.items()
    }
    segments = len(next(iter(texts_by_language.values())))
    return {
        "languages": list(texts_by_language),
        "segments": segments,
        "chance": round(1 / segments, 4),
        "pooling": "mean over tokens, every layer (0: embeddings), raw text without template",
        "layers": probe_by_layer(states),
    }


# --------------------------------------------------------------------------------------------
# Results: JSON, markdown, plot
# --------------------------------------------------------------------------------------------


def package_versions() -> dict:
    return training.package_versions(VERSIONED)


def adapter_provenance(adapter: str | None) -> dict | None:
    """What trained the adapter, from the run record the recipes write beside it."""
    from recipes.training import RUN_RECORD

    if adapter is None:
        return None
    record_path = Path(adapter).expanduser() / RUN_RECORD
    if not record_path.is_file():
        return {"path": adapter}
    record = json.loads(record_path.read_text(encoding="utf-8"))
    return {"path": adapter, **{key: record.get(key) for key in ("recipe", "model", "corpus", "subset", "training_mode")},
            "train": record.get("train")}


def results_record(
    script_args, eval_args, model_args, corpus: str, tokenizer_source: str, translation: dict, benchmarks, probe
) -> dict:
    return {
        "recipe": "eval",
        "model": model_args.model_name_or_path or base_model_of(model_args.adapter),
        "adapter": adapter_provenance(model_args.adapter),
        "tokenizer": tokenizer_source,
        "data": {
            "corpus": corpus,
            "split": script_args.dataset_test_split,
            "directions": script_args.directions,
            "flores": None if not script_args.flores_dir else {
                "dir": script_args.flores_dir, "split": script_args.flores_split,
                "directions": [f"{s}-{t}" for s, t in script_args.direction_pairs(FLORES_TESTSET)],
            },
            "max_segments": script_args.max_segments,
            "seed": eval_args.seed,
        },
        "translation": translation,
        "translation_settings": {
            "prompt_template": TRANSLATION_TEMPLATE,
            "chat_template": "the tokenizer's, add_generation_prompt=True",
            "decoding": "greedy",
            "max_new_tokens": eval_args.max_new_tokens,
            "batch_size": eval_args.batch_size,
            "postprocess": "first line of the answer, stripped",
            "bleu_tokenize": "sacrebleu: zh for Hans/Hant, char for other scripts without spaces, else 13a",
        },
        "benchmarks": benchmarks,
        "probe": probe,
        "settings": {"script_args": asdict(script_args), "eval_args": asdict(eval_args), "model_args": asdict(model_args)},
        "versions": package_versions(),
    }


def write_results(results: dict, output_dir: Path) -> None:
    (output_dir / RESULTS_JSON).write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    (output_dir / RESULTS_MD).write_text(results_markdown(results), encoding="utf-8")
    if results["probe"]:
        plot_probe(results["probe"], output_dir / PROBE_PNG)


def results_markdown(results: dict) -> str:
    adapter = results["adapter"]
    lines = [
        "# TED2025 evaluation",
        "",
        f"- Model: `{results['model']}`" + (f" + adapter `{adapter['path']}`" if adapter else ""),
        f"- Corpus: `{results['data']['corpus']}`, split `{results['data']['split']}`",
        "",
    ]
    if results["translation"]:
        signatures = set()
        lines += ["## Translation", "", "| test set | direction | segments | chrF++ | BLEU |", "|---|---|---:|---:|---:|"]
        for testset, directions in results["translation"].items():
            for direction, score in directions.items():
                lines.append(f"| {testset} | {direction} | {score['segments']} | {score['chrf++']:.2f} | {score['bleu']:.2f} |")
                signatures.update(f"{name}: `{signature}`" for name, signature in score["signatures"].items())
        lines += ["", "sacrebleu signatures:", "", *(f"- {s}" for s in sorted(signatures)), ""]
    if results["benchmarks"]:
        benchmarks = results["benchmarks"]
        lines += [f"## Benchmarks (lm-evaluation-harness {benchmarks['lm_eval_version']})", "",
                  "| task | metric | value | stderr | samples |", "|---|---|---:|---:|---:|"]
        for task, result in benchmarks["tasks"].items():
            for metric, value in result["metrics"].items():
                if "stderr" in metric:
                    continue
                stderr = result["metrics"].get(metric.replace(",", "_stderr,", 1) if "," in metric else f"{metric}_stderr")
                lines.append(f"| {task} | {metric} | {_number(value)} | {_number(stderr)} | {result['samples'] or ''} |")
        lines.append("")
    if results["probe"]:
        probe = results["probe"]
        lines += [
            "## Cross-lingual alignment probe", "",
            f"{probe['segments']} multi-way segments in {', '.join(probe['languages'])}; retrieval chance = {probe['chance']}. "
            "Means over language pairs; layer 0 is the embeddings.", "",
            "| layer | retrieval accuracy | cosine, translations | cosine, non-translations |", "|---:|---:|---:|---:|",
        ]
        lines += [f"| {layer['layer']} | {layer['retrieval_accuracy']:.3f} | {layer['cosine_translations']:.3f} | "
                  f"{layer['cosine_non_translations']:.3f} |" for layer in probe["layers"]]
        lines.append("")
    return "\n".join(lines)


def _number(value) -> str:
    return f"{value:.4f}" if isinstance(value, (int, float)) else ("" if value is None else str(value))


def plot_probe(probe: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    layers = [layer["layer"] for layer in probe["layers"]]
    fig, (retrieval, cosine) = plt.subplots(1, 2, figsize=(11, 4))
    for pair in probe["layers"][0]["pairs"]:
        retrieval.plot(layers, [layer["pairs"][pair]["retrieval_accuracy"] for layer in probe["layers"]],
                       color="tab:blue", alpha=0.25, linewidth=1)
    retrieval.plot(layers, [layer["retrieval_accuracy"] for layer in probe["layers"]], color="tab:blue",
                   linewidth=2.5, marker="o", label="mean over pairs (thin: each pair)")
    retrieval.axhline(probe["chance"], color="grey", linestyle="--", label=f"chance (1/{probe['segments']})")
    retrieval.set(xlabel="layer (0 = embeddings)", ylabel="retrieval accuracy", ylim=(0, 1.02),
                  title="Cross-lingual retrieval")
    retrieval.legend(loc="best", fontsize=8)
    cosine.plot(layers, [layer["cosine_translations"] for layer in probe["layers"]], marker="o", label="translations")
    cosine.plot(layers, [layer["cosine_non_translations"] for layer in probe["layers"]], marker="o", label="non-translations")
    cosine.set(xlabel="layer (0 = embeddings)", ylabel="mean cosine", title="Cosine similarity")
    cosine.legend(loc="best", fontsize=8)
    for axis in (retrieval, cosine):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Alignment probe: {probe['segments']} segments, {', '.join(probe['languages'])}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Hub: .eval_results/*.yaml and model-index
# --------------------------------------------------------------------------------------------


def hub_scores(results: dict, eval_dataset_id: str) -> list[dict]:
    """One row per reported score: dataset id, task id, metric, value and the settings behind it."""
    rows = []
    datasets_by_testset = {TED_TESTSET: (eval_dataset_id, "TED2025"), FLORES_TESTSET: (FLORES_DATASET_ID, "FLORES-200")}
    split = {TED_TESTSET: results["data"]["split"], FLORES_TESTSET: (results["data"]["flores"] or {}).get("split")}
    for testset, directions in results["translation"].items():
        dataset_id, dataset_name = datasets_by_testset[testset]
        for direction, score in directions.items():
            for metric, metric_type, name in (("chrf++", "chrf", "chrF++"), ("bleu", "bleu", "BLEU")):
                rows.append({
                    "task_type": "translation", "dataset_id": dataset_id, "dataset_name": dataset_name,
                    "task_id": f"translation_{direction}", "config": direction, "split": split[testset],
                    "metric_type": metric_type, "metric_name": name, "value": score[metric],
                    "metric_config": score["signatures"][metric], "primary": metric == "chrf++",
                })
    for task, result in ((results["benchmarks"] or {}).get("tasks") or {}).items():
        main = main_metric(result)
        dataset = result["dataset"] if result["dataset"] and is_repo_id(result["dataset"]) else None
        if task in LOCAL_TASKS:
            dataset = eval_dataset_id
        if main is None or dataset is None:
            continue
        rows.append({
            "task_type": "multiple-choice" if task == MC_TASK else "text-generation", "dataset_id": dataset,
            "dataset_name": task, "task_id": task, "config": result["dataset_config"], "split": result["split"],
            "metric_type": main[0], "metric_name": main[0], "value": main[1],
            "metric_config": f"lm-eval {results['benchmarks']['lm_eval_version']}, {result['num_fewshot']}-shot",
            "primary": True,
        })
    return rows


def eval_results_yaml(rows: list[dict]) -> str:
    """The ``.eval_results/*.yaml`` file: the primary score of each task."""
    import yaml
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    entries = [
        EvalResultEntry(dataset_id=row["dataset_id"], task_id=row["task_id"], value=row["value"],
                        notes=f"{row['metric_name']} ({row['metric_config']})")
        for row in rows if row["primary"]
    ]
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True)


def merged_model_card(repo_id: str, rows: list[dict]):
    """The repo's card with these scores in its model-index: a score of the same task, dataset,
    config, split and metric is replaced, every other result, metadata field and the text are kept."""
    from huggingface_hub import EvalResult, ModelCard
    from huggingface_hub.errors import EntryNotFoundError

    try:
        card = ModelCard.load(repo_id)
    except EntryNotFoundError:
        card = ModelCard(f"---\n---\n# {repo_id.split('/')[-1]}\n")
    new = [
        EvalResult(task_type=row["task_type"], dataset_type=row["dataset_id"], dataset_name=row["dataset_name"],
                   dataset_config=row["config"], dataset_split=row["split"], metric_type=row["metric_type"],
                   metric_name=row["metric_name"], metric_value=row["value"], metric_config=row["metric_config"])
        for row in rows
    ]
    kept = [old for old in card.data.eval_results or [] if not any(old.is_equal_except_value(n) for n in new)]
    card.data.eval_results = kept + new
    card.data.model_name = card.data.model_name or repo_id.split("/")[-1]
    return card


def push_results(results: dict, repo_id: str, eval_dataset_id: str, private: bool = True) -> str:
    """One commit to the model repo: .eval_results/ted2025.yaml, the card's model-index, the record."""
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    rows = hub_scores(results, eval_dataset_id)
    card = merged_model_card(repo_id, rows)
    record = json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n"
    commit = api.create_commit(
        repo_id,
        operations=[
            CommitOperationAdd(EVAL_RESULTS_FILE, eval_results_yaml(rows).encode("utf-8")),
            CommitOperationAdd("README.md", str(card).encode("utf-8")),
            CommitOperationAdd(HUB_RECORD, record.encode("utf-8")),
        ],
        commit_message="TED2025 evaluation results",
    )
    return commit.commit_url


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    main(*make_parser().parse_args_and_config())
