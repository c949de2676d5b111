"""Operations: liveness, readiness and Prometheus metrics.

Readiness: only the engine decides. A replica whose cache fails still serves (every request computes; rate
limits fall back to this process), so `/readyz` reports the cache as `degraded` and stays 200: an outage of a
shared cache must not make an orchestrator pull every replica at once. An engine that cannot serve is 503.
A language check whose model could not load (`service.language`) is reported as `off`, also 200 `degraded`.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.api.deps import SummarizerDep
from service.cache.base import failure_log_level
from service.metrics import CONTENT_TYPE, Metrics
from service.problems import NOT_READY, openapi_responses, problem_response

router = APIRouter(tags=["operations"])
log = logging.getLogger("service.health")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="The engine can serve (the cache may be degraded)", responses=openapi_responses(503)
)
async def readyz(request: Request, summarizer: SummarizerDep) -> Response:
    checks: dict[str, str] = {}
    try:
        await summarizer.cache.ping()
        checks["cache"] = "ok"
    except Exception as e:  # the replica still serves: it computes instead
        log.log(failure_log_level(e), "readiness: the cache is degraded: %s", type(e).__name__)
        checks["cache"] = f"degraded: {type(e).__name__}"
    try:
        await summarizer.engine.check_ready()
        checks["engine"] = "ok"
    except Exception as e:  # readiness reports the failure instead of raising it
        log.warning("readiness check engine failed: %s", e)
        checks["engine"] = f"failed: {type(e).__name__}"
        return problem_response(NOT_READY, "the engine cannot serve", request, checks=checks)
    languages = summarizer.languages
    if languages is not None and languages.detector.unavailable is not None:
        checks["language_check"] = f"off: {languages.detector.unavailable}"  # logged when it failed
    status = "ready" if checks["cache"] == "ok" and "language_check" not in checks else "degraded"
    return JSONResponse({"status": status, "checks": checks})


@router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)
