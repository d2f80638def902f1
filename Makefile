# Two commands do all the set-up (see README):
#   make run    create .venv, install the app's pinned requirements, serve the app
#   make test   create .venv, install the test requirements, run the whole suite
#   make stack  nginx on PORT in front of 2 replicas of serve.py (loopback ports; see deploy/)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run stack test test-fast bench build-reference install install-dev browser-deps nginx-deps node-deps clean

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

# nginx on $(PORT) in front of 2 replicas of serve.py on free loopback ports (deploy/stack.py);
# Ctrl-C stops them all. Files (nginx.conf, logs) in tmp/stack/.
stack: install nginx-deps
	$(BIN)/python deploy/stack.py --port $(PORT) --replicas 2

test: install-dev browser-deps nginx-deps node-deps
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

# The scale-out test (tests/test_nginx_stack.py) runs Debian's nginx as an ordinary
# process: installed here the same way as chromium; otherwise one line says how.
# policy-rc.d (exit 101) keeps the package from starting a system nginx on port 80
# while it installs; it is removed afterwards if we created it.
nginx-deps:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing Debian nginx for the scale-out test"; \
	    policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then policy=1; printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	    status=$$?; [ -n "$$policy" ] && rm -f /usr/sbin/policy-rc.d; [ $$status = 0 ]; \
	  else \
	    echo "== nginx is missing: tests/test_nginx_stack.py will be skipped (CI=true: it fails); to run it: sudo apt-get install -y nginx (or make test as root)"; \
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
