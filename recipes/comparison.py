"""The table of an experiment (recipes/experiment.py), in the paper's shape: one row per arm, one column
per benchmark, translation direction (chrF++) and probe summary.

Every cell is read from that arm's ``results.json`` (recipes/eval.py) and records where: ``source``
is a JSON pointer into the file (RFC 6901), so ``comparison.json`` can be checked against the arms'
results number by number. A cell holds the value, its standard error where lm-eval gives one, and
the delta against the control's cell. The probe summary is the retrieval accuracy at the last layer
and at the arm's best layer (the pointer names that layer).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

COMPARISON_JSON = "comparison.json"
COMPARISON_MD = "comparison.md"
COMPARISON_PNG = "comparison.png"


def resolve_pointer(document, pointer: str):
    """The value at a JSON pointer (``/translation/ted2025/en-de/chrf++``)."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def _pointer(*keys) -> str:
    return "/" + "/".join(str(key).replace("~", "~0").replace("/", "~1") for key in keys)


def cells_of(results: dict) -> dict[str, dict]:
    """Column label -> cell (value, stderr and their JSON pointers) for one arm's results."""
    cells = {}
    for testset, directions in (results.get("translation") or {}).items():
        for direction, score in directions.items():
            label = f"{direction} chrF++" + ("" if testset == "ted2025" else f" ({testset})")
            cells[label] = {"group": "translation", "value": score["chrf++"], "stderr": None,
                            "source": _pointer("translation", testset, direction, "chrf++")}
    benchmarks = results.get("benchmarks") or {}
    tasks = benchmarks.get("tasks") or {}
    requested = ((results.get("settings") or {}).get("script_args") or {}).get("lm_eval_tasks") or list(tasks)
    for task in requested:
        if task not in tasks:
            continue
        metrics = tasks[task]["metrics"]
        metric = next((name for name, value in metrics.items() if "stderr" not in name and isinstance(value, (int, float))), None)
        if metric is None:
            continue
        stderr_name = metric.replace(",", "_stderr,", 1) if "," in metric else f"{metric}_stderr"
        stderr = metrics.get(stderr_name)
        cells[f"{task} {metric}"] = {
            "group": "benchmark", "value": metrics[metric], "source": _pointer("benchmarks", "tasks", task, "metrics", metric),
            "stderr": stderr if isinstance(stderr, (int, float)) else None,
            "stderr_source": _pointer("benchmarks", "tasks", task, "metrics", stderr_name) if isinstance(stderr, (int, float)) else None,
        }
    probe = results.get("probe")
    if probe and probe.get("layers"):
        layers = probe["layers"]
        best = max(range(len(layers)), key=lambda i: layers[i]["retrieval_accuracy"])
        cells["probe retrieval, last layer"] = {"group": "probe", "value": layers[-1]["retrieval_accuracy"], "stderr": None,
                                               "source": _pointer("probe", "layers", len(layers) - 1, "retrieval_accuracy")}
        cells["probe retrieval, best layer"] = {"group": "probe", "value": layers[best]["retrieval_accuracy"], "stderr": None,
                                               "source": _pointer("probe", "layers", best, "retrieval_accuracy"),
                                               "layer": layers[best]["layer"]}
    return cells


def _redacted(config: dict) -> dict:
    return {key: "<redacted>" if key.endswith("token") and value else value for key, value in config.items()}


def build_comparison(arms, control: str, args, deliberate: dict, failures: dict, scored: set[str], records) -> dict:
    """The comparison record: columns, and per arm its cells, deltas against ``control``, steps and
    provenance. Only the arms in ``scored`` have scores to read (an evaluation done with the current
    config); ``records(step)`` is a step's run record."""
    from recipes.training import package_versions

    rows, columns = [], []
    for arm in arms:
        evaluation = arm.step("eval")
        results = None
        if arm.name in scored:
            results = json.loads(evaluation.results_file.read_text(encoding="utf-8"))
        cells = cells_of(results) if results else {}
        columns += [label for label in cells if label not in columns]
        steps = {}
        for step in arm.steps:
            record = records(step) or {}
            steps[step.kind] = {
                "run_by_arm": step.arm, "status": record.get("status", "not run"), "digest": step.digest,
                "run_id": record.get("run_id"), "elapsed_s": record.get("elapsed_s"), "config_file": str(step.config_file),
                "output_dir": str(step.output_dir), "hub_model_id": step.config.get("hub_model_id"), "config": _redacted(step.config),
            }
        rows.append({
            "arm": arm.name, "description": arm.description, "control": arm.name == control,
            "results_file": str(evaluation.results_file) if results else None,
            "failed": failures.get(arm.name), "deliberate_differences": deliberate.get(arm.name, []),
            "steps": steps, "cells": cells, "versions": (results or {}).get("versions"),
        })
    control_cells = next((row["cells"] for row in rows if row["control"]), {})
    for row in rows:
        for label, cell in row["cells"].items():
            base = control_cells.get(label)
            cell["delta"] = None if row["control"] or base is None else cell["value"] - base["value"]
    return {
        "experiment": args.name, "note": args.note, "control": control, "columns": columns, "arms": rows,
        "failed": {row["arm"]: row["failed"] for row in rows if row["failed"]},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runner_versions": package_versions(("ted2025", "torch", "transformers", "trl", "peft", "lm_eval", "sacrebleu")),
    }


def _value(cell: dict) -> str:
    digits = 2 if cell["group"] == "translation" else 3
    text = f"{cell['value']:.{digits}f}"
    if cell.get("stderr") is not None:
        text += f" ± {cell['stderr']:.{digits}f}"
    if cell.get("delta") is not None:
        text += f" ({cell['delta']:+.{digits}f})"
    return text


def comparison_markdown(table: dict) -> str:
    lines = [f"# TED2025 experiment: {table['experiment']}", ""]
    if table["note"]:
        lines += [f"> {table['note'].strip()}", ""]
    lines += [
        f"Control: **{table['control']}**. Each cell is the arm's score, ± its standard error where "
        "lm-evaluation-harness gives one, and in brackets the difference from the control. Every number is read "
        "from the arm's `results.json` (its JSON pointer is in `comparison.json`). Translation: sacrebleu chrF++ on "
        "the TED2025 test split; probe: cross-lingual retrieval accuracy (chance is 1/segments).",
        "",
    ]
    columns = table["columns"]
    lines.append("| arm | differs from the control | " + " | ".join(columns) + " |")
    lines.append("|---|---|" + "---:|" * len(columns))
    for row in table["arms"]:
        differs = "; ".join(f"{d['step']} {d['key']}: {d['value']!r} (control {d['control']!r})"
                            for d in row["deliberate_differences"]) or ("control" if row["control"] else "")
        if row["failed"]:
            differs = "; ".join(filter(None, [differs, f"**failed**: {row['failed']}"]))
            cells = [""] * len(columns)
        else:
            cells = [_value(row["cells"][label]) if label in row["cells"] else "n/a" for label in columns]
        lines.append(f"| {row['arm']} | {differs} | " + " | ".join(cells) + " |")
    lines += ["", "## Arms", ""]
    for row in table["arms"]:
        steps = ", ".join(
            f"{kind}: {step['status']}" + (f" (run by arm {step['run_by_arm']})" if step["run_by_arm"] != row["arm"] else "")
            + (f", [{step['hub_model_id']}](https://huggingface.co/{step['hub_model_id']})" if step["hub_model_id"] else "")
            for kind, step in row["steps"].items()
        )
        lines.append(f"- **{row['arm']}**" + (f": {row['description']}" if row["description"] else "") + f". Steps: {steps}.")
    lines += ["", f"Made by `recipes/experiment.py` on {table['created']}; resolved configs, run ids and versions are in "
              f"`{COMPARISON_JSON}`.", ""]
    return "\n".join(lines)


def plot_comparison(table: dict, path: Path) -> None:
    """One panel per column, the arms side by side (the control first, in grey), with stderr bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = table["columns"] or ["(no scores)"]
    ncols = min(4, len(columns))
    nrows = -(-len(columns) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False)
    names = [row["arm"] for row in table["arms"]]
    for index, axis in enumerate(axes.flat):
        if index >= len(columns):
            axis.axis("off")
            continue
        label = columns[index]
        cells = [row["cells"].get(label) for row in table["arms"]]
        present = [i for i, cell in enumerate(cells) if cell]  # a missing score is no bar, not a zero
        values = [cells[i]["value"] for i in present]
        errors = [cells[i]["stderr"] or 0 for i in present]
        colors = ["grey" if table["arms"][i]["control"] else f"C{i}" for i in present]
        axis.bar(present, values, yerr=errors, color=colors, capsize=3)
        axis.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
        axis.set_title(label, fontsize=8)
        axis.tick_params(axis="y", labelsize=7)
    fig.suptitle(f"TED2025 experiment {table['experiment']} (control: {table['control']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_comparison(arms, control: str, args, deliberate: dict, failures: dict, scored: set[str], records) -> dict:
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = build_comparison(arms, control, args, deliberate, failures, scored, records)
    from builder.rawstore import write_atomic

    write_atomic(out / COMPARISON_JSON, (json.dumps(table, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
    write_atomic(out / COMPARISON_MD, comparison_markdown(table).encode("utf-8"))
    plot_comparison(table, out / COMPARISON_PNG)
    return table


def push_comparison(out: Path, args) -> str:
    """The table, its record and plot to the dataset repo ``comparison_repo`` (private by default),
    its card linking every arm's repos."""
    from huggingface_hub import CommitOperationAdd, DatasetCard, DatasetCardData, HfApi

    table = json.loads((out / COMPARISON_JSON).read_text(encoding="utf-8"))
    api = HfApi()
    api.create_repo(args.comparison_repo, repo_type="dataset", private=args.hub_private_repo, exist_ok=True)
    linked = sorted({step["hub_model_id"] for row in table["arms"] for step in row["steps"].values() if step["hub_model_id"]})
    data = DatasetCardData(tags=["ted2025", "ted2025-experiment"], license="cc-by-nc-nd-4.0")
    card = DatasetCard(
        f"---\n{data.to_yaml()}\n---\n"
        + (out / COMPARISON_MD).read_text(encoding="utf-8").replace(f"(`{COMPARISON_JSON}`", f"({COMPARISON_JSON}")
        + f"\n![comparison]({COMPARISON_PNG})\n\nThe arms' repos: " + (", ".join(f"[{r}](https://huggingface.co/{r})" for r in linked) or "none pushed")
        + ".\n\nTrained and evaluated on TED2025, built from TED Talks transcripts (CC BY-NC-ND 4.0, © TED Conferences LLC).\n"
    )
    commit = api.create_commit(
        args.comparison_repo, repo_type="dataset", commit_message=f"TED2025 experiment {args.name}: comparison",
        operations=[CommitOperationAdd("README.md", str(card).encode("utf-8")),
                    CommitOperationAdd(COMPARISON_JSON, (out / COMPARISON_JSON).read_bytes()),
                    CommitOperationAdd(COMPARISON_PNG, (out / COMPARISON_PNG).read_bytes())],
    )
    return commit.commit_url
