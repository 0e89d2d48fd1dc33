# Two commands matter: `make demo` and `make test`. Both create .venv and install into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Source of the demo build: a raw store or WIT3 folder. Empty = the bundled offline sample.
SOURCE ?=
DEMO   := demo

.PHONY: install demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
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

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .hypothesis
