"""A stand-in for recipes/cpt.py, sft.py, merge_adapter.py and eval.py in the tests of
recipes/experiment.py: run as ``python fake_recipe.py --config FILE``, it reads the step from the
config's output_dir (``EXP/<arm>/<step>``) and does in a blink what the real step does to its
folder. Training writes ``checkpoint-1..4`` and resumes after the last one there; eval writes a
``results.json`` of recipes/eval.py's shape, with numbers drawn from a seed of the evaluated adapter.

Environment: ``FAKE_FAIL=<arm>/<step>`` exits 2 at once; ``FAKE_DIE=<arm>/<step>`` exits 3 after
``checkpoint-2`` (a killed run). Every call is logged to ``EXP/fake_calls.jsonl``.
"""

import json
import os
import random
import sys
from pathlib import Path

import yaml

STEPS = 4


def main(argv: list[str]) -> int:
    config = yaml.safe_load(Path(argv[argv.index("--config") + 1]).read_text(encoding="utf-8"))
    out = Path(config["output_dir"])
    kind, arm = out.name, out.parent.name
    out.mkdir(parents=True, exist_ok=True)
    start = 1 + max((int(p.name.split("-")[1]) for p in out.glob("checkpoint-*")), default=0)
    with open(out.parent.parent / "fake_calls.jsonl", "a", encoding="utf-8") as calls:
        calls.write(json.dumps({"arm": arm, "step": kind, "start": start, "config": config}) + "\n")
    if os.environ.get("FAKE_FAIL") == f"{arm}/{kind}":
        print(f"fake {kind} of {arm} fails", file=sys.stderr)
        return 2
    if kind in ("cpt", "sft"):
        for step in range(start, STEPS + 1):
            (out / f"checkpoint-{step}").mkdir()
            if step == 2 and os.environ.get("FAKE_DIE") == f"{arm}/{kind}":
                return 3
        (out / "adapter_config.json").write_text("{}", encoding="utf-8")
    elif kind == "merge":
        (out / "config.json").write_text(json.dumps({"merged": config["adapter"]}), encoding="utf-8")
    else:
        rng = random.Random(str(config.get("adapter")) + str(config.get("model_name_or_path")))
        layers = [{"layer": i, "retrieval_accuracy": rng.random()} for i in range(3)]
        results = {
            "recipe": "eval", "model": config["model_name_or_path"], "adapter": config.get("adapter"),
            "translation": {"ted2025": {d: {"chrf++": rng.uniform(0, 60), "bleu": rng.uniform(0, 30), "segments": 16}
                                        for d in config["directions"]}},
            "benchmarks": {"tasks": {task: {"metrics": {"acc": rng.random(), "acc_stderr": rng.uniform(0, 0.05)}}
                                     for task in config["lm_eval_tasks"]}},
            "probe": {"layers": layers, "segments": 32, "chance": 1 / 32},
            "settings": {"script_args": {"lm_eval_tasks": config["lm_eval_tasks"]}},
            "versions": {"fake": "1"},
        }
        (out / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
