"""The benchmarks of recipes/eval.py through lm-evaluation-harness: the task names checked against
the harness's TaskManager (its tasks and the local ones in recipes/tasks/, whose data is built here
from the test split), ``lm_eval.simple_evaluate`` on the loaded model, and a summary per task."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

from recipes.eval_args import EvalArguments, EvalScriptArguments
from recipes.tasks import LOCAL_TASKS, TASKS_DIR, task_config, write_mc_task_data

logger = logging.getLogger(__name__)


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
