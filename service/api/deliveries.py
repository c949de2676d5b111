"""`POST /v1/summaries/{id}/deliveries`: post a summary into a Slack channel as the bot.

A tool that calls the API summarizes first (`POST /v1/summaries`, which returns the `id`), then asks for the
summary to be posted; the answer carries the message's `ts`. The same summary can be posted to several
channels. The summary must still be in the cache (any `CACHE_URL` but `none`; with several replicas, a shared
one). Only with `SLACK_BOT_TOKEN` configured; Slack's refusals become problems (`delivery-*`, docs/slack.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import ResultScopeDep, SummarizerDep, rate_limit
from service.problems import openapi_responses
from service.slack.delivery import SlackDelivery

router = APIRouter(prefix="/v1", tags=["deliveries"], dependencies=[Depends(rate_limit)])


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack_channel: str = Field(
        pattern=r"^[CGD][A-Z0-9]{2,20}$",
        description="The Slack conversation's id (C… public, G… private, D… a DM with the bot). The bot must be "
        "a member of a private channel; public channels need no invitation (`chat:write.public`).",
    )


class DeliveryOut(BaseModel):
    summary_id: str = Field(description="The summary that was posted.")
    slack_channel: str = Field(description="Where it was posted.")
    ts: str = Field(
        description="The Slack message's `ts`: its id in the channel (for threads, edits, links)."
    )


async def get_delivery(request: Request) -> SlackDelivery:
    delivery: SlackDelivery = request.app.state.slack_delivery
    return delivery


@router.post(
    "/summaries/{summary_id}/deliveries",
    status_code=201,
    response_model=DeliveryOut,
    summary="Post a summary to a Slack channel",
    responses=openapi_responses(400, 401, 404, 408, 413, 422, 429, 502, 503),
)
async def deliver_summary(
    summary_id: str,
    delivery: DeliveryIn,
    request: Request,
    summarizer: SummarizerDep,
    scope: ResultScopeDep,
    slack: Annotated[SlackDelivery, Depends(get_delivery)],
) -> DeliveryOut:
    """Posts the cached summary `summary_id` into `slack_channel` as the bot, rendered as `?format=slack`
    renders it (with its evidence button when PUBLIC_BASE_URL is set), and returns the message's `ts`."""
    slack.require_configured()
    result = await summarizer.get(summary_id, scope=scope)
    result = request.app.state.view_links.attach(result, scope)
    ts = await slack.post(delivery.slack_channel, result)
    return DeliveryOut(summary_id=result.id, slack_channel=delivery.slack_channel, ts=ts)
