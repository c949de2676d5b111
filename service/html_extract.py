"""HTML in, the article's main text out (trafilatura): navigation, footers, comments, share bars dropped."""

from __future__ import annotations


def main_text(html: str) -> str:
    """Main text of a news page, paragraphs separated by newlines; "" when the page has no article text.

    HTML comments, scripts and styles never reach the text: trafilatura parses with lxml and drops them.
    """
    import trafilatura  # imported lazily: it is slow to import and only HTML input needs it

    text = trafilatura.extract(
        html,
        output_format="txt",
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        favor_precision=True,
        deduplicate=True,
    )
    if text:
        return str(text)
    # Short or unusual pages: trafilatura's baseline takes the body text without the precision filters.
    _tree, fallback, _length = trafilatura.baseline(html)
    return str(fallback or "")
