# `make demo` and `make test` work on a fresh machine with Python 3.11+, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The Oujda study in English (out/oujda/) and in French (out/oujda_fr/).
demo: $(STAMP)
	$(BIN)/hydro run studies/oujda/study.toml --out out/oujda
	$(BIN)/hydro run studies/oujda/study.toml --lang fr --out out/oujda_fr

# The tests start with the linter (ruff: docstrings and names included), then pytest runs the
# test suite and the doctests of the package, the test files shared among the cores (at most 4;
# a file's tests stay together, so its module fixtures run once).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf out .pytest_cache
