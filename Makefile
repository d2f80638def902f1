# Two commands do all the set-up (see README):
#   make run    create .venv, install the app's pinned requirements, serve the app
#   make test   create .venv, install the test requirements, run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast bench build-reference install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.run-installed $@

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/python -m streamlit run serve.py --server.port $(PORT)

test: install-dev
	$(BIN)/python -m pytest

# Unit tests only: no browser, no benchmark (a few seconds).
test-fast: install-dev
	$(BIN)/python -m pytest -m "not browser and not slow"

bench: install-dev
	$(BIN)/python benchmarks/bench_reference.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_app.py

build-reference: install-dev
	$(BIN)/python -m tdi_geo build-reference

clean:
	rm -rf $(VENV) .pytest_cache
