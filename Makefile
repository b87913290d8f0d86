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

demo: $(STAMP)
	$(BIN)/hydro demand demand_profiles/oujda_villages.csv --network networks/oujda_rural.inp --year 2030 --scenario standpipes --out out/oujda/demand_2030.csv
	$(BIN)/hydro size networks/oujda_rural.inp --catalog networks/catalogs/oujda_pipes.csv --min-pressure 10 --max-velocity 1.5 --output out/oujda/sized_standpipes.inp --report out/oujda/pipes_standpipes.csv
	$(BIN)/hydro simulate out/oujda/sized_standpipes.inp --duration 72 --out out/oujda/simulation

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf out .pytest_cache
