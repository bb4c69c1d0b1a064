# The two commands: `make demo` (the main job) and `make test`. Each sets up what is
# missing first: system packages (ngspice, ...) and a .venv with cpsim installed editable.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cpsim-installed

.PHONY: demo test lint setup system-deps bench docs clean

demo: setup
	$(BIN)/python -m cpsim.demo

test: setup
	$(BIN)/python -m pytest

# ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade) and mypy, configured in pyproject.toml
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/run_all.py

# The user guide (docs/*.md) and the API reference from the docstrings; warnings are errors.
DOCS_STAMP := $(VENV)/.cpsim-docs-installed

# -E and a fresh api/generated: every build reads everything, so no warning hides in a cache.
docs: setup $(DOCS_STAMP)
	rm -rf docs/api/generated
	$(BIN)/python -m sphinx -E -W --keep-going -n -b html docs docs/_build/html

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[docs]'
	@touch $(DOCS_STAMP)

setup: system-deps $(STAMP)

system-deps:
	@./scripts/install-system-deps.sh

# setup.py and the C sources too: `pip install -e` recompiles cpsim/io/_fastrows.c and cpsim/analysis/_fastedges.c
$(STAMP): pyproject.toml setup.py cpsim/io/_fastrows.c cpsim/analysis/_fastedges.c
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache docs/_build docs/api/generated
