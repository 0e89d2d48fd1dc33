"""The device profiles of the recipes, and the one check of a profile against this machine, shared by
training (recipes/training.py) and evaluation (recipes/eval.py)."""

from __future__ import annotations

DEVICE_PROFILES = ("gpu", "cpu")
# What only a CUDA device gives a run of the GPU profiles: bf16 mixed precision (transformers refuses
# it on a CPU, with a message that names neither the config nor the fix) and bitsandbytes' 4-bit and
# 8-bit weights as the GPU configs use them. The CPU smoke profiles load 4-bit NF4 on the CPU on purpose.
CUDA_SETTINGS = ("bf16", "load_in_4bit", "load_in_8bit")


class DeviceProfileError(RuntimeError):
    """The config asks for hardware features this machine lacks."""


def check_device(device_profile: str, *configs) -> None:
    """Refuse a ``gpu`` profile on a machine without CUDA when the run asks for a setting only CUDA
    provides (:data:`CUDA_SETTINGS`: bf16, load_in_4bit, load_in_8bit). A ``cpu`` profile runs anywhere.

    The rule is the same for every recipe: ``configs`` are the run's parsed arguments (dataclasses or
    the parser's raw namespace), and a setting counts as asked for when one of them has it on; a
    config without the setting (eval has no bf16) does not ask for it. So a GPU config with those
    settings turned off still runs on a CPU, in training as in evaluation. Given no configs (a check
    of the profile alone, as recipes/experiment.py makes of an eval step), every setting counts as
    asked for: the ``gpu`` profile then needs CUDA.
    """
    import torch

    if device_profile != "gpu" or torch.cuda.is_available():
        return
    wanted = [name for name in CUDA_SETTINGS if any(getattr(config, name, False) for config in configs)]
    if configs and not wanted:
        return
    asks = f" and asks for {' and '.join(wanted)}" if wanted else " (device_profile: gpu)"
    raise DeviceProfileError(
        f"this config is a GPU profile{asks}, but no CUDA device is visible. "
        "Run it on a GPU machine, or use the CPU smoke configs (recipes/smoke/*.yaml, device_profile: cpu)"
    )
