# Two commands matter: `make demo` and `make test`. Both create .venv and install into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Source of the demo build: a raw store or WIT3 folder. Empty = the bundled offline sample.
SOURCE ?=
DEMO   := demo
# torch is not a dependency in pyproject.toml: without a GPU (no nvidia-smi) the CPU wheel is
# pinned here, since an unpinned torch pulls a multi-GB CUDA build; with a GPU, bring your own
# CUDA build of torch into .venv (see README, "Training with TRL").
# On this project's machines pip finds the CPU wheel on disk; elsewhere, PyPI's torch==2.13.0
# is the CUDA build, so point pip at PyTorch's CPU index:
#   make test TORCH_CPU="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH_CPU ?= torch==2.13.0
HAS_GPU   := $(shell command -v nvidia-smi >/dev/null 2>&1 && echo yes)

.PHONY: install demo lint test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
ifeq ($(HAS_GPU),)
	$(BIN)/pip install -q $(TORCH_CPU)
endif
	$(BIN)/pip install -q -e ".[train,dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	@rm -rf $(DEMO)
ifeq ($(strip $(SOURCE)),)
	$(BIN)/ted2025 sample --out $(DEMO)/raw
	$(BIN)/ted2025 build --source $(DEMO)/raw --out $(DEMO)/corpus --splits train=0.6,validation=0.2,test=0.2
else
	$(BIN)/ted2025 build --source $(SOURCE) --out $(DEMO)/corpus
endif
	$(BIN)/ted2025 show $(DEMO)/corpus en-de-zh-cn --rows 3
	@echo "== the smoke comparison on $(DEMO)/corpus: three CPT formats, SFT on one, the base model; a tiny random model, 4-bit QLoRA, CPU"
	$(BIN)/python recipes/experiment.py --config recipes/experiments/smoke.yaml --dataset_name $(DEMO)/corpus \
		--model_name_or_path $(DEMO)/tiny-model --output_dir $(DEMO)/experiment

# pyflakes, isort, pyupgrade and bugbear, as configured in pyproject.toml; `make test` runs it first.
lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

# Benchmarks (minutes to an hour): numbers go to benchmarks/README.md by hand.
bench: install
	$(BIN)/python benchmarks/bench_build.py coverage
	$(BIN)/python benchmarks/bench_build.py throughput --sizes 100 500 2000 5000
	$(BIN)/python benchmarks/bench_loader.py --sizes 500 2000 5000 --repeats 1
	$(BIN)/python benchmarks/bench_recipes.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis .cache/ted2025
