"""Web boilerplate that is not the article: lines that must never become citable sentences.

Rules are whole-line patterns over whitespace-collapsed lines, so that an article sentence that merely
mentions a newsletter or a comment is kept.
"""

from __future__ import annotations

import re

_SHARE_WORDS = (
    r"share this (?:article|story|post|page)|share|share this|share on|tweet|print|email|e-mail|whatsapp|telegram|facebook|twitter|x|linkedin|"
    r"reddit|pinterest|copy link|messenger|viber|vk|pocket|tumblr"
)

_LINE_PATTERNS = (
    # newsletters and sign-ups
    r"subscribe( now)?( to (our|the) newsletter)?\.?",
    r"sign up( here)?\b.*\b(newsletter|inbox|updates|news)\b.*",
    r"(get|receive) (the latest|our) .{0,60}(newsletter|inbox)\.?",
    r"(enter your e-?mail|your e-?mail address).{0,60}",
    # comment widgets
    r"notify of",
    r"inline feedbacks?",
    r"view all comments",
    r"would love your thoughts.*",
    r"\d+ comments?",
    r"(leave|post|add|write) a (comment|reply)\.?",
    r"(log ?in|sign in) to (comment|reply)\.?",
    r"oldest|newest|most voted",
    r"comments? (are )?closed\.?",
    # navigation
    r"back to top( button)?",
    r"(skip|jump) to (main )?content",
    r"(home|news)\s*[›»>/|].{0,80}",
    r"(previous|next) (article|post|story)\b.{0,100}",
    r"(related|read more|read also|see also|recommended|you may also like|more from|most read|trending"
    r"|popular)( (articles?|posts?|stories|news))?:?",
    r"(tags?|filed under|categories|topics)\s*:.{0,200}",
    # share bars
    rf"((\d+\s+)?({_SHARE_WORDS})[\s:|,·•]*)+",
    # ads, cookies, legal
    r"advertisements?|sponsored( content)?|ad",
    r"(we use cookies|this (web)?site uses cookies|accept (all )?cookies|cookie (settings|policy)).*",
    r"(©|\(c\)|copyright)\s.{0,200}",
    r".{0,120}all rights reserved\.?",
    r"(privacy policy|terms of (use|service)|contact us|about us)([\s|·•]+.{0,40})*",
)

_BOILERPLATE = re.compile("|".join(f"(?:{p})" for p in _LINE_PATTERNS), re.IGNORECASE)

# Breadcrumbs scraped without separators: "Military DevelopmentsSyria" — short, no sentence punctuation,
# and a word glued to the next one (three or more lower-case letters, then an upper-case one).
_GLUED = re.compile(r"[a-z]{3,}[A-Z][a-z]")
_SENTENCE_PUNCT = re.compile(r"[.!?:;,\"“”]")


_BULLET = re.compile(r"^(?:[-*•·▪►»|]\s*)+")


def is_boilerplate(line: str) -> bool:
    """True when a whitespace-collapsed, stripped line is web chrome rather than article text.

    A list bullet in front ("- Share on Facebook", as HTML extraction renders a share list) changes nothing."""
    line = _BULLET.sub("", line)
    if _BOILERPLATE.fullmatch(line):
        return True
    return len(line) <= 60 and bool(_GLUED.search(line)) and not _SENTENCE_PUNCT.search(line)
