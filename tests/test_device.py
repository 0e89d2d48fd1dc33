"""recipes/device.py: the one device rule of training and evaluation, on a machine made to look
CUDA-less (so the test reads the same on a GPU machine)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("trl", reason="the recipes need the `train` extra")

import torch  # noqa: E402

from recipes.device import DeviceProfileError, check_device  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def settings(bf16=False, load_in_4bit=False, load_in_8bit=False):
    return SimpleNamespace(bf16=bf16, load_in_4bit=load_in_4bit, load_in_8bit=load_in_8bit)


def test_a_gpu_profile_without_cuda_is_refused_when_it_asks_for_a_cuda_setting(no_cuda):
    check_device("cpu")
    check_device("cpu", settings(bf16=True, load_in_4bit=True))  # the smoke profiles: 4-bit NF4 on the CPU
    check_device("gpu", settings())
    check_device("gpu", SimpleNamespace(dtype="bfloat16"))  # a config without the settings asks for none
    for asked in ("bf16", "load_in_4bit", "load_in_8bit"):
        with pytest.raises(DeviceProfileError, match=f"asks for {asked}, but no CUDA device"):
            check_device("gpu", settings(**{asked: True}))
    with pytest.raises(DeviceProfileError, match="asks for bf16 and load_in_4bit"):
        check_device("gpu", SimpleNamespace(bf16=True), SimpleNamespace(load_in_4bit=True))  # training_args, model_args


def test_the_profile_alone_needs_cuda(no_cuda):
    with pytest.raises(DeviceProfileError, match=r"GPU profile \(device_profile: gpu\), but no CUDA device"):
        check_device("gpu")


def test_training_and_eval_apply_the_same_rule(no_cuda):
    from recipes import eval as evaluation
    from recipes import sft

    training_config = ["--config", str(REPO_ROOT / "recipes" / "qwen2.5-7b" / "sft" / "config_qlora.yaml")]
    eval_config = ["--config", str(REPO_ROOT / "recipes" / "qwen2.5-7b" / "eval" / "config_qlora.yaml")]
    with pytest.raises(DeviceProfileError, match="load_in_4bit"):
        sft.make_parser().parse_args_and_config([*training_config, "--bf16", "false"])
    script_args, _, model_args = evaluation.make_parser().parse_args_and_config(eval_config)
    with pytest.raises(DeviceProfileError, match="load_in_4bit"):
        check_device(script_args.device_profile, model_args)

    # With the CUDA settings off, the GPU configs of both run on a CPU.
    sft.make_parser().parse_args_and_config([*training_config, "--bf16", "false", "--load_in_4bit", "false"])
    script_args, _, model_args = evaluation.make_parser().parse_args_and_config([*eval_config, "--load_in_4bit", "false"])
    check_device(script_args.device_profile, model_args)
