"""What the bot tells a user when it cannot post a summary: one short sentence per error, never silence."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from service.errors import SummarizerError
from service.problems import kind_of

USAGE = (
    "Paste the article after the command: `/incident <article text>`. "
    "To summarize a message already in a channel, use the message's *More actions* menu (⋯) → "
    "*Summarize incident*."
)
NO_MESSAGE_TEXT = "That message has no text to summarize."
APOLOGY = "Sorry, something went wrong while summarizing. The error has been logged."


def _again(retry_after: float | None) -> str:
    return f"try again in {math.ceil(retry_after)} s" if retry_after else "try again in a minute"


_TOO_SLOW = "The summarizer took too long; try again later."

# The message for each problem, by its slug (the end of the HTTP API's `type`): `problems.kind_of` finds the
# problem of an error here as it does for the HTTP API. Errors of other problems are quoted.
NOTICES: dict[str, Callable[[Any], str]] = {
    "empty-input": lambda error: "The article is empty.",
    "no-sentences": lambda error: "The article has no sentences to summarize.",
    "input-too-large": lambda error: f"The article is too long (limit {error.limit:,} characters).",
    "too-many-sentences": lambda error: f"The article is too long (limit {error.limit:,} sentences).",
    "upstream-rate-limited": lambda error: f"The summarizer is busy, {_again(error.retry_after)}.",
    "upstream-unavailable": lambda error: f"The summarizer is unavailable, {_again(error.retry_after)}.",
    "upstream-timeout": lambda error: _TOO_SLOW,
    "deadline-exceeded": lambda error: _TOO_SLOW,
    "upstream-rejected": lambda error: (
        "The model endpoint rejected the request; ask an administrator to check the configuration."
    ),
    "upstream-error": lambda error: "The summarizer could not reach the model; try again later.",
    "unrepairable-output": lambda error: (
        "The model's summary failed validation, so nothing was posted; try again later."
    ),
    "model-refused": lambda error: "The model declined to summarize this article.",
}


def error_message(error: SummarizerError) -> str:
    """The message for `error`, chosen by its problem."""
    notice = NOTICES.get(kind_of(error).slug)
    return notice(error) if notice else f"The article could not be summarized: {error.message}."


def cannot_post(slack_error: str) -> str:
    """When Slack refuses the summary itself (`slack_error` is Slack's error code)."""
    if slack_error in {"not_in_channel", "channel_not_found"}:
        return "I cannot post in this conversation; invite me (`/invite @Incident Summarizer`) and try again."
    return f"Slack refused the summary ({slack_error}); try again later."
