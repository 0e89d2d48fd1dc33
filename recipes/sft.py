"""Instruction tuning on TED2025 with TRL: translation X -> Y and X -> Y and Z, built from the
multi-way data, in the conversational ``messages`` format with the model's chat template and an
assistant-only loss.

```bash
# QLoRA on one 24 GB GPU
accelerate launch --config_file recipes/accelerate_configs/single_gpu.yaml recipes/sft.py \
    --config recipes/qwen2.5-7b/sft/config_qlora.yaml

# a few steps on a CPU, with a tiny local model (python recipes/smoke/make_tiny_model.py TINY)
accelerate launch recipes/sft.py --config recipes/smoke/sft.yaml --model_name_or_path TINY --output_dir RUN_SFT
```

A model without a chat template gets the documented default, recipes/default_chat_template.jinja.
Directions, phrasings and multi-target instructions are defined in :mod:`recipes.data`.
"""

from accelerate import PartialState
from trl import ModelConfig, SFTConfig

from recipes import data
from recipes.training import (
    RecipeParser,
    SFTScriptArguments,
    Ted2025Trainer,
    check_before_loading,
    load_tokenizer,
    set_model_init_kwargs,
)


def main(script_args, training_args, model_args, callbacks=None):
    check_before_loading(script_args, training_args, model_args)
    set_model_init_kwargs(training_args, model_args)
    tokenizer = load_tokenizer(training_args, model_args)
    data.ensure_chat_template(tokenizer, training_args.assistant_only_loss, training_args.chat_template_path)

    with PartialState().main_process_first():
        train_dataset, train_summary = instructions(script_args, training_args)
        eval_dataset, eval_summary = None, None
        if training_args.eval_strategy != "no":
            eval_dataset, eval_summary = instructions(script_args, training_args, eval=True)

    trainer = Ted2025Trainer.for_recipe(
        "sft", script_args, training_args, model_args, tokenizer,
        (train_dataset, train_summary), (eval_dataset, eval_summary), callbacks,
    )
    trainer.run()  # train (resuming from the last checkpoint), save, push when asked
    return trainer


def instructions(script_args, training_args, eval: bool = False):
    """The training (or evaluation) instructions and their summary. recipes/experiment.py builds
    them with this before training starts."""
    corpus = script_args.dataset_name
    return data.sft_dataset(
        corpus=corpus, subset=script_args.dataset_config, min_languages=script_args.min_languages,
        seed=training_args.seed, split=script_args.dataset_test_split if eval else script_args.dataset_train_split,
        settings=script_args.sft_settings(eval=eval),
    )


def make_parser():
    return RecipeParser((SFTScriptArguments, SFTConfig, ModelConfig))


if __name__ == "__main__":
    script_args, training_args, model_args = make_parser().parse_args_and_config()
    main(script_args, training_args, model_args)
