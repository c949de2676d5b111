"""What a Slack request asks to summarize: article text, a linked page, or nothing worth a public post.

The guard runs before anything is posted in a channel. `help` (or nothing) gets the usage; a text with fewer
than `MIN_SENTENCES` real sentences is not an article: when it carries an http(s) link the linked page is
summarized instead (`/incident <https://…>`, a message whose only content is a link, its label or its unfurl),
otherwise the user is told privately. The shortcut reads a message's own text, the text of its attachments
(a bot's or an RSS feed's article) and its text snippets; link previews (unfurls) are not article text, only
their links are used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.article import split_sentences
from service.slack import messages
from service.text.sentences import normalise

# `<https://example.com|label>`, `<@U123>`, `<#C123|general>`, `<!here>`: Slack's markup in incoming text.
_SLACK_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_LINK = re.compile(r"<(https?://[^<>|\s]+)(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"https?://\S+")
_HELP = {"help", "-h", "--help", "?", "usage"}

MIN_SENTENCES = 2  # an article has at least this many real sentences
MIN_WORDS = 4  # a real sentence has at least this many words
_COUNTED_CHARS = (
    20_000  # enough text to find MIN_SENTENCES; the guard stays cheap on a 200,000-character paste
)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain_text(slack_text: str) -> str:
    """The text a user typed, from Slack's wire format: links and mentions become their labels (or their
    targets) and `&amp;`, `&lt;`, `&gt;` the characters they stand for."""
    return unescape(_SLACK_MARKUP.sub(lambda m: m.group(2) or m.group(1), slack_text))


def links(slack_text: str) -> list[str]:
    """The http(s) links in Slack's markup (`<https://…|label>`), then those typed bare, each once."""
    marked = [unescape(m.group(1)) for m in _LINK.finditer(slack_text)]
    bare = [
        m.group(0).rstrip(".,;:!?)") for m in _BARE_URL.finditer(unescape(_SLACK_MARKUP.sub(" ", slack_text)))
    ]
    return list(dict.fromkeys([*marked, *bare]))


def real_sentences(text: str) -> int:
    """How many sentences of `text` have at least `MIN_WORDS` words (links not counted as words)."""
    sample = _BARE_URL.sub(" ", normalise(text[:_COUNTED_CHARS]))
    return sum(1 for s in split_sentences(sample) if len(re.findall(r"\w+", s.text)) >= MIN_WORDS)


@dataclass(frozen=True, slots=True)
class Wanted:
    """Exactly one of: the article `text`, the `url` of the page to summarize, or the `notice` that tells the
    user (privately) why nothing will be summarized."""

    text: str | None = None
    url: str | None = None
    notice: str | None = None


def _choose(text: str, urls: Sequence[str], *, empty: str) -> Wanted:
    if real_sentences(text) >= MIN_SENTENCES:
        return Wanted(text=text)
    if urls:
        return Wanted(url=urls[0])
    if not re.search(r"\w", _SLACK_MARKUP.sub(" ", text)):
        return Wanted(notice=empty)
    return Wanted(notice=messages.TOO_SHORT)


def from_command(slack_text: str) -> Wanted:
    """What `/incident <text>` asks for."""
    text = plain_text(slack_text).strip()
    if not text or text.lower() in _HELP:
        return Wanted(notice=messages.USAGE)
    bare_text = _SLACK_MARKUP.sub(" ", slack_text)
    if not re.search(r"\w", unescape(bare_text)) and not links(slack_text):
        return Wanted(notice=messages.ONLY_A_LABEL)  # a mention or a channel, nothing to read or fetch
    return _choose(text, links(slack_text), empty=messages.ONLY_A_LABEL)


def _is_unfurl(attachment: Mapping[str, Any]) -> bool:
    return bool(
        attachment.get("from_url") or attachment.get("original_url") or attachment.get("is_app_unfurl")
    )


def _attachment_links(attachments: Iterable[Mapping[str, Any]]) -> list[str]:
    found: list[str] = []
    for attachment in attachments:
        for key in ("from_url", "original_url", "title_link"):
            value = attachment.get(key)
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                found.append(value)
    return found


def from_message(message: Mapping[str, Any], snippets: Sequence[str] = ()) -> Wanted:
    """What the shortcut on `message` asks for: its text, its attachments' text and its `snippets` (the text
    of its snippet files) as the article, or else the first link it carries."""
    slack_text = str(message.get("text") or "")
    attachments = [a for a in message.get("attachments") or () if isinstance(a, Mapping)]
    parts = [plain_text(slack_text).strip()]
    for attachment in attachments:
        if not _is_unfurl(attachment):
            parts += [
                plain_text(str(attachment.get(key) or "")).strip() for key in ("pretext", "title", "text")
            ]
    parts += [snippet.strip() for snippet in snippets]
    text = "\n\n".join(part for part in parts if part)
    urls = list(dict.fromkeys([*links(slack_text), *_attachment_links(attachments)]))
    return _choose(text, urls, empty=messages.NO_MESSAGE_TEXT)


def snippet_files(message: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The message's text snippets (files created as snippets, or plain-text files)."""
    files = [f for f in message.get("files") or () if isinstance(f, Mapping)]
    return [f for f in files if f.get("mode") == "snippet" or f.get("filetype") in ("text", "txt")]
