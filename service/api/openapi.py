"""The OpenAPI document as this deployment serves it: bearer security only when `API_KEYS` is set.

The `/v1` routes always depend on the bearer scheme (`service.api.deps`), so FastAPI always declares it; an
open deployment (no keys) would then advertise an authentication it does not ask for. `serve_openapi` makes
the app's document drop the scheme and every operation's `security` in that case.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def without_security(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with no security scheme and no operation asking for one (changed in place, returned)."""
    document.get("components", {}).pop("securitySchemes", None)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return document


def serve_openapi(app: FastAPI, *, keys_required: bool) -> None:
    """Make `app.openapi()` describe the authentication the app asks for (FastAPI's documented override)."""
    if keys_required:
        return
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = without_security(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
