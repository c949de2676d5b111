"""The HTTP API of SPEC §4: summaries, renderings, cache control, problem responses, health."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.config import Settings
from service.errors import OutputError, UpstreamRateLimited, Violation
from tests.conftest import (
    PROBLEM_MEDIA_TYPE,
    AppClient,
    FakeEngine,
    assert_problem,
    gold_records,
    sample_text,
)

SYRIA = sample_text("syria_checkpoint_shootout")
KEY = "k" * 24


async def test_sample_end_to_end_with_the_default_engine(app_client: AppClient) -> None:
    """No key, no network: the extractive engine answers, citations name real non-boilerplate sentences,
    the second POST is cached, GET returns the same result."""
    never_cite = gold_records()[0]["gold"]["never_cite"]
    async with app_client(Settings(cache_url="memory://")) as client:
        first = await client.post("/v1/summaries", json={"text": SYRIA})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["meta"]["engine"] == "extractive" and body["meta"]["cached"] is False
        ids = {s["id"]: s["text"] for s in body["sentences"]}
        cited = [c for c in _citations(body["summary"])]
        assert cited and all(c in ids for c in cited)
        assert not any(phrase in ids[c] for c in cited for phrase in never_cite)
        second = await client.post("/v1/summaries", json={"text": SYRIA})
        assert second.json()["meta"]["cached"] is True
        assert second.json()["summary"] == body["summary"]
        fetched = await client.get(f"/v1/summaries/{body['id']}")
        assert fetched.status_code == 200 and fetched.json()["summary"] == body["summary"]
        assert first.headers["location"] == f"/v1/summaries/{body['id']}"


def _citations(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [c for k, v in node.items() for c in (v if k == "citations" else _citations(v))]
    if isinstance(node, list):
        return [c for item in node for c in _citations(item)]
    return []


async def test_no_cache_header_recomputes(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(engine=fake_engine) as client:
        await client.post("/v1/summaries", json={"text": SYRIA})
        again = await client.post(
            "/v1/summaries", json={"text": SYRIA}, headers={"Cache-Control": "no-cache"}
        )
    assert again.json()["meta"]["cached"] is False and fake_engine.calls == 2


@pytest.mark.parametrize(
    ("params", "headers", "media"),
    [
        ({"format": "markdown"}, {}, "text/markdown"),
        ({}, {"Accept": "text/markdown"}, "text/markdown"),
        ({"format": "slack"}, {}, "application/vnd.slack.blocks+json"),
        ({}, {"Accept": "application/vnd.slack.blocks+json"}, "application/vnd.slack.blocks+json"),
        ({}, {"Accept": "application/json"}, "application/json"),
        ({"format": "json"}, {"Accept": "text/markdown"}, "application/json"),
    ],
)
async def test_renderings(
    app_client: AppClient,
    fake_engine: FakeEngine,
    params: dict[str, str],
    headers: dict[str, str],
    media: str,
) -> None:
    async with app_client(engine=fake_engine) as client:
        created = await client.post("/v1/summaries", json={"text": SYRIA}, params=params, headers=headers)
        assert created.status_code == 200 and created.headers["content-type"].startswith(media)
        if "slack" in media:
            assert isinstance(created.json()["blocks"], list) and created.json()["text"]
        if media == "text/markdown":
            assert created.text.startswith("# ") and "[S1]" in created.text
        summary_id = created.headers["location"].rsplit("/", 1)[-1]
        fetched = await client.get(f"/v1/summaries/{summary_id}", params=params, headers=headers)
        assert fetched.headers["content-type"].startswith(media)


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"text": ""}, 422, "empty-input"),
        ({"text": "  \n\t "}, 422, "empty-input"),
        ({}, 422, "empty-input"),
        ({"text": "a", "html": "<p>a</p>"}, 422, "conflicting-input"),
        ({"text": "x" * 200_001}, 413, "input-too-large"),
        ({"text": "... --- !!!"}, 422, "no-sentences"),
        ({"text": 5}, 422, "invalid-request"),
        ({"text": "A clash.", "published_at": "yesterday"}, 422, "invalid-request"),
        ({"text": "A clash.", "colour": "red"}, 422, "invalid-request"),
    ],
)
async def test_bad_input_gets_a_problem(
    app_client: AppClient, fake_engine: FakeEngine, body: dict[str, Any], status: int, slug: str
) -> None:
    async with app_client(engine=fake_engine) as client:
        response = await client.post("/v1/summaries", json=body)
    assert_problem(response, status, slug)
    assert fake_engine.calls == 0


async def test_malformed_json_is_a_problem(app_client: AppClient) -> None:
    async with app_client() as client:
        response = await client.post(
            "/v1/summaries", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert_problem(response, 422, "invalid-request")


async def test_oversize_reports_the_limit(app_client: AppClient) -> None:
    async with app_client(
        Settings(engine="extractive", cache_url="memory://", max_article_chars=1000)
    ) as client:
        response = await client.post("/v1/summaries", json={"text": "x" * 1001})
    assert assert_problem(response, 413, "input-too-large")["limit"] == 1000


async def test_unknown_summary_is_404(app_client: AppClient) -> None:
    async with app_client() as client:
        assert_problem(await client.get("/v1/summaries/" + "0" * 32), 404, "not-found")
        assert_problem(await client.get("/v1/nothing-here"), 404, "not-found")


async def test_upstream_errors_map_to_problems_and_nothing_is_cached(app_client: AppClient) -> None:
    engine = FakeEngine(error=UpstreamRateLimited("rate limited", retry_after=7.2, attempts=4))
    async with app_client(engine=engine) as client:
        response = await client.post("/v1/summaries", json={"text": SYRIA})
        body = assert_problem(response, 503, "upstream-rate-limited")
        assert response.headers["retry-after"] == "8" and body["attempts"] == 4
        engine.error = OutputError(
            "bad", violations=[Violation("date.text", "date_text_not_in_citations", "x")]
        )
        body = assert_problem(
            await client.post("/v1/summaries", json={"text": SYRIA}), 502, "unrepairable-output"
        )
        assert body["violations"][0]["rule"] == "date_text_not_in_citations"
        assert engine.calls == 2  # nothing was cached in between


async def test_an_unexpected_exception_is_a_problem_not_a_bare_500(app_client: AppClient) -> None:
    engine = FakeEngine(error=RuntimeError("boom"))  # type: ignore[arg-type]
    async with app_client(engine=engine, raise_app_exceptions=False) as client:
        response = await client.post("/v1/summaries", json={"text": SYRIA})
    body = assert_problem(response, 500, "internal-error")
    assert "boom" not in json.dumps(body)


async def test_api_keys_guard_v1_but_not_health(app_client: AppClient, fake_engine: FakeEngine) -> None:
    settings = Settings(engine="extractive", cache_url="memory://", api_keys=KEY)
    async with app_client(settings, engine=fake_engine) as client:
        missing = await client.post("/v1/summaries", json={"text": SYRIA})
        assert (
            assert_problem(missing, 401, "unauthorized") and missing.headers["www-authenticate"] == "Bearer"
        )
        wrong = await client.post(
            "/v1/summaries", json={"text": SYRIA}, headers={"Authorization": "Bearer nope"}
        )
        assert_problem(wrong, 401, "unauthorized")
        ok = await client.post(
            "/v1/summaries", json={"text": SYRIA}, headers={"Authorization": f"Bearer {KEY}"}
        )
        assert ok.status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    assert fake_engine.calls == 1


async def test_health_and_readiness(app_client: AppClient, fake_engine: FakeEngine) -> None:
    async with app_client(engine=fake_engine) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"cache": "ok", "engine": "ok"}
        fake_engine.ready_error = RuntimeError("no upstream")
        body = assert_problem(await client.get("/readyz"), 503, "not-ready")
        assert body["checks"]["engine"].startswith("failed")


async def test_openapi_documents_every_field(app_client: AppClient) -> None:
    async with app_client() as client:
        spec = (await client.get("/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 200
    schemas = spec["components"]["schemas"]
    for name in ("ArticleIn", "Meta", "SentenceOut"):
        for field, prop in schemas[name]["properties"].items():
            assert prop.get("description"), f"{name}.{field} has no description"
    post = spec["paths"]["/v1/summaries"]["post"]
    assert {"200", "413", "422", "502", "503", "504"} <= set(post["responses"])
    assert PROBLEM_MEDIA_TYPE in post["responses"]["503"]["content"]


@pytest.mark.parametrize(
    "text",
    [
        "Gunmen killed ſeveral ſoldiers and 5 civilians near Idlib on Monday, officials ſaid.",
        "İSLAMİC STATE fighters attacked a checkpoint near Kirkuk; ſeveral police were wounded, the KELVİN said.",
        "Two ſoldiers of the Iſlamic State were killed near Raqqa on Friday. ſeveral militants fled.",
    ],
)
async def test_letters_that_case_fold_oddly_never_crash_the_extractive_engine(
    app_client: AppClient, text: str
) -> None:
    """ſ, ı, İ and the Kelvin sign match ASCII letters case-insensitively; every look-up must fold them too."""
    async with app_client() as client:
        response = await client.post("/v1/summaries", json={"text": text})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["engine"] == "extractive"
