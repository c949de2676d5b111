"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.api.deps import SummarizerDep
from service.metrics import CONTENT_TYPE, Metrics
from service.problems import NOT_READY, openapi_responses, problem_response

router = APIRouter(tags=["operations"])
log = logging.getLogger("service.health")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The cache and the engine can serve", responses=openapi_responses(503))
async def readyz(request: Request, summarizer: SummarizerDep) -> Response:
    checks: dict[str, str] = {}
    for name, check in (("cache", summarizer.cache.ping), ("engine", summarizer.engine.check_ready)):
        try:
            await check()
            checks[name] = "ok"
        except Exception as e:  # readiness reports every failure instead of raising it
            log.warning("readiness check %s failed: %s", name, e)
            checks[name] = f"failed: {type(e).__name__}"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(NOT_READY, "a dependency cannot serve", request, checks=checks)


@router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)
