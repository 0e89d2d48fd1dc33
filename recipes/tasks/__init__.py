"""Local lm-evaluation-harness tasks over TED2025, and the data builder they read.

``ted2025_mc.yaml`` is a multiple-choice translation task: given a segment in a source language,
pick its translation among ``num_choices`` segments in the target language. The distractors are
other segments of the same talk (same topic and register, so the choice needs the meaning, not the
subject), and the harness scores each choice by its log-likelihood after the prompt
``"{Source}: {text}\\n{Target}:"``, the fifth phrasing of the SFT instructions without the chat
template. Nothing is downloaded: the task reads a local JSONL (``dataset_path: json``) that
:func:`write_mc_task_data` builds from a corpus split.

``recipes/eval.py`` builds the JSONL for its directions into its output folder and hands the
harness the YAML with that file filled in. To run the task with the harness's own CLI instead::

    python -m recipes.tasks CORPUS --directions en-de de-en --split test     # writes DEFAULT_DATA_FILE
    lm_eval --model hf --model_args pretrained=MODEL --include_path recipes/tasks --tasks ted2025_mc
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import yaml

from builder import languages as registry

TASKS_DIR = Path(__file__).resolve().parent
MC_TASK = "ted2025_mc"
# Where the YAML's data_files points (relative to the repo root, where lm_eval is run from).
DEFAULT_DATA_FILE = Path(".cache/ted2025/tasks/ted2025_mc.jsonl")
LOCAL_TASKS = (MC_TASK,)


def parse_direction(spec: str) -> tuple[str, str]:
    """``"en-de"``, ``"en->zh-cn"`` or ``"zh_CN-en"`` -> registry codes ``(source, target)``.

    Parsed like a subset name (:func:`builder.languages.parse_subset`), so hyphenated codes and
    aliases work; it must name exactly two different languages, in translation order.
    """
    languages = registry.parse_subset(spec.replace("->", "-").replace(">", "-"))
    if len(languages) != 2:
        raise ValueError(f"a direction names two languages, source then target (e.g. 'en-de'), got {spec!r}")
    return languages[0].code, languages[1].code


def mc_docs(
    rows: dict[str, list], directions: Sequence[tuple[str, str]], num_choices: int, max_docs: int | None, seed: int
) -> list[dict]:
    """Multiple-choice documents from wide rows (``talk_id``, ``segment_id`` and a column per language).

    Per direction: rows with both languages, at most ``max_docs`` of them (a seeded sample, kept in
    corpus order), each with ``num_choices - 1`` distractors of the same talk whose text differs from
    the answer, or from other talks where the talk is too short. The answer's position is random.
    """
    if num_choices < 2:
        raise ValueError(f"num_choices must be at least 2, got {num_choices}")
    rng = random.Random(seed)
    docs = []
    for source, target in directions:
        usable = [i for i, (a, b) in enumerate(zip(rows[source], rows[target])) if a and b]
        if len(usable) < num_choices:
            raise ValueError(f"{source}-{target}: {len(usable)} rows, fewer than num_choices={num_choices}")
        rows_by_talk = defaultdict(list)
        for i in usable:
            rows_by_talk[rows["talk_id"][i]].append(i)
        chosen = sorted(rng.sample(usable, max_docs)) if max_docs is not None and max_docs < len(usable) else usable
        for i in chosen:
            answer = rows[target][i]
            same_talk = [rows[target][j] for j in rows_by_talk[rows["talk_id"][i]] if rows[target][j] != answer]
            distractors = _distinct_sample(same_talk, num_choices - 1, rng)
            if len(distractors) < num_choices - 1:  # a short talk: borrow from the others (rare)
                others = [rows[target][j] for j in usable if rows[target][j] != answer]
                distractors = _distinct_sample(others, num_choices - 1, rng, start=distractors)
            if len(distractors) < num_choices - 1:
                raise ValueError(f"{source}-{target}: fewer than {num_choices} distinct {target} texts; lower num_choices")
            label = rng.randrange(num_choices)
            choices = distractors[:label] + [answer] + distractors[label:]
            docs.append({
                "id": f"{source}-{target}/{rows['talk_id'][i]}/{rows['segment_id'][i]}",
                "direction": f"{source}-{target}",
                "source_language": source,
                "target_language": target,
                "source_name": registry.get(source).name,
                "target_name": registry.get(target).name,
                "source": rows[source][i],
                "choices": choices,
                "label": label,
            })
    return docs


def _distinct_sample(texts: list[str], k: int, rng: random.Random, start: list[str] | None = None) -> list[str]:
    picked = list(start or [])
    for text in rng.sample(texts, len(texts)):
        if len(picked) == k:
            break
        if text not in picked:
            picked.append(text)
    return picked


def write_mc_task_data(
    corpus: str,
    split: str,
    directions: Sequence[tuple[str, str]],
    out: Path,
    num_choices: int = 4,
    max_docs: int | None = None,
    seed: int = 42,
) -> dict:
    """Write the ``ted2025_mc`` documents of a corpus split to ``out`` (JSONL); returns a summary."""
    import ted2025

    codes = list(dict.fromkeys(code for direction in directions for code in direction))
    wide = ted2025.load_dataset(corpus, languages=codes, split=split, min_languages=1, format="wide")
    rows = wide.select_columns(["talk_id", "segment_id", *codes]).to_dict()
    docs = mc_docs(rows, directions, num_choices, max_docs, seed)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return {"task": MC_TASK, "data_file": str(out), "corpus": corpus, "split": split, "documents": len(docs),
            "directions": [f"{s}-{t}" for s, t in directions], "num_choices": num_choices, "seed": seed}


def task_config(name: str, data_file: Path) -> dict:
    """The task's YAML as a dict, reading ``data_file``: a config ``TaskManager.load`` accepts."""
    config = yaml.safe_load((TASKS_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    config["dataset_kwargs"] = {**config.get("dataset_kwargs", {}), "data_files": {"test": str(data_file)}}
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the ted2025_mc task data from a TED2025 corpus split.")
    parser.add_argument("corpus", help="a built corpus folder, Hub repo id or hf:// path")
    parser.add_argument("--directions", nargs="+", required=True, help="e.g. en-de de-en en-zh-cn")
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, default=DEFAULT_DATA_FILE)
    parser.add_argument("--num-choices", type=int, default=4)
    parser.add_argument("--max-docs", type=int, default=None, help="per direction (default: every row)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    summary = write_mc_task_data(
        args.corpus, args.split, [parse_direction(d) for d in args.directions], args.out, args.num_choices,
        args.max_docs, args.seed,
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
