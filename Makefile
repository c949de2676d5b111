# Common commands. Everything runs inside the project's virtualenv (.venv), created by `make install`.
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install test lint format typecheck serve record bench eval eval-dev ci

install:
	python3 -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[dev]'

test:            ## the same command as the README and CI
	$(BIN)/pytest -q

lint:            ## ruff (lint + format check) and mypy on service and tests: what .ci/run checks before the tests
	$(BIN)/ruff check service tests bench
	$(BIN)/ruff format --check service tests bench
	$(BIN)/mypy

format:
	$(BIN)/ruff check --fix service tests bench
	$(BIN)/ruff format service tests bench

serve:           ## the API on http://127.0.0.1:8000 (docs at /docs)
	$(BIN)/incident-summarizer serve

# Cassette replay matches the request body: after a change to the prompts, the schema or the request the
# cassette tests fail until their cassettes are made again, in one of two ways (docs/llm.md, "Tests and
# cassettes"); each cassette's first lines say which way made it.
#  - authored: cassettes/author.py plays hand-written answers (cassettes/authored_answers/) through the fault
#    server and records that exchange. Needs nothing but the repository; `make record` always does this.
#  - recorded: with OPENAI_BASE_URL and/or OPENAI_API_KEY set, `make record` then records the valid-summary
#    cassettes from that endpoint (SUMMARIZER_MODEL, SUMMARIZER_STRUCTURED_MODE apply), over the authored ones:
#      OPENAI_API_KEY=sk-... CASSETTE_RECORDED_FROM="OpenAI gpt-4o-mini" make record
#    The pinned ones (repair, unrepairable) are kept unless RECORD_PINNED=1; the unrepairable one comes from
#    llama-cpp-python serving SmolLM2-135M (docs/llm.md has the commands):
#      RECORD_PINNED=1 OPENAI_BASE_URL=http://127.0.0.1:8080/v1 SUMMARIZER_TIMEOUT_S=400 \
#        SUMMARIZER_DEADLINE_S=1200 CASSETTE_RECORDED_FROM="llama-cpp-python 0.3.36 serving SmolLM2-135M-Instruct Q4_1" \
#        $(BIN)/pytest -q --record-mode=rewrite tests/test_llm_engine.py -k unrepairable
#    CASSETTE_RECORDED_FROM names what served the recording in the cassette's label.
record:          ## make the LLM cassettes again after a prompt/schema change: authored always, recorded when OPENAI_* is set
	$(PY) cassettes/author.py
	@if [ -n "$$OPENAI_BASE_URL$$OPENAI_API_KEY" ]; then \
	  $(BIN)/pytest -q --record-mode=rewrite tests/test_llm_engine.py -k cassette; \
	else \
	  echo "OPENAI_BASE_URL / OPENAI_API_KEY not set: authored cassettes only (see the comment above 'record:')"; \
	fi
	$(BIN)/pytest -q tests/test_llm_engine.py tests/test_cassettes.py -k cassette

bench:           ## every benchmark; each prints its figures and PASS/MISS lines (uses wrk when installed)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

eval:            ## quality metrics of the extractive engine on the samples and the gold set
	$(BIN)/incident-summarizer eval tests/data/samples/expected.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_articles.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_heldout.jsonl
	$(BIN)/incident-summarizer eval tests/data/gold_rules.jsonl

# The development set lives outside the repository (third-party texts: never copy them in); read in place.
DEV_SET ?= ../shared/dev/ucdp_validation_dev.jsonl
MISSES ?= 20
eval-dev:        ## the extractive engine on the UCDP-AEC dev set: metrics, then the MISSES worst-scored records
	$(PY) -m service.eval $(DEV_SET) --misses $(MISSES)

ci:
	bash .ci/run
