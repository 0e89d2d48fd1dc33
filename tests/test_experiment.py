"""recipes/experiment.py: the plan, the comparability checks, skip / resume / config change / failed
arm, the table read from the arms' results.json, slurm scripts, the Hub push, and the smoke
experiment run for real with the tiny model (and killed and resumed).

Most run tests put tests/fake_recipe.py in place of the four step scripts, so each step takes a
blink; the checks before training are the real ones (the recipes' parsers and data on the smoke
corpus with the tiny model), and so is the runner."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("trl", reason="the recipes need the `train` extra")

from recipes import comparison, experiment  # noqa: E402
from recipes.experiment import ExperimentError, make_parser, plan  # noqa: E402
from recipes.runner import steps as runner_steps  # noqa: E402  (a step's command line: SCRIPTS, ACCELERATE)

from conftest import ENV  # noqa: E402

pytestmark = pytest.mark.usefixtures("smoke_corpus")  # what the smoke configs read

REPO_ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = REPO_ROOT / "recipes" / "experiments"
FAKE = Path(__file__).with_name("fake_recipe.py")
PAPER_EXPERIMENTS = ("rq1_formats", "rq2_parallelism", "rq3_instructions")


ARMS = [
    {"name": "multiway", "cpt": {"cpt_format": "multiway"}},
    {"name": "unaligned", "cpt": {"cpt_format": "unaligned"}},
    {"name": "base-model", "cpt": False},
]


def write_experiment(tmp_path: Path, tiny: str, arms=None, **fields) -> Path:
    spec = {
        "name": "test", "output_dir": str(tmp_path / "exp"), "model_name_or_path": tiny,
        "configs": {"cpt": "recipes/smoke/cpt.yaml", "eval": "recipes/smoke/eval.yaml"},
        "control": "multiway", "arms": arms or ARMS, **fields,
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def parse(path: Path, *extra: str):
    (args,) = make_parser().parse_args_and_config(["--config", str(path), *extra])
    return args


@pytest.fixture
def fake(monkeypatch):
    """Every step is tests/fake_recipe.py, launched without accelerate; returns the calls made."""
    monkeypatch.setattr(runner_steps, "SCRIPTS", {kind: FAKE for kind in experiment.STEPS})
    monkeypatch.setattr(runner_steps, "ACCELERATE", [sys.executable])
    calls = []

    def runner(argv, log_file):
        calls.append(argv)
        return experiment.run_process(argv, log_file)

    return calls, runner


def fake_calls(args) -> list[dict]:
    path = Path(args.output_dir) / "fake_calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


# --- the plan --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAPER_EXPERIMENTS)
def test_dry_run_of_each_paper_experiment_prints_the_plan_and_writes_nothing(name, tmp_path, capsys):
    args = parse(EXPERIMENTS / f"{name}.yaml", "--dry-run", "--output_dir", str(tmp_path / "exp"))
    experiment.main(args)
    out = capsys.readouterr().out
    arms = plan(args)
    for arm in arms:
        assert f"arm {arm.name}" in out
        for step in arm.steps:
            if step.arm == arm.name:
                assert step.shown(args) in out
    assert "accelerate launch --config_file recipes/accelerate_configs/single_gpu.yaml recipes/" in out
    assert "10,000,000 tokens" in out and "Estimated GPU time still to run: ~" in out and "not a measurement" in out
    assert not (tmp_path / "exp").exists()


def test_arms_that_resolve_to_the_same_step_share_one_run():
    arms = {arm.name: arm for arm in plan(parse(EXPERIMENTS / "rq3_instructions.yaml"))}
    assert arms["cpt-xy"].step("cpt") is arms["cpt-xyz"].step("cpt")
    assert arms["cpt-xy"].step("merge") is arms["cpt-xyz"].step("merge")
    assert arms["cpt-xy"].step("sft") is not arms["cpt-xyz"].step("sft")
    merge = arms["cpt-xyz"].step("merge")
    assert arms["cpt-xyz"].step("sft").config["model_name_or_path"] == str(merge.output_dir)
    assert arms["xy"].step("cpt") is None and arms["xy"].step("sft").config["model_name_or_path"] == "Qwen/Qwen2.5-7B"
    assert arms["base-model"].steps == [arms["base-model"].step("eval")]
    assert arms["base-model"].step("eval").config["adapter"] is None


@pytest.mark.parametrize("name", PAPER_EXPERIMENTS)
def test_emitted_slurm_scripts_are_valid_bash_with_dependencies(name, tmp_path):
    exp = tmp_path / "exp"
    args = parse(EXPERIMENTS / f"{name}.yaml", "--output_dir", str(exp), "--emit", "slurm", str(tmp_path / "slurm"))
    experiment.main(args)
    scripts = sorted((tmp_path / "slurm").iterdir())
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
    submit = (tmp_path / "slurm" / "submit.sh").read_text().splitlines()
    steps = experiment.unique_steps(plan(args))
    assert len([s for s in scripts if s.suffix == ".sbatch"]) == len(steps) + 1  # + the comparison
    job = {}  # sbatch script -> the variable submit.sh keeps its job id in
    for line in submit:
        if "=$(queue " in line:
            job[line.split()[-1].rstrip(")")] = line.split("=", 1)[0]
    resolved = exp.resolve() / "experiment.yaml"
    assert yaml.safe_load(resolved.read_text())["output_dir"] == str(exp)  # command-line overrides travel
    for step in steps:
        script = f"{step.arm}-{step.kind}.sbatch"
        body = (tmp_path / "slurm" / script).read_text()
        assert step.config_file.is_file() and step.log_file.parent.is_dir()  # Slurm opens --output first
        assert f"--config {resolved} --only {step.arm} --steps {step.kind}" in body
        assert f"#   {step.shown(args)}" in body
        if step.kind in experiment.TRAINING:
            assert "accelerate launch --config_file recipes/accelerate_configs/single_gpu.yaml" in body
            assert "#SBATCH --gres=gpu:1" in body
        queued = next(line for line in submit if line.endswith(f"{script})"))
        if step.needs:
            needed = ":".join(f"${job[f'{up.arm}-{up.kind}.sbatch']}" for up in step.needs)
            assert f"--dependency=afterok:{needed} --kill-on-invalid-dep=yes" in queued
        else:
            assert "--dependency" not in queued
    compare = (tmp_path / "slurm" / "compare.sbatch").read_text()
    assert f"--config {resolved} --compare_only true" in compare
    evals = ":".join(f"${job[f'{s.arm}-{s.kind}.sbatch']}" for s in steps if s.kind == "eval")
    assert f"queue --dependency=afterany:{evals} compare.sbatch >/dev/null" in submit


def test_a_slurm_step_runs_only_its_step_and_needs_what_it_builds_on(tmp_path, tiny, fake):
    calls, runner = fake
    path = write_experiment(tmp_path, tiny)
    failed = experiment.main(parse(path, "--only", "multiway", "--steps", "eval"), runner=runner)["failed"]
    assert failed == {"multiway": "cpt is not done, and --steps leaves it out"} and calls == []
    assert experiment.main(parse(path, "--only", "multiway", "--steps", "cpt"), runner=runner) == {"failed": {}}
    assert experiment.main(parse(path, "--only", "multiway", "--steps", "eval"), runner=runner) == {"failed": {}}
    assert [(c["arm"], c["step"]) for c in fake_calls(parse(path))] == [("multiway", "cpt"), ("multiway", "eval")]
    assert not (tmp_path / "exp" / comparison.COMPARISON_JSON).exists()  # compare.sbatch writes it
    table = experiment.main(parse(path, "--compare_only", "true"), runner=runner)
    assert [row["arm"] for row in table["arms"] if row["cells"]] == ["multiway"]


def test_the_plan_names_the_control_when_only_other_arms_run(capsys):
    experiment.main(parse(EXPERIMENTS / "rq1_formats.yaml", "--dry-run", "--only", "pairwise", "unaligned"))
    out = capsys.readouterr().out
    assert "control multiway" in out and "(control)" not in out and "arm multiway" not in out


# --- checks before anything runs --------------------------------------------------------------


def test_an_arm_with_another_budget_that_it_does_not_ask_for_is_an_error(tmp_path, tiny):
    base = yaml.safe_load((REPO_ROOT / "recipes/smoke/cpt.yaml").read_text())
    other = tmp_path / "cpt-other.yaml"
    other.write_text(yaml.safe_dump({**base, "token_budget": 2048}))
    arms = [ARMS[0], {"name": "unaligned", "configs": {"cpt": str(other)}, "cpt": {"cpt_format": "unaligned"}}]
    with pytest.raises(ExperimentError, match="arm unaligned: cpt token_budget is 2048, arm multiway's is 4096"):
        experiment.main(parse(write_experiment(tmp_path, tiny, arms)))
    assert not (tmp_path / "exp").exists()


def test_a_deliberate_difference_is_allowed_and_shown_in_the_table(tmp_path, tiny, fake):
    calls, runner = fake
    arms = [ARMS[0], {"name": "half", "cpt": {"cpt_format": "multiway", "token_budget": 2048}}]
    args = parse(write_experiment(tmp_path, tiny, arms))
    table = experiment.main(args, runner=runner)
    half = next(row for row in table["arms"] if row["arm"] == "half")
    assert half["deliberate_differences"] == [{"step": "cpt", "key": "token_budget", "value": 2048, "control": 4096}]
    assert "cpt token_budget: 2048 (control 4096)" in (Path(args.output_dir) / comparison.COMPARISON_MD).read_text()


def test_arms_are_evaluated_alike_without_exception(tmp_path, tiny):
    arms = [ARMS[0], {"name": "easier", "cpt": {"cpt_format": "unaligned"}, "eval": {"max_segments": 4}}]
    with pytest.raises(ExperimentError, match="eval max_segments is 4, arm multiway's is 16; every arm is evaluated on the same"):
        experiment.main(parse(write_experiment(tmp_path, tiny, arms)))


def test_a_budget_the_data_cannot_fill_fails_before_any_training(tmp_path, tiny, fake):
    calls, runner = fake
    args = parse(write_experiment(tmp_path, tiny, common={"cpt": {"token_budget": 10**9}}))
    with pytest.raises(ExperimentError, match="(?s)before training:.*arm multiway: cpt: BudgetError.*token_budget of 1,000,000,000"):
        experiment.main(args, runner=runner)
    assert calls == []


def test_misspelt_keys_and_bad_arms_fail_before_anything_runs(tmp_path, tiny):
    with pytest.raises(ExperimentError, match=r"arm multiway: cpt has keys its recipe does not know: \['token_budjet'\]"):
        experiment.main(parse(write_experiment(tmp_path, tiny, [{"name": "multiway", "cpt": {"token_budjet": 5}}])))
    with pytest.raises(ExperimentError, match="every arm needs a name"):
        plan(parse(write_experiment(tmp_path, tiny, [{"name": "../up"}])))
    with pytest.raises(ExperimentError, match="control 'multiway' is not an arm"):
        plan(parse(write_experiment(tmp_path, tiny, [{"name": "a"}])))
    with pytest.raises(ExperimentError, match="do not skip eval"):
        plan(parse(write_experiment(tmp_path, tiny, [{"name": "a", "eval": False}], control="a")))
    with pytest.raises(ExperimentError, match="no sft config"):
        plan(parse(write_experiment(tmp_path, tiny, [{"name": "a", "sft": {"num_train_examples": 3}}], control="a")))


# --- running: skip, change, fail, resume ------------------------------------------------------


def test_a_rerun_skips_every_finished_step_and_the_table_reads_the_arms_results(tmp_path, tiny, fake):
    calls, runner = fake
    args = parse(write_experiment(tmp_path, tiny))
    table = experiment.main(args, runner=runner)
    assert [(c["arm"], c["step"]) for c in fake_calls(args)] == [
        ("multiway", "cpt"), ("multiway", "eval"), ("unaligned", "cpt"), ("unaligned", "eval"), ("base-model", "eval")]
    assert table["failed"] == {}

    control = next(row for row in table["arms"] if row["control"])
    for row in table["arms"]:
        results = json.loads(Path(row["results_file"]).read_text())
        assert row["cells"] and set(row["cells"]) == set(table["columns"])
        for label, cell in row["cells"].items():
            assert cell["value"] == comparison.resolve_pointer(results, cell["source"])
            if cell.get("stderr_source"):
                assert cell["stderr"] == comparison.resolve_pointer(results, cell["stderr_source"])
            expected = None if row["control"] else cell["value"] - control["cells"][label]["value"]
            assert cell["delta"] == expected
        assert row["cells"]["probe retrieval, best layer"]["value"] == max(l["retrieval_accuracy"] for l in results["probe"]["layers"])
    on_disk = json.loads((Path(args.output_dir) / comparison.COMPARISON_JSON).read_text())
    assert on_disk["arms"] == json.loads(json.dumps(table["arms"], default=str))
    markdown = (Path(args.output_dir) / comparison.COMPARISON_MD).read_text()
    unaligned = next(row for row in table["arms"] if row["arm"] == "unaligned")
    cell = unaligned["cells"]["en-de chrF++"]
    assert f"{cell['value']:.2f} ({cell['delta']:+.2f})" in markdown
    assert (Path(args.output_dir) / comparison.COMPARISON_PNG).stat().st_size > 1000

    calls.clear()
    again = experiment.main(parse(write_experiment(tmp_path, tiny)), runner=runner)
    assert calls == [] and len(fake_calls(args)) == 5
    assert [row["cells"] for row in again["arms"]] == [row["cells"] for row in table["arms"]]


def test_a_changed_config_reruns_that_arm_from_scratch_and_nothing_else(tmp_path, tiny, fake):
    calls, runner = fake
    experiment.main(parse(write_experiment(tmp_path, tiny)), runner=runner)
    stale = tmp_path / "exp" / "unaligned" / "cpt" / "stale-marker"
    stale.write_text("from the old run")
    arms = [ARMS[0], {"name": "unaligned", "cpt": {"cpt_format": "unaligned", "learning_rate": 1e-3}}, ARMS[2]]
    calls.clear()
    args = parse(write_experiment(tmp_path, tiny, arms))
    experiment.main(args, runner=runner)
    assert [(c["arm"], c["step"]) for c in fake_calls(args)[5:]] == [("unaligned", "cpt"), ("unaligned", "eval")]
    assert not stale.exists()
    assert fake_calls(args)[5]["config"]["learning_rate"] == 1e-3


def test_the_table_leaves_out_an_arm_whose_scores_are_out_of_date(tmp_path, tiny, fake):
    calls, runner = fake
    experiment.main(parse(write_experiment(tmp_path, tiny)), runner=runner)
    arms = [ARMS[0], {"name": "unaligned", "cpt": {"cpt_format": "unaligned", "learning_rate": 1e-3}}, ARMS[2]]
    table = experiment.main(parse(write_experiment(tmp_path, tiny, arms), "--only", "multiway"), runner=runner)
    assert [row["arm"] for row in table["arms"]] == ["multiway", "base-model"]  # unaligned's scores are of another config


def test_a_redone_training_step_makes_its_evaluation_stale(tmp_path, tiny, fake):
    calls, runner = fake
    args = parse(write_experiment(tmp_path, tiny))
    experiment.main(args, runner=runner)
    record = tmp_path / "exp" / "multiway" / "cpt" / experiment.STEP_RECORD
    record.write_text(record.read_text().replace('"finished"', '"interrupted"'))
    experiment.main(args, runner=runner)
    assert [(c["arm"], c["step"]) for c in fake_calls(args)[5:]] == [("multiway", "cpt"), ("multiway", "eval")]


def test_a_failed_arm_is_reported_and_the_others_go_on(tmp_path, tiny, fake, monkeypatch):
    calls, runner = fake
    monkeypatch.setenv("FAKE_FAIL", "multiway/cpt")
    args = parse(write_experiment(tmp_path, tiny))
    table = experiment.main(args, runner=runner)
    assert list(table["failed"]) == ["multiway"] and "cpt failed (exit 2)" in table["failed"]["multiway"]
    assert [(c["arm"], c["step"]) for c in fake_calls(args)] == [
        ("multiway", "cpt"), ("unaligned", "cpt"), ("unaligned", "eval"), ("base-model", "eval")]
    assert "**failed**: cpt failed (exit 2)" in (tmp_path / "exp" / comparison.COMPARISON_MD).read_text()
    unaligned = next(row for row in table["arms"] if row["arm"] == "unaligned")
    assert unaligned["cells"] and all(cell["delta"] is None for cell in unaligned["cells"].values())  # no control scores

    # --fail-fast: nothing after the first failure
    monkeypatch.setenv("FAKE_FAIL", "unaligned/cpt")
    (tmp_path / "fail-fast").mkdir()
    args = parse(write_experiment(tmp_path / "fail-fast", tiny), "--fail-fast")
    experiment.main(args, runner=runner)
    assert [(c["arm"], c["step"]) for c in fake_calls(args)] == [("multiway", "cpt"), ("multiway", "eval"), ("unaligned", "cpt")]


def test_a_killed_training_step_resumes_from_its_last_checkpoint(tmp_path, tiny, fake, monkeypatch):
    calls, runner = fake
    monkeypatch.setenv("FAKE_DIE", "unaligned/cpt")
    args = parse(write_experiment(tmp_path, tiny))
    assert "unaligned" in experiment.main(args, runner=runner)["failed"]
    record = json.loads((tmp_path / "exp" / "unaligned" / "cpt" / experiment.STEP_RECORD).read_text())
    assert record["status"] == "failed" and record["returncode"] == 3
    monkeypatch.delenv("FAKE_DIE")
    calls.clear()
    assert experiment.main(args, runner=runner)["failed"] == {}
    resumed = fake_calls(args)[4:]  # after multiway cpt + eval, the killed unaligned cpt, base-model eval
    assert [(c["arm"], c["step"], c["start"]) for c in resumed] == [("unaligned", "cpt", 3), ("unaligned", "eval", 1)]
    record = json.loads((tmp_path / "exp" / "unaligned" / "cpt" / experiment.STEP_RECORD).read_text())
    assert record["status"] == "finished" and record["resumed_from"] == "checkpoint-2"


def test_a_folder_the_runner_did_not_write_is_not_touched(tmp_path, tiny, fake):
    calls, runner = fake
    mine = tmp_path / "exp" / "multiway" / "cpt"
    mine.mkdir(parents=True)
    (mine / "weights.bin").write_text("someone's")
    with pytest.raises(ExperimentError, match="holds files but no run record"):
        experiment.main(parse(write_experiment(tmp_path, tiny)), runner=runner)
    assert (mine / "weights.bin").read_text() == "someone's" and calls == []


def test_the_comparison_goes_to_a_private_dataset_repo_linking_the_arms(tmp_path, tiny, fake, monkeypatch):
    from huggingface_hub.utils import disable_progress_bars

    from hub_server import HubServer, hub_environment

    calls, runner = fake
    args = parse(write_experiment(tmp_path, tiny, push_to_hub=True, hub_namespace="org", comparison_repo="org/cmp"))
    arms = plan(args)
    assert arms[0].step("cpt").config["hub_model_id"] == "org/test-multiway-cpt"
    assert arms[0].step("eval").config["hub_model_id"] == "org/test-multiway-cpt"
    assert arms[-1].step("eval").config["push_to_hub"] is False  # the base model has no repo of its own
    for arm in arms:  # the steps' own pushes are the recipes' (tested there): here, the comparison's
        for step in arm.steps:
            step.config["push_to_hub"] = False
    monkeypatch.setattr(experiment, "plan", lambda _: arms)
    with HubServer(tmp_path / "hub") as server:
        hub_environment(monkeypatch, server.url, tmp_path / "hf_home")
        monkeypatch.setenv("HF_TOKEN", "hf_loopbackSecret0123456789abcdefXYZ")
        disable_progress_bars()
        experiment.main(args, runner=runner)
        files = set(server.files("org/cmp"))
        assert {"README.md", comparison.COMPARISON_JSON, comparison.COMPARISON_PNG} <= files
        assert server.private["org/cmp"] is True
        card = (server.root / "org/cmp" / "README.md").read_text()
        for name in server.files("org/cmp"):
            assert b"hf_loopbackSecret" not in (server.root / "org/cmp" / name).read_bytes()
        assert "[org/test-multiway-cpt](https://huggingface.co/org/test-multiway-cpt)" in card
        assert "| multiway | control |" in card and "CC BY-NC-ND 4.0" in card


# --- the smoke experiment, for real ------------------------------------------------------------


def test_the_smoke_experiment_runs_and_a_rerun_skips_it(tmp_path, tiny):
    args = parse(EXPERIMENTS / "smoke.yaml", "--model_name_or_path", tiny, "--output_dir", str(tmp_path / "exp"),
                 "--only", "multiway", "multiway-sft", "base-model")
    table = experiment.main(args)
    assert [row["arm"] for row in table["arms"]] == ["multiway", "multiway-sft", "base-model"] and table["failed"] == {}
    steps = {row["arm"]: row["steps"] for row in table["arms"]}
    assert steps["multiway-sft"]["cpt"]["run_by_arm"] == "multiway"  # one CPT run for both arms
    assert steps["multiway-sft"]["sft"]["config"]["model_name_or_path"] == steps["multiway-sft"]["merge"]["output_dir"]
    for row in table["arms"]:
        results = json.loads(Path(row["results_file"]).read_text())
        for cell in row["cells"].values():
            assert cell["value"] == comparison.resolve_pointer(results, cell["source"])
        assert {"en-de chrF++", "ted2025_mc acc", "probe retrieval, last layer"} <= set(row["cells"])
    markdown = (tmp_path / "exp" / comparison.COMPARISON_MD).read_text()
    assert "random-weight tiny model" in markdown and (tmp_path / "exp" / comparison.COMPARISON_PNG).is_file()
    assert json.loads((tmp_path / "exp" / "multiway" / "cpt" / "ted2025_run.json").read_text())["train"]["format"] == "multiway"
    evaluated = json.loads((tmp_path / "exp" / "multiway-sft" / "eval" / "results.json").read_text())["adapter"]
    assert evaluated["recipe"] == "sft" and evaluated["model"] == steps["multiway-sft"]["merge"]["output_dir"]

    ran = []
    experiment.main(args, runner=lambda argv, log: ran.append(argv) or 0)
    assert ran == []


def test_a_killed_experiment_resumes_the_arm_it_was_in(tmp_path, tiny):
    spec = {"name": "kill", "output_dir": str(tmp_path / "exp"), "model_name_or_path": tiny,
            "configs": {"cpt": "recipes/smoke/cpt.yaml", "eval": "recipes/smoke/eval.yaml"},
            "launch_args": ["--num_processes", "1", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"],
            "common": {"cpt": {"token_budget": 16384}}, "arms": [{"name": "multiway"}]}
    config = tmp_path / "kill.yaml"
    config.write_text(yaml.safe_dump(spec))
    command = [sys.executable, "recipes/experiment.py", "--config", str(config)]
    out = tmp_path / "exp" / "multiway" / "cpt"
    runner = subprocess.Popen(command, cwd=REPO_ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not (out / "checkpoint-4" / "trainer_state.json").is_file() and time.time() < deadline and runner.poll() is None:
        time.sleep(0.2)
    runner.send_signal(signal.SIGTERM)
    assert runner.wait(timeout=120) == 130, runner.stderr.read().decode()[-3000:]
    record = json.loads((out / experiment.STEP_RECORD).read_text())
    assert record["status"] == "interrupted"
    assert subprocess.run(["pgrep", "-f", str(tmp_path / "exp")], capture_output=True).stdout == b""  # the step stopped too

    result = subprocess.run(command, cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((out / experiment.STEP_RECORD).read_text())
    assert record["status"] == "finished" and record["resumed_from"].startswith("checkpoint-")
    assert int(record["resumed_from"].split("-")[1]) >= 4
    assert f"resuming from {out}/{record['resumed_from']}" in result.stderr + result.stdout
