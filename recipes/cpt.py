"""Continued pretraining on TED2025 with TRL: multiway, pairwise, unaligned or monolingual texts at
one token budget, packed (BFD) with a plain language-modelling loss.

```bash
# QLoRA on one 24 GB GPU
accelerate launch --config_file recipes/accelerate_configs/single_gpu.yaml recipes/cpt.py \
    --config recipes/qwen2.5-7b/cpt/config_qlora.yaml

# the paper's comparison: the same run per format, at the same token budget
accelerate launch --config_file recipes/accelerate_configs/single_gpu.yaml recipes/cpt.py \
    --config recipes/qwen2.5-7b/cpt/config_qlora.yaml --cpt_format unaligned \
    --output_dir runs/qwen2.5-7b-cpt-unaligned --hub_model_id ORG/qwen2.5-7b-ted2025-cpt-unaligned

# a few steps on a CPU, with a tiny local model (python recipes/smoke/make_tiny_model.py TINY)
accelerate launch recipes/cpt.py --config recipes/smoke/cpt.yaml --model_name_or_path TINY --output_dir RUN_CPT
```

The formats, the token budget and the provenance of every text are defined in
:mod:`recipes.data`; arguments, checks and the model card in :mod:`recipes.training`.
"""

from pathlib import Path

from accelerate import PartialState
from trl import ModelConfig, SFTConfig

from recipes import data
from recipes.training import (
    DATA_CACHE,
    CPTScriptArguments,
    RecipeParser,
    Ted2025Trainer,
    check_before_loading,
    load_tokenizer,
    set_model_init_kwargs,
)


def main(script_args, training_args, model_args, callbacks=None):
    check_before_loading(script_args, training_args, model_args)
    set_model_init_kwargs(training_args, model_args)
    tokenizer = load_tokenizer(training_args, model_args)

    # The main process builds the texts and saves them in output_dir; the other processes, and a
    # resumed run, read them from there.
    with PartialState().main_process_first():
        train_dataset, train_summary = texts(script_args, training_args, tokenizer)
        eval_dataset, eval_summary = None, None
        if training_args.eval_strategy != "no":
            eval_dataset, eval_summary = texts(script_args, training_args, tokenizer, eval=True)

    trainer = Ted2025Trainer.for_recipe(
        "cpt", script_args, training_args, model_args, tokenizer,
        (train_dataset, train_summary), (eval_dataset, eval_summary), callbacks,
    )
    trainer.run()  # train (resuming from the last checkpoint), save, push when asked
    return trainer


def texts(script_args, training_args, tokenizer, eval: bool = False, cache: bool = True):
    """The training (or evaluation) texts and their summary, cached in output_dir unless ``cache``
    is false. recipes/experiment.py builds them with this before training starts."""
    corpus = script_args.dataset_name
    return data.cpt_dataset(
        corpus=corpus, subset=script_args.dataset_config, min_languages=script_args.min_languages,
        tokenizer=tokenizer, max_length=training_args.max_length, seed=training_args.seed,
        cache_dir=Path(training_args.output_dir) / DATA_CACHE if cache else None,
        split=script_args.dataset_test_split if eval else script_args.dataset_train_split,
        settings=script_args.cpt_settings(eval=eval),
    )


def make_parser():
    return RecipeParser((CPTScriptArguments, SFTConfig, ModelConfig))


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    main(script_args, training_args, model_args)
