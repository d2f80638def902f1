# Two commands do all the set-up (see README):
#   make run    create .venv, install the app's pinned requirements, serve the app
#   make test   create .venv, install the test requirements, run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast bench build-reference install install-dev browser-deps node-deps clean

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

test: install-dev browser-deps node-deps
	$(BIN)/python -m pytest

# The browser tests drive Debian's chromium: installed here when missing and we are
# root with apt-get (as on CI); otherwise the run ends with one line saying how many
# browser tests were skipped and the command that enables them.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing Debian chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "== chromium is missing and cannot be installed here (not root, or no apt-get)"; \
	  fi; \
	fi

# axe-core (the browser tests' accessibility audit), pinned in package-lock.json,
# installed in node_modules/ (git-ignored) when missing or older than the lock file.
node-deps: node_modules/axe-core/axe.min.js

node_modules/axe-core/axe.min.js: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "== installing axe-core from package-lock.json (npm ci)"; \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "== npm is missing: the accessibility audit (tests/test_a11y_browser.py) will be skipped"; \
	fi

# Unit tests only: no browser, no benchmark (a few seconds).
test-fast: install-dev
	$(BIN)/python -m pytest -m "not browser and not slow"

bench: install-dev
	$(BIN)/python benchmarks/bench_reference.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_search.py
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_downloads.py
	$(BIN)/python benchmarks/bench_ogc.py
	$(BIN)/python benchmarks/bench_a11y.py
	$(BIN)/python benchmarks/bench_print.py
	$(BIN)/python benchmarks/bench_load.py

build-reference: install-dev
	$(BIN)/python -m tdi_geo build-reference

clean:
	rm -rf $(VENV) .pytest_cache node_modules
