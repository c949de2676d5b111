"""One result, three renderings: `?format=json|markdown|slack`, or the Accept header."""

from __future__ import annotations

from typing import Literal

from fastapi import Response
from fastapi.responses import JSONResponse

from service.render import markdown
from service.result import SummaryResult

Format = Literal["json", "markdown", "slack"]

MARKDOWN_TYPE = "text/markdown"
SLACK_TYPE = "application/vnd.slack.blocks+json"
_BY_MEDIA_TYPE: dict[str, Format] = {
    "application/json": "json",
    "application/*": "json",
    "*/*": "json",
    MARKDOWN_TYPE: "markdown",
    "text/*": "markdown",
    SLACK_TYPE: "slack",
}


def negotiate(requested: Format | None, accept: str | None) -> Format:
    """The explicit `format` wins; otherwise the Accept entry with the highest q we can serve; else JSON."""
    if requested is not None:
        return requested
    best: tuple[float, Format] | None = None
    for position, entry in enumerate((accept or "").split(",")):
        media, *params = (part.strip() for part in entry.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        fmt = _BY_MEDIA_TYPE.get(media.lower())
        if fmt is not None and q > 0 and (best is None or q > best[0]):
            best = (q - position * 1e-6, fmt)
    return best[1] if best else "json"


def render(result: SummaryResult, fmt: Format, *, headers: dict[str, str] | None = None) -> Response:
    """The response for `fmt`."""
    if fmt == "markdown":
        return Response(
            markdown.render(result), media_type=f"{MARKDOWN_TYPE}; charset=utf-8", headers=headers
        )
    if fmt == "slack":
        from service.render import slack_blocks

        return JSONResponse(slack_blocks.render(result), media_type=SLACK_TYPE, headers=headers)
    return Response(result.model_dump_json(), media_type="application/json", headers=headers)


def openapi_content() -> dict[str, object]:
    """The 200 response's alternative media types, for the OpenAPI document."""
    return {
        MARKDOWN_TYPE: {"schema": {"type": "string"}},
        SLACK_TYPE: {
            "schema": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "blocks": {"type": "array"}},
            }
        },
    }
