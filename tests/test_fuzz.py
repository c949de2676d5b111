"""Property-based fuzzing of the HTTP API against its own OpenAPI document (schemathesis).

Every operation gets generated requests — valid and invalid bodies, parameters and headers — and every answer
must be documented: no 5xx, a documented status and media type, a body that matches the documented schema.
Bounded to stay well under a minute: few examples per operation, the built-in extractive engine, the memory
cache. Run twice: with API keys set (the guarded path, the document declares bearer auth) and with none (an
open API, whose document declares no security: schemathesis checks that too).

One check is left out, on purpose: `positive_data_acceptance` (a schema-valid request must be accepted). A
schema-valid article can still be refused for its content: empty or only whitespace (`empty-input`), nothing
but punctuation (`no-sentences`), more sentences than `MAX_SENTENCES`: rules of SPEC §4 that a JSON schema
cannot state. Every other default check runs.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance
from schemathesis.openapi import from_asgi

from service.config import Settings
from service.engines.extractive import ExtractiveEngine
from service.main import create_app

KEY = "fuzz-key-" + "0123456789abcdef"


def fuzzed_settings(*, keyed: bool = True) -> Settings:
    """Every field that changes what the API answers is set here: the schema is loaded at import, before
    the autouse fixture clears the environment."""
    return Settings(
        _env_file=None,
        engine="extractive",
        openai_api_key=None,
        openai_base_url=None,
        cache_url="memory://",
        api_keys=KEY if keyed else "",
        rate_limit_per_minute=0,  # the fuzzer's pace is not what a rate limit is about
        max_article_chars=20_000,
        max_body_bytes=100_000,
        slack_signing_secret=None,
        slack_bot_token=None,
    )


# Loaded at import, as schemathesis parametrizes at collection (its lazy `from_fixture` does not work with
# pytest 9); each test still gets an app of its own.
schema = from_asgi("/openapi.json", create_app(fuzzed_settings()))
open_schema = from_asgi("/openapi.json", create_app(fuzzed_settings(keyed=False)))


@pytest.fixture
def app(extractive_engine: ExtractiveEngine) -> FastAPI:
    """A new app of the fuzzed settings (the extractive engine); its data was loaded once for the session."""
    return create_app(fuzzed_settings())


@pytest.fixture
def open_app(extractive_engine: ExtractiveEngine) -> FastAPI:
    """The same without API keys."""
    return create_app(fuzzed_settings(keyed=False))


FUZZ_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
    derandomize=True,  # the same examples on every run: CI on a fresh machine sees what was seen here
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_is_documented(case: Case, app: FastAPI) -> None:
    # Every default check but one (see the module's docstring).
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {KEY}"},
        excluded_checks=[positive_data_acceptance],
    )


@open_schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_of_an_open_api_is_documented(case: Case, open_app: FastAPI) -> None:
    case.call_and_validate(app=open_app, excluded_checks=[positive_data_acceptance])
