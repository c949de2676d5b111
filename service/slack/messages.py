"""What the bot tells a user when it cannot post a summary: one short sentence per error, never silence."""

from __future__ import annotations

import math
from functools import singledispatch

from service.errors import (
    EmptyInput,
    InputTooLarge,
    NoSentences,
    OutputError,
    Refusal,
    SummarizerError,
    TooManySentences,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

USAGE = (
    "Paste the article after the command: `/incident <article text>`. "
    "To summarize a message already in a channel, use the message's *More actions* menu (⋯) → "
    "*Summarize incident*."
)
NO_MESSAGE_TEXT = "That message has no text to summarize."
APOLOGY = "Sorry, something went wrong while summarizing. The error has been logged."


def _again(retry_after: float | None) -> str:
    return f"try again in {math.ceil(retry_after)} s" if retry_after else "try again in a minute"


@singledispatch
def error_message(error: SummarizerError) -> str:
    """The message for `error`, chosen by its most specific class."""
    return f"The article could not be summarized: {error.message}."


@error_message.register
def _(error: EmptyInput) -> str:
    return "The article is empty."


@error_message.register
def _(error: NoSentences) -> str:
    return "The article has no sentences to summarize."


@error_message.register
def _(error: InputTooLarge) -> str:
    return f"The article is too long (limit {error.limit:,} characters)."


@error_message.register
def _(error: TooManySentences) -> str:
    return f"The article is too long (limit {error.limit:,} sentences)."


@error_message.register
def _(error: UpstreamRateLimited) -> str:
    return f"The summarizer is busy, {_again(error.retry_after)}."


@error_message.register
def _(error: UpstreamUnavailable) -> str:
    return f"The summarizer is unavailable, {_again(error.retry_after)}."


@error_message.register
def _(error: UpstreamTimeout) -> str:
    return "The summarizer took too long; try again later."


@error_message.register
def _(error: UpstreamRejected) -> str:
    return "The model endpoint rejected the request; ask an administrator to check the configuration."


@error_message.register
def _(error: UpstreamError) -> str:
    return "The summarizer could not reach the model; try again later."


@error_message.register
def _(error: OutputError) -> str:
    return "The model's summary failed validation, so nothing was posted; try again later."


@error_message.register
def _(error: Refusal) -> str:
    return "The model declined to summarize this article."


def cannot_post(slack_error: str) -> str:
    """When Slack refuses the summary itself (`slack_error` is Slack's error code)."""
    if slack_error in {"not_in_channel", "channel_not_found"}:
        return "I cannot post in this conversation; invite me (`/invite @Incident Summarizer`) and try again."
    return f"Slack refused the summary ({slack_error}); try again later."
