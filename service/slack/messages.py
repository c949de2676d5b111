"""What the bot tells a user, privately: how to use it, why nothing was posted, and what it is doing. One short
sentence per case, never silence.

Messages are Slack `mrkdwn`: anything meant literally that contains `&`, `<` or `>` is escaped
(`&lt;article text&gt;`), or Slack would read it as a link.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from service.errors import SummarizerError
from service.language import language_name
from service.problems import kind_of

USAGE = (
    "Paste the article after the command: `/incident &lt;article text&gt;`, or give a link to it: "
    "`/incident https://…`. To summarize a message already in a channel (its text, its attachments, its "
    "text snippets or its link), use the message's *More actions* menu (⋯) → *Summarize incident*."
)
NO_MESSAGE_TEXT = "That message has no text or link to summarize."
TOO_SHORT = (
    "That is too short to summarize: paste the whole article (at least two full sentences), or a link to it."
)
ONLY_A_LABEL = (
    "That is only a mention or a label, with no article text or link. Paste the article, or "
    "`/incident https://…` with a link to it."
)
SUMMARIZING_IN_THREAD = "Summarizing… I'll reply in this message's thread."
APOLOGY = "Sorry, something went wrong while summarizing. The error has been logged."


def summarizing(*, chars: int | None = None, url: str | None = None) -> str:
    """The acknowledgement of `/incident`, shown only to the user while the summary is written."""
    if url is not None:  # escaped: a `&` in a query string is Slack markup otherwise
        return (
            f"Fetching and summarizing {url.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}…"
        )
    return f"Summarizing the article ({chars or 0:,} characters)…"


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
    "unsupported-language": lambda error: (
        f"Nothing was posted: the article looks {language_name(error.language)}, and the built-in summarizer "
        "reads English only (it would get the facts wrong). An administrator can configure an LLM for "
        "other languages."
    ),
    "url-forbidden": lambda error: "That link points to an address the summarizer may not fetch.",
    "url-too-large": lambda error: f"That page is too large to fetch (limit {error.limit:,} bytes).",
    "url-fetch-failed": lambda error: (
        f"The linked page could not be fetched (HTTP {error.status_code})."
        if error.status_code
        else "The linked page could not be fetched (no answer, or not a web page)."
    ),
}


def error_message(error: SummarizerError) -> str:
    """The message for `error`, chosen by its problem."""
    notice = NOTICES.get(kind_of(error).slug)
    return notice(error) if notice else f"The article could not be summarized: {error.message}."


def is_direct_message(channel_id: str) -> bool:
    """A DM ("D…"); Slack's ids of group DMs start with "G" like old private channels, so only "D" is sure."""
    return channel_id.startswith("D")


def cannot_post(slack_error: str, channel_id: str = "") -> str:
    """When Slack refuses the summary itself (`slack_error` is Slack's error code)."""
    if slack_error == "is_archived":
        return "This channel is archived, so nothing can be posted in it."
    if slack_error in {"not_in_channel", "channel_not_found"}:
        if is_direct_message(channel_id):
            return (
                "I cannot post in a direct message I am not part of. Use `/incident` here instead (it answers "
                "in this conversation), or use the shortcut in a channel."
            )
        return "I cannot post in this conversation; invite me (`/invite @Incident Summarizer`) and try again."
    if slack_error == "ratelimited":
        return "Slack is rate-limiting me; try again in a minute."
    return f"Slack refused the summary ({slack_error}); try again later."
