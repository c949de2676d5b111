"""The baseline of the cache-hit benchmark: a bare FastAPI endpoint that parses the same body (the same
`ArticleIn` model) and returns the same bytes as a cached `POST /v1/summaries`, read from `BENCH_RESPONSE_FILE`.

    uvicorn --factory bare_app:create_app
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response

from service.article import ArticleIn


def create_app() -> FastAPI:
    payload = Path(os.environ["BENCH_RESPONSE_FILE"]).read_bytes()
    app = FastAPI()

    @app.post("/v1/summaries")
    async def summaries(article: ArticleIn) -> Response:
        return Response(payload, media_type="application/json")

    return app
