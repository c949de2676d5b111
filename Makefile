# Common commands. Everything runs inside the project's virtualenv (.venv), created by `make install`.
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install test lint format typecheck serve record bench eval ci

install:
	python3 -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'

test:            ## the same command as the README and CI
	$(BIN)/pytest -q

lint:            ## ruff (lint + format check) and mypy
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/mypy

format:
	$(BIN)/ruff check --fix service tests bench
	$(BIN)/ruff format service tests bench

serve:           ## the API on http://127.0.0.1:8000 (docs at /docs)
	$(BIN)/incident-summarizer serve

record:          ## re-record the LLM cassettes against a real endpoint (OPENAI_BASE_URL / OPENAI_API_KEY)
	$(BIN)/pytest -q --record-mode=rewrite tests/test_llm_engine.py

bench:           ## every benchmark; each prints its figures and PASS/MISS lines (uses wrk when installed)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

eval:            ## quality metrics of the extractive engine on the samples and the gold set
	$(BIN)/incident-summarizer eval ../shared/samples/expected.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_articles.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_heldout.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_rules.jsonl

ci:
	bash .ci/run
