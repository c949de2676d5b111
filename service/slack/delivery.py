"""Posting to Slack as the bot: the one Web API client (with slack_sdk's rate-limit retry handler), and the
delivery of a summary to a channel that the HTTP API asks for (`POST /v1/summaries/{id}/deliveries`).

slack_sdk's `AsyncRateLimitErrorRetryHandler` waits as Slack's `Retry-After` says and tries again (twice),
so a `ratelimited` answer does not fail at once. It is the one retry the Slack client makes; the model's
calls keep their own policy (tenacity, `service/upstream.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from service.config import Settings
from service.errors import DeliveryError, DeliveryNotConfigured, DeliveryRateLimited, DeliveryRefused
from service.render import slack_blocks
from service.result import SummaryResult

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 2
# Slack's answers that mean "not this channel": the caller must pick another (or invite the bot)
_REFUSED = {"channel_not_found", "not_in_channel", "is_archived", "invalid_channel", "restricted_action"}


def _api_url(configured: str | None) -> str:
    url = configured or AsyncWebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def build_web_client(settings: Settings) -> AsyncWebClient | None:
    """The bot's Web API client, or None without `SLACK_BOT_TOKEN`. No network at construction."""
    if settings.slack_bot_token is None:
        return None
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=_api_url(settings.slack_api_url)
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def slack_error_code(error: SlackApiError) -> str:
    data: Any = error.response.data if error.response is not None else None
    code = data.get("error") if isinstance(data, dict) else None
    return str(code or "unknown_error")


class SlackDelivery:
    """Posts a rendered summary into a channel as the bot and returns the message's `ts`."""

    def __init__(self, client: AsyncWebClient | None) -> None:
        self._client = client

    def require_configured(self) -> None:
        if self._client is None:
            raise DeliveryNotConfigured(
                "delivery to Slack needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET); this service has neither",
                slack_error="not_configured",
            )

    async def post(self, channel: str, result: SummaryResult) -> str:
        self.require_configured()
        assert self._client is not None
        message = slack_blocks.render(result)
        try:
            response = await self._client.chat_postMessage(
                channel=channel, unfurl_links=False, unfurl_media=False, **message
            )
        except SlackApiError as error:
            code = slack_error_code(error)
            log.warning("slack: delivering summary %s to %s failed: %s", result.id, channel, code)
            if code in _REFUSED:
                raise DeliveryRefused(f"Slack refused channel {channel}: {code}", slack_error=code) from None
            if code == "ratelimited":
                raise DeliveryRateLimited(
                    "Slack kept rate-limiting the bot", slack_error=code, retry_after=_retry_after(error)
                ) from None
            raise DeliveryError(f"Slack refused the post: {code}", slack_error=code) from None
        return str(response["ts"])


def _retry_after(error: SlackApiError) -> float | None:
    headers: Any = error.response.headers if error.response is not None else {}
    value = next((v for k, v in dict(headers).items() if k.lower() == "retry-after"), None)
    value = value[0] if isinstance(value, list) and value else value
    return float(str(value)) if str(value or "").isdigit() else None
