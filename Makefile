# libcoop: every command people and CI use. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Best effort, for `make test` only: Debian's package $(1) when apt-get can run here (as root, or
# with sudo that asks no password); elsewhere one line saying what $(1) is for ($(2)). Never fails.
APT_TRY = if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(1) >/dev/null \
	  || echo "note: could not install $(1) ($(2))"; \
	else echo "note: $(1) not installed: no apt-get or no root here ($(2))"; fi

# The project's tools first on PATH: `airflow standalone` starts its parts as `airflow` from PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# A project-local Airflow: its own home and SQLite metadata database, the project's DAGs only.
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
AIRFLOW_PORT ?= 8080
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: help setup run test test-unit lint format fuzz bench faults airflow serve docs dashboard rollback builds templates clean browser-deps font font-deps

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode
	@touch $@

setup: $(VENV)/.synced ## install everything into .venv (uv sync from uv.lock)

# The browser tests open pages in a real headless browser: Debian's Chromium (no browser download).
browser-deps:
	@[ -x $(CHROMIUM) ] || { $(call APT_TRY,chromium,the browser tests skip without it); }

# The dashboard's font (CJK and Vietnamese names): found where the system keeps it (fc-match, common
# paths; libcoop/dashboard/fonts.py), else the pages use the reader's fonts. `make run` only looks.
font: $(VENV)/.synced
	@$(BIN)/python -m libcoop.dashboard.fonts || true

font-deps: $(VENV)/.synced
	@$(BIN)/python -m libcoop.dashboard.fonts >/dev/null || { $(call APT_TRY,fonts-noto-cjk,the dashboard tests want it); }

$(AIRFLOW_HOME)/airflow.db: $(VENV)/.synced
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	$(BIN)/airflow pools set duckdb_writer 1 "tasks that write the DuckDB build: one at a time" > /dev/null

# Airflow's OpenLineage provider, on for the runs of `make run` and `make airflow` only (not the
# tests): the DAG run's and tasks' events as JSON lines beside the warehouse; libcoop's step events,
# parented to those tasks, are in warehouse/lineage/<run id>.jsonl. For Marquez, set OPENLINEAGE_URL
# and AIRFLOW__OPENLINEAGE__TRANSPORT= (empty): both kinds of events then go there.
AIRFLOW_LINEAGE_FILE ?= $(CURDIR)/warehouse/airflow-lineage.jsonl
run airflow: export AIRFLOW__OPENLINEAGE__NAMESPACE ?= libcoop
run airflow: export AIRFLOW__OPENLINEAGE__TRANSPORT ?= {"type": "file", "log_file_path": "$(AIRFLOW_LINEAGE_FILE)", "append": true}

# The full Airflow log goes to last-run.log; the terminal shows each phase as it starts and ends.
run: $(AIRFLOW_HOME)/airflow.db font ## run the nightly DAG once through Airflow on raw/incoming, then print the summary
	@echo "libcoop: running the nightly DAG through Airflow (full log in $(AIRFLOW_HOME)/last-run.log)"
	@set -o pipefail; PYTHONUNBUFFERED=1 $(BIN)/airflow dags test cooperation_nightly 2>&1 | tee $(AIRFLOW_HOME)/last-run.log \
		| $(BIN)/python -m libcoop.progress \
		|| (tail -n 60 $(AIRFLOW_HOME)/last-run.log; echo "the run failed: full log in $(AIRFLOW_HOME)/last-run.log"; exit 1)
	@grep -qE "DagRun Finished: .* state=success" $(AIRFLOW_HOME)/last-run.log \
		|| (tail -n 60 $(AIRFLOW_HOME)/last-run.log; echo "the DAG run did not succeed: full log in $(AIRFLOW_HOME)/last-run.log"; exit 1)
	@$(BIN)/libcoop summary

test: $(VENV)/.synced browser-deps font-deps ## run every test (unit, integration with Airflow/dbt/GE, distributed on PostgreSQL+Redis)
	$(BIN)/pytest

test-unit: $(VENV)/.synced ## run the fast unit tests only
	$(BIN)/pytest tests/unit

lint: $(VENV)/.synced ## ruff (Python), import-linter (the package's layers) and sqlfluff (dbt SQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	LIBCOOP_DBT_DATABASE=$(CURDIR)/.lint.duckdb $(BIN)/sqlfluff lint dbt_project/models dbt_project/snapshots dbt_project/tests dbt_project/analyses

format: $(VENV)/.synced ## format Python and SQL in place
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# No per-test timeout here: one property test runs all its examples (200 drops, about 20 s each), and
# pytest-timeout's 1200 s interrupted it midway, which Hypothesis then reported as a failure.
fuzz: $(VENV)/.synced ## property tests on many random drops (LIBCOOP_FUZZ_EXAMPLES=200 each), with how many passed
	LIBCOOP_HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/property -q -p no:cacheprovider --timeout=0 --hypothesis-show-statistics $(FUZZ_ARGS)

# BENCH_ARGS, e.g. "--sizes sample 10k 100k" (skip the 1M drop) or "--with-5m"; see benchmarks/run.py.
bench: $(VENV)/.synced ## a night's cost side by side (libcoop full / nothing changed / one changed, DuckDB, pandas, dlt), as ratios
	$(UV) sync --frozen --compile-bytecode --group bench
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# FAULTS_ARGS, e.g. "--kills 10" or "--disk-spare-mb 16"; see benchmarks/faults.py. Mounts a tmpfs and read-only binds: run as root.
faults: $(VENV)/.synced ## fault matrix: 50 SIGKILLs over every phase with readers polling, two runs at once, a full disk, read-only folders
	$(BIN)/python -m benchmarks.faults $(FAULTS_ARGS)

airflow: $(AIRFLOW_HOME)/airflow.db ## start a local Airflow, DAGs paused (UI on http://localhost:8080, or make airflow AIRFLOW_PORT=N); Ctrl-C stops it
	exec $(BIN)/python -m libcoop.local_airflow --port $(AIRFLOW_PORT)

DOOR_PORT ?= 8000
serve: $(VENV)/.synced ## start the coordinators' door on http://127.0.0.1:8000 (needs LIBCOOP_DOOR_SECRET_KEY; accounts: libcoop users add)
	exec $(BIN)/libcoop serve --port $(DOOR_PORT)

docs: $(VENV)/.synced ## regenerate dbt docs (warehouse/dbt_docs/); Data Docs are rebuilt by every run
	$(BIN)/libcoop docs

templates: $(VENV)/.synced ## regenerate raw/templates/ and the dbt seed contract_accepted_values from the contract
	$(BIN)/python -m libcoop.ingest.templates

dashboard: $(VENV)/.synced font ## rebuild the cooperation dashboard (warehouse/dashboard/) from the published warehouse
	$(BIN)/libcoop dashboard

rollback: $(VENV)/.synced ## put the build live before back (make rollback TO=<run id>: that build; see make builds)
	$(BIN)/libcoop rollback $(if $(TO),--to $(TO))

builds: $(VENV)/.synced ## list the published builds kept for rollback
	$(BIN)/libcoop builds

clean: ## remove the local Airflow home, builds and caches (keeps the published warehouse)
	rm -rf $(AIRFLOW_HOME) warehouse/.build warehouse/.dbt-target warehouse/.cache dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
