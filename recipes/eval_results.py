"""What recipes/eval.py writes and pushes: the results record (``results.json``, with the settings,
versions and sacrebleu signatures behind every number), the same as markdown tables
(``results.md``), the probe plot (``probe.png``), and the Hub's formats of the scores
(``.eval_results/ted2025.yaml``, the model card's ``model-index``) in one commit to the model repo."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from recipes import training
from recipes.eval_data import FLORES_TESTSET, TED_TESTSET
from recipes.eval_harness import main_metric
from recipes.eval_model import base_model_of
from recipes.eval_translation import TRANSLATION_TEMPLATE
from recipes.tasks import LOCAL_TASKS, MC_TASK
from ted2025 import is_repo_id

FLORES_DATASET_ID = "facebook/flores"  # how FLORES-200 results are named on the Hub
VERSIONED = ("ted2025", "torch", "transformers", "peft", "accelerate", "bitsandbytes", "datasets", "tokenizers",
             "trl", "sacrebleu", "lm_eval", "huggingface_hub")
RESULTS_JSON, RESULTS_MD, PROBE_PNG = "results.json", "results.md", "probe.png"
EVAL_RESULTS_FILE = ".eval_results/ted2025.yaml"
HUB_RECORD = "ted2025_eval.json"


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
