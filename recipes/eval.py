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
harness task, and a GPU profile asking for 4-bit or 8-bit weights on a machine without CUDA (the
device rule the training recipes share, :func:`recipes.device.check_device`).

Code
----
This script is the recipe; each part has one module: the arguments (:mod:`recipes.eval_args`), the
test data (:mod:`recipes.eval_data`), the model (:mod:`recipes.eval_model`), translation
(:mod:`recipes.eval_translation`), the harness (:mod:`recipes.eval_harness`), the probe
(:mod:`recipes.eval_probe`), and the results, plot and Hub push (:mod:`recipes.eval_results`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from trl import TrlParser

from recipes.device import check_device
from recipes.eval_args import EvalArguments, EvalModelConfig, EvalScriptArguments

# Also reached as recipes.eval.<name> by tests/test_eval.py, which takes this module as the recipe's API.
from recipes.eval_data import (  # noqa: F401
    FLORES_TESTSET,
    TranslationSet,
    flores_language,
    flores_translation_sets,
    load_test_rows,
    probe_segments,
    ted_translation_sets,
)
from recipes.eval_harness import benchmark_tasks, run_benchmarks
from recipes.eval_model import load_model, load_tokenizer
from recipes.eval_probe import mean_pooled_states, probe_alignment, probe_by_layer, retrieval_accuracy, translation_cosines  # noqa: F401
from recipes.eval_results import PROBE_PNG, RESULTS_JSON, RESULTS_MD, push_results, results_record, write_results
from recipes.eval_translation import (  # noqa: F401
    bleu_tokenizer,
    first_line,
    score_translations,
    stop_token_ids,
    translate,
    translation_prompt,
    write_translations,
)

logger = logging.getLogger(__name__)


def main(script_args: EvalScriptArguments, eval_args: EvalArguments, model_args: EvalModelConfig) -> dict:
    started = time.time()
    check_device(script_args.device_profile, model_args)
    output_dir = Path(eval_args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    # Everything that can fail on bad input is read before the model.
    corpus = script_args.dataset_name
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


def make_parser() -> TrlParser:
    return TrlParser((EvalScriptArguments, EvalArguments, EvalModelConfig))


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s %(name)s: %(message)s")
    for name in (__name__, "recipes.eval_harness", "recipes.eval_probe"):  # the steps' progress
        logging.getLogger(name).setLevel(logging.INFO)
    main(*make_parser().parse_args_and_config())
