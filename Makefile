# The two commands of the README: `make run` and `make test`. Everything lands in this folder.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 3000
AXE_VERSION := 4.10.3
AXE    := .tools/node_modules/axe-core/axe.min.js
TEST_WORKERS ?= 2

.PHONY: run test install browser axe prometheus lint bench peers clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Lanner needs Python 3.11 or newer" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## Install everything and start Lanner on embedded defaults (SQLite + embedded Redis) on http://localhost:$(PORT)
run: install
	$(BIN)/lanner server --port $(PORT)

# Browser tests drive Debian's Chromium; fetched with apt-get where we may, else those tests skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); } \
	  || echo "note: no Chromium and no way to install it here; browser tests will be skipped" >&2

# The accessibility tests inject axe-core (from the npm registry) into the studio's pages; beside bun in .tools.
axe:
	@test -f $(AXE) || { command -v npm >/dev/null 2>&1 \
	  && npm install --prefix .tools --no-audit --no-fund --silent --save-exact axe-core@$(AXE_VERSION); } \
	  || echo "note: no npm here; the accessibility tests will be skipped" >&2

# The monitoring tests scrape Lanner with a real Prometheus (and check the alert rules with promtool): Debian's
# package, fetched with apt-get where we may, else those tests skip. No service is started: the tests run their own.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
	      || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null)); } \
	  || echo "note: no Prometheus and no way to install it here; the monitoring tests will be skipped" >&2

## Install everything and run the whole test suite (lint included)
test: install browser axe prometheus
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The peers bench/peers.py runs side by side with Lanner, each in its own virtualenv (not needed by run or test).
PREFECT_VERSION := 3.9.1
AIRFLOW_VERSION := 3.3.2
PEERS := .peers/prefect/.installed-$(PREFECT_VERSION) .peers/airflow/.installed-$(AIRFLOW_VERSION)
peers: $(PEERS)

.peers/prefect/.installed-$(PREFECT_VERSION):
	@test -x .peers/prefect/bin/python || $(PYTHON) -m venv .peers/prefect
	.peers/prefect/bin/pip install --quiet --disable-pip-version-check prefect==$(PREFECT_VERSION)
	@touch $@

.peers/airflow/.installed-$(AIRFLOW_VERSION):  # on PostgreSQL when there is one (its SQLite fails W3's burst)
	@test -x .peers/airflow/bin/python || $(PYTHON) -m venv .peers/airflow
	.peers/airflow/bin/pip install --quiet --disable-pip-version-check 'apache-airflow[postgres]==$(AIRFLOW_VERSION)'
	@touch $@

clean:
	rm -rf $(VENV) .peers .tools .web .web-* .states-* .lanner .pytest_cache .ruff_cache
