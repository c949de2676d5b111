"""Settings: one pydantic-settings class, read from the environment (and an optional `.env`).

Unsafe or contradictory values fail at start-up with a message that names the variable, not at the
first request.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

EngineName = Literal["auto", "llm", "extractive"]
StructuredMode = Literal["json_schema", "json_schema_full", "json_object_schema", "json_object"]

_CACHE_SCHEMES = ("sqlite:///", "redis://", "rediss://", "memory://", "none")
_MIN_API_KEY_CHARS = 16
_MIN_VIEW_LINK_SECRET_CHARS = 32


def _env(*names: str) -> AliasChoices:
    """Accept the documented environment name and the field's own name (handy in tests)."""
    return AliasChoices(*names)


def split_deployment(entry: str) -> tuple[str | None, str]:
    """One `SUMMARIZER_FALLBACK_MODELS` entry as (base URL or None for the primary's endpoint, model)."""
    url, sep, model = entry.strip().rpartition("#")
    model = model.strip()
    if not model:
        raise ValueError(f"SUMMARIZER_FALLBACK_MODELS: empty model name in entry {entry!r}")
    if sep and not url.startswith(("http://", "https://")):
        raise ValueError(f"SUMMARIZER_FALLBACK_MODELS: {url!r} in entry {entry!r} is not an http(s) URL")
    if not sep and "://" in model:
        raise ValueError(f"SUMMARIZER_FALLBACK_MODELS: entry {entry!r} has a URL but no #MODEL")
    return (url or None), model


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    engine: EngineName = Field("auto", validation_alias=_env("SUMMARIZER_ENGINE", "engine"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY", "openai_api_key"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL", "openai_base_url"))
    model: str = Field("gpt-4o-mini", min_length=1, validation_alias=_env("SUMMARIZER_MODEL", "model"))
    structured_mode: StructuredMode = Field(
        "json_schema", validation_alias=_env("SUMMARIZER_STRUCTURED_MODE", "structured_mode")
    )
    max_output_tokens: int = Field(
        2048, ge=256, le=32768, validation_alias=_env("SUMMARIZER_MAX_TOKENS", "max_output_tokens")
    )
    timeout_s: float = Field(60.0, gt=0, le=600, validation_alias=_env("SUMMARIZER_TIMEOUT_S", "timeout_s"))
    deadline_s: float = Field(
        120.0, gt=0, le=1800, validation_alias=_env("SUMMARIZER_DEADLINE_S", "deadline_s")
    )
    max_retries: int = Field(3, ge=0, le=10, validation_alias=_env("SUMMARIZER_MAX_RETRIES", "max_retries"))
    max_repairs: int = Field(2, ge=0, le=5, validation_alias=_env("SUMMARIZER_MAX_REPAIRS", "max_repairs"))
    retry_after_cap_s: float = Field(
        30.0, gt=0, le=600, validation_alias=_env("SUMMARIZER_RETRY_AFTER_CAP_S", "retry_after_cap_s")
    )
    fallback: Literal["none", "extractive"] = Field(
        "none", validation_alias=_env("SUMMARIZER_FALLBACK", "fallback")
    )
    breaker_failures: int = Field(
        5, ge=1, le=1000, validation_alias=_env("SUMMARIZER_BREAKER_FAILURES", "breaker_failures")
    )
    breaker_cooldown_s: float = Field(
        30.0, gt=0, le=3600, validation_alias=_env("SUMMARIZER_BREAKER_COOLDOWN_S", "breaker_cooldown_s")
    )
    # deployments tried in order after the primary: `MODEL` (the primary's endpoint) or `URL#MODEL`
    fallback_models: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("SUMMARIZER_FALLBACK_MODELS", "fallback_models")
    )

    cache_url: str = Field("sqlite:///./data/cache.sqlite3", validation_alias=_env("CACHE_URL", "cache_url"))
    cache_ttl_s: int = Field(30 * 24 * 3600, gt=0, validation_alias=_env("CACHE_TTL_S", "cache_ttl_s"))
    degraded_ttl_s: int = Field(600, gt=0, validation_alias=_env("CACHE_DEGRADED_TTL_S", "degraded_ttl_s"))
    failure_ttl_s: int = Field(300, ge=0, validation_alias=_env("CACHE_FAILURE_TTL_S", "failure_ttl_s"))
    # Redis (CACHE_URL=redis://…) is optional: each call bounded, skipped while it fails (cache/redis_guard.py)
    redis_timeout_s: float = Field(
        0.5, gt=0, le=30, validation_alias=_env("CACHE_REDIS_TIMEOUT_S", "redis_timeout_s")
    )
    redis_breaker_failures: int = Field(
        3, ge=1, le=1000, validation_alias=_env("CACHE_REDIS_BREAKER_FAILURES", "redis_breaker_failures")
    )
    redis_breaker_cooldown_s: float = Field(
        15.0,
        gt=0,
        le=3600,
        validation_alias=_env("CACHE_REDIS_BREAKER_COOLDOWN_S", "redis_breaker_cooldown_s"),
    )
    # who may read a result: every key (`shared`, one computation per article) or the keys that asked (`key`)
    result_scope: Literal["shared", "key"] = Field(
        "shared", validation_alias=_env("RESULT_SCOPE", "result_scope")
    )
    # "MODEL=IN/OUT,…": US dollars per million input/output tokens, for `meta.cost_usd` (none by default)
    prices: Annotated[dict[str, tuple[float, float]], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("SUMMARIZER_PRICES", "prices")
    )
    # the Batch API's discount on its tokens (OpenAI: 50 %), applied to `meta.cost_usd` of `batch --upstream-batch`
    batch_discount: float = Field(
        0.5, ge=0, le=1, validation_alias=_env("SUMMARIZER_BATCH_DISCOUNT", "batch_discount")
    )

    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), validation_alias=_env("API_KEYS", "api_keys")
    )
    # the evidence page's links (docs/evidence.md): where the service is reached, and how its links are signed
    public_base_url: str | None = Field(None, validation_alias=_env("PUBLIC_BASE_URL", "public_base_url"))
    view_link_secret: SecretStr | None = Field(
        None, validation_alias=_env("VIEW_LINK_SECRET", "view_link_secret")
    )
    view_link_ttl_s: int = Field(
        7 * 24 * 3600, ge=60, le=366 * 24 * 3600, validation_alias=_env("VIEW_LINK_TTL_S", "view_link_ttl_s")
    )
    rate_limit_per_minute: int = Field(
        120, ge=0, validation_alias=_env("RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute")
    )
    rate_limit_burst: int = Field(20, ge=1, validation_alias=_env("RATE_LIMIT_BURST", "rate_limit_burst"))
    # `Cache-Control: no-cache` recomputes and overwrites: at most this many a minute per client (0: no limit)
    refresh_per_minute: int = Field(
        10, ge=0, validation_alias=_env("RATE_LIMIT_REFRESH_PER_MINUTE", "refresh_per_minute")
    )
    max_article_chars: int = Field(
        200_000, ge=1_000, le=5_000_000, validation_alias=_env("MAX_ARTICLE_CHARS", "max_article_chars")
    )
    max_sentences: int = Field(2_000, ge=10, validation_alias=_env("MAX_SENTENCES", "max_sentences"))
    max_body_bytes: int = Field(
        2_000_000, ge=10_000, validation_alias=_env("MAX_BODY_BYTES", "max_body_bytes")
    )
    body_timeout_s: float = Field(
        30.0, gt=0, le=600, validation_alias=_env("MAX_BODY_WAIT_S", "body_timeout_s")
    )

    # `{"url": …}` requests: the SSRF guard's allow-list (CIDRs or host names) and the fetch's limits
    url_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("URL_ALLOWLIST", "url_allowlist")
    )
    url_max_bytes: int = Field(
        3_000_000, ge=10_000, le=50_000_000, validation_alias=_env("URL_MAX_BYTES", "url_max_bytes")
    )
    url_timeout_s: float = Field(10.0, gt=0, le=120, validation_alias=_env("URL_TIMEOUT_S", "url_timeout_s"))
    url_max_redirects: int = Field(
        5, ge=0, le=20, validation_alias=_env("URL_MAX_REDIRECTS", "url_max_redirects")
    )

    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_api_url: str | None = Field(None, validation_alias=_env("SLACK_API_URL", "slack_api_url"))
    # link previews: summarize the pages of links shared in channels (`link_shared` → `chat.unfurl`)
    slack_unfurl: bool = Field(False, validation_alias=_env("SLACK_UNFURL", "slack_unfurl"))

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("LOG_LEVEL", "log_level")
    )
    workers: int = Field(1, ge=1, le=64, validation_alias=_env("WEB_CONCURRENCY", "workers"))

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_long_enough(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for key in keys:
            if len(key.get_secret_value()) < _MIN_API_KEY_CHARS:
                raise ValueError(f"API_KEYS: every key needs at least {_MIN_API_KEY_CHARS} characters")
        return keys

    @field_validator("url_allowlist", mode="before")
    @classmethod
    def _split_allowlist(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("url_allowlist")
    @classmethod
    def _valid_allowlist(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        from service.url_fetch import Allowlist

        Allowlist.parse(entries)  # a CIDR or a host name each, else a clear error at start-up
        return entries

    @field_validator("prices", mode="before")
    @classmethod
    def _parse_prices(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        prices: dict[str, tuple[float, float]] = {}
        for entry in filter(None, (part.strip() for part in value.split(","))):
            model, _, rates = entry.rpartition("=")
            given, _, taken = rates.partition("/")
            try:
                prices[model.strip()] = (float(given), float(taken))
            except ValueError:
                raise ValueError(
                    f"SUMMARIZER_PRICES: {entry!r} is not MODEL=IN/OUT (dollars per 1M tokens)"
                ) from None
            if not model.strip() or min(prices[model.strip()]) < 0:
                raise ValueError(f"SUMMARIZER_PRICES: {entry!r} is not MODEL=IN/OUT (dollars per 1M tokens)")
        return prices

    @field_validator("cache_url")
    @classmethod
    def _known_cache(cls, url: str) -> str:
        if not url.startswith(_CACHE_SCHEMES):
            raise ValueError(f"CACHE_URL must start with one of {', '.join(_CACHE_SCHEMES)}")
        return url

    @field_validator("fallback_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",")) if value.strip() else ()
        return value

    @field_validator("fallback_models")
    @classmethod
    def _valid_deployments(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            split_deployment(entry)
        return entries

    @field_validator("public_base_url")
    @classmethod
    def _http_public_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://")) or any(ch in url for ch in '?#"\\<> '):
            raise ValueError("PUBLIC_BASE_URL must be an http(s) URL without query or fragment")
        return url.rstrip("/")

    @field_validator("view_link_secret")
    @classmethod
    def _secret_long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value()) < _MIN_VIEW_LINK_SECRET_CHARS:
            raise ValueError(f"VIEW_LINK_SECRET needs at least {_MIN_VIEW_LINK_SECRET_CHARS} characters")
        return secret

    @field_validator("openai_base_url")
    @classmethod
    def _http_base_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("OPENAI_BASE_URL must be an http(s) URL")
        return url or None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.timeout_s > self.deadline_s:
            raise ValueError("SUMMARIZER_TIMEOUT_S must not exceed SUMMARIZER_DEADLINE_S")
        if self.engine == "llm" and self.openai_api_key is None and self.openai_base_url is None:
            raise ValueError("SUMMARIZER_ENGINE=llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
        if (self.slack_signing_secret is None) != (self.slack_bot_token is None):
            raise ValueError("SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN go together: set both or neither")
        if self.degraded_ttl_s > self.cache_ttl_s:
            raise ValueError("CACHE_DEGRADED_TTL_S must not exceed CACHE_TTL_S")
        if self.api_keys and self.public_base_url and self.view_link_secret is None:
            raise ValueError(
                "API_KEYS with PUBLIC_BASE_URL needs VIEW_LINK_SECRET (32+ characters): evidence links are "
                "signed with it, never with an API key"
            )
        if self.view_link_secret is not None and self.view_link_secret.get_secret_value() in (
            self.api_key_values()
        ):
            raise ValueError("VIEW_LINK_SECRET must not be one of the API_KEYS")
        if self.result_scope == "key" and not self.api_keys:
            raise ValueError("RESULT_SCOPE=key needs API_KEYS: results are scoped to the key that asked")
        return self

    @property
    def resolved_engine(self) -> Literal["llm", "extractive"]:
        """`auto` means the LLM when an endpoint is configured, else the built-in extractive engine."""
        if self.engine != "auto":
            return self.engine
        if self.openai_api_key is not None or self.openai_base_url is not None:
            return "llm"
        return "extractive"

    def api_key_values(self) -> tuple[str, ...]:
        return tuple(key.get_secret_value() for key in self.api_keys)
