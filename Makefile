# Everything a fresh machine needs comes from pyproject.toml and requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DATABASE ?= sqlite:///phonebook.db

BENCH_ARGS ?=

.PHONY: install run test lint format lock clean bench

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/phonebook --database $(DATABASE) migrate
	$(BIN)/phonebook --database $(DATABASE) demo --base-url http://$(HOST):$(PORT)
	$(BIN)/phonebook --database $(DATABASE) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: install lint
	$(BIN)/pytest

# Phonebook against a bare ASGI floor with wrk; see docs/performance.md.
# e.g. make bench BENCH_ARGS="--sizes 10000 --seconds 3 --rounds 1" or "--backend postgresql --workers 2"
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Regenerates the lock file from pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
