# The two commands: `make demo` (the main job) and `make test`. Each sets up what is
# missing first: system packages (ngspice, ...) and a .venv with cpsim installed editable.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.cpsim-installed

.PHONY: demo test setup system-deps bench clean

demo: setup
	$(BIN)/python -m cpsim.demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/run_all.py

setup: system-deps $(STAMP)

system-deps:
	@./scripts/install-system-deps.sh

# setup.py and the C source too: `pip install -e` recompiles cpsim/io/_fastrows.c
$(STAMP): pyproject.toml setup.py cpsim/io/_fastrows.c
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
