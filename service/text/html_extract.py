"""HTML in, the article's main text out (trafilatura): navigation, footers, comments, share bars dropped; and
the publication date the page's markup states (htmldate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

# What a reader never sees is never article text: hidden elements go before extraction.
_INVISIBLE = (
    "//template | //*[@hidden] | //*[@aria-hidden='true'] | //script | //style | //noscript"
    " | //*[contains(translate(@style, ' ', ''), 'display:none')]"
    " | //*[contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)


def _visible_tree(html: str) -> Any:
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except Exception:  # lxml refuses some inputs (e.g. empty documents): extract from the raw string
        return html
    for element in tree.xpath(_INVISIBLE):
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
    return tree


def main_text(html: str) -> str:
    """Main text of a news page, paragraphs separated by newlines; "" when the page has no article text.

    HTML comments, scripts, styles and hidden elements never reach the text. Extraction is deterministic: no
    cross-document deduplication, so the same page always gives the same text (and the same cache key).
    """
    import trafilatura  # imported lazily: it is slow to import and only HTML input needs it

    document = _visible_tree(html)
    text = trafilatura.extract(
        document,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        favor_precision=True,
        deduplicate=False,
    )
    if text:
        return str(text)
    # Short or unusual pages: trafilatura's baseline takes the body text without the precision filters.
    _tree, fallback, _length = trafilatura.baseline(document)
    return str(fallback or "")


def published_date(html: str) -> date | None:
    """The publication date the page's markup states: meta tags (`article:published_time`, `date`, …),
    JSON-LD `datePublished`, `<time>` elements, by htmldate's fast search, which never guesses from the text.
    None when the markup states none, or states a day after today."""
    import htmldate

    found = htmldate.find_date(html, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    return date.fromisoformat(found) if found else None


@dataclass(frozen=True, slots=True)
class Page:
    """What a page gives the summary: its main text and the publication date its markup states."""

    text: str
    published: date | None = None


def read_page(html: str) -> Page:
    """An HTML page's main text (`main_text`) and publication date (`published_date`)."""
    return Page(main_text(html), published_date(html))
