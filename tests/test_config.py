"""Settings: SPEC §8 defaults, environment names, and fail-fast on unsafe values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.config import Settings


def test_defaults_match_the_spec() -> None:
    s = Settings()
    assert (s.engine, s.model, s.structured_mode) == ("auto", "gpt-4o-mini", "json_schema")
    assert (s.timeout_s, s.deadline_s, s.max_retries, s.max_repairs) == (60, 120, 3, 2)
    assert (s.fallback, s.cache_url, s.cache_ttl_s) == (
        "none",
        "sqlite:///./data/cache.sqlite3",
        30 * 24 * 3600,
    )
    assert s.api_keys == () and s.max_article_chars == 200_000
    assert s.resolved_engine == "extractive"


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZER_ENGINE", "llm")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("SUMMARIZER_MODEL", "smollm2")
    monkeypatch.setenv("SUMMARIZER_STRUCTURED_MODE", "json_object_schema")
    monkeypatch.setenv("API_KEYS", "k" * 16 + ", " + "q" * 20)
    monkeypatch.setenv("CACHE_URL", "memory://")
    s = Settings()
    assert (s.resolved_engine, s.model, s.structured_mode, s.cache_url) == (
        "llm",
        "smollm2",
        "json_object_schema",
        "memory://",
    )
    assert s.api_key_values() == ("k" * 16, "q" * 20)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUMMARIZER_TIMEOUT_S": "200", "SUMMARIZER_DEADLINE_S": "100"}, "SUMMARIZER_TIMEOUT_S"),
        ({"SUMMARIZER_ENGINE": "llm"}, "OPENAI_API_KEY"),
        ({"API_KEYS": "short"}, "API_KEYS"),
        ({"CACHE_URL": "mysql://x"}, "CACHE_URL"),
        ({"OPENAI_BASE_URL": "ftp://x"}, "OPENAI_BASE_URL"),
        ({"SUMMARIZER_MAX_RETRIES": "-1"}, "SUMMARIZER_MAX_RETRIES"),
        ({"SLACK_SIGNING_SECRET": "s" * 32}, "SLACK_BOT_TOKEN"),
        ({"SUMMARIZER_STRUCTURED_MODE": "grammar"}, "SUMMARIZER_STRUCTURED_MODE"),
    ],
)
def test_unsafe_values_fail_fast(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], needle: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert needle in str(info.value)


def test_auto_picks_llm_when_a_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    s = Settings()
    assert s.resolved_engine == "llm"
    assert "sk-test" not in repr(s)
