"""Web boilerplate that is not the article: lines that must never become citable sentences.

Rules are whole-line patterns over whitespace-collapsed lines, so that an article sentence that merely
mentions a newsletter or a comment is kept.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from service.text.fold import fold_case, folded_pattern


class _Anywhere(NamedTuple):
    """A pattern that can start anywhere in the line (it begins with `.{m,n}`), and words of which every line
    it matches holds one, once folded (`_fold`): the pattern is tried only on lines that hold one of them.

    Such a pattern costs up to a hundred times what one of the others costs: they fail on a line's first
    characters, it is tried at every place its `.{m,n}` can stop. The words are cut out of the pattern itself
    (a part every match has to go through, and a literal piece of each of its alternatives), so a line without
    any of them cannot match; `tests/test_prepare_speedups.py` checks this on generated matches of each
    pattern."""

    pattern: str
    words: tuple[str, ...]


_SHARE_WORDS = (
    r"share this (?:article|story|post|page)|share|share this|share on|tweet|print|email|e-mail|whatsapp|telegram|facebook|twitter|x|linkedin|"
    r"reddit|pinterest|copy link|messenger|viber|vk|pocket|tumblr"
)

_LINE_PATTERNS: tuple[str | _Anywhere, ...] = (
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
    # comment policies: "Please write your correct name and email address.", "Kindly do not post any abusive…"
    r"(please|kindly) .{0,40}\b(your (correct |real |full )?(name|e-?mail)|post|comment)\b.{0,200}",
    _Anywhere(
        r".{0,200}\b(defamatory|abusive|offensive|obscene) (messages?|comments?|posts?)\b.{0,200}",
        ("defamatory", "abusive", "offensive", "obscene"),
    ),
    _Anywhere(
        r".{0,160}\b(comments?|messages?) (posted|published) (under|on|below) this (article|story|page)\b.{0,160}",
        ("posted ", "published "),
    ),
    r"title:\s.{1,200}",
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
    # teasers for other stories: "READ | 20 peacekeepers wounded…", "Read More: Turkish drone kills two…"
    r"(read|see|watch|listen)( more| also| next)?\s*[|:]\s*.{0,200}",
    r"(also read|recommended for you|more (stories|videos?) from .{0,40})\s*[|:]?\s*.{0,200}",
    # section labels and widgets
    r"(show|view|load|see) (more|all)( videos?| stories| news)?|top stories|just in|in pictures|latest( news)?"
    r"|breaking news|world news|nation (&|and) world|videos?|comments|listen( to)?|download|editor'?s picks",
    r"today in [a-z][\w .'-]{1,40}(, [a-z][\w .'-]{1,40})?",  # weather widget: "Today in New Delhi, India"
    r"\d+ (seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?) ago",
    r"you have \d+ characters? (left|remaining)\.?|disclaimer:?|source link|sources?\s*(\[edit\])?",
    r"(error: )?content is protected ?!*|never miss a (local )?story\.?",
    r"https?://\S+",
    r"site ?map\b.{0,200}",
    # video lists: a title and its duration ("Watch: London jogger pushes woman in front of bus 0:40")
    _Anywhere(
        r".{1,140}(?<!\bat)(?<!around)(?<!about)(?<!\bby)(?<!until)(?<!before)(?<!after)(?<!since)\s\d{1,2}:\d{2}",
        (":",),
    ),
    # app prompts: "Stay tuned with 24 News HD Android App", "App Store Google Play"
    _Anywhere(
        r".{0,60}\b(android|ios|iphone|mobile)( app| apps| application)\b.{0,40}",
        ("android app", "ios app", "iphone app", "mobile app"),
    ),
    r"(download|get|install) (the|our) .{0,40}\bapps?\b.{0,40}",
    _Anywhere(r".{0,40}\b(app store|google play)\b.{0,60}", ("app store", "google play")),
    # credit lines: "As reported by Censor.NET.", "Based on reporting by AP and Reuters",
    # "(Reporting by Max Hunder; Editing by Timothy Heritage)"
    r"as reported by [\w.&' -]{1,40}\.?",
    r"\(?(based on |with |additional )?(reporting|writing|editing|compiled|translated)( by| from) .{1,200}",
    # photo captions that end with their credit: "… Iraq. (file photo)(Reuters: John Davison)",
    # "… neighbourhood of Port-au-Prince. [Odelyn Joseph/AP Photo]", "… a rocket attack. Photograph: Reuters"
    _Anywhere(
        r".{0,300}[(\[](file )?(photo|photograph|picture|image)s?\b[^)\]]{0,80}[)\]](\s*[(\[][^)\]]{0,80}[)\]])?\.?",
        ("photo", "picture", "image"),
    ),
    _Anywhere(
        r".{0,300}\[[^\]]{0,60}/\s*(ap|afp|reuters|getty images|epa|anadolu)( photo| images?| via getty images)?\]",
        ("/",),
    ),
    _Anywhere(
        r".{0,300}\b(photograph|photo|image|picture)( credit)?: [^.]{1,60}", ("photo", "image", "picture")
    ),
    # share bars
    rf"((\d+\s+)?({_SHARE_WORDS})[\s:|,·•]*)+",
    # ads, cookies, legal
    r"advertisements?|sponsored( content)?|ad",
    r"(we use cookies|this (web)?site uses cookies|accept (all )?cookies|cookie (settings|policy)).*",
    r"(©|\(c\)|copyright)\s.{0,200}",
    _Anywhere(r".{0,120}all rights reserved\.?", ("all rights reserved",)),
    r"(privacy policy|terms of (use|service)|contact us|about us)([\s|·•]+.{0,40})*",
)


def _alternatives(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _union(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(_alternatives(patterns), re.IGNORECASE)


# What a boilerplate line is: one that this pattern matches whole. `is_boilerplate` gets the same answer
# faster (the tests compare the two): the patterns that start with a word are tried together, on the folded
# line (`service.text.fold`: re.IGNORECASE's matches at half the cost), each of the others only when the
# line holds one of its words.
_BOILERPLATE = _union([p.pattern if isinstance(p, _Anywhere) else p for p in _LINE_PATTERNS])
_AT_START = folded_pattern(_alternatives([p for p in _LINE_PATTERNS if not isinstance(p, _Anywhere)]))
_ANYWHERE = tuple((_union([p.pattern]), p.words) for p in _LINE_PATTERNS if isinstance(p, _Anywhere))

# Breadcrumbs scraped without separators: "Military DevelopmentsSyria" — short, no sentence punctuation,
# and a word glued to the next one (three or more lower-case letters, then an upper-case one).
_GLUED = re.compile(r"[a-z]{3,}[A-Z][a-z]")
_SENTENCE_PUNCT = re.compile(r"[.!?:;,\"“”]")


_BULLET = re.compile(r"^(?:[-*•·▪►»|]\s*)+")


# A news agency's credit glued to the end of the last paragraph: "… said. (Reporting by A; Editing by B)"
_TRAILING_CREDIT = re.compile(
    r"\s*\((?:additional |with )?(?:reporting|writing|editing|compiled|translated) by [^()]{1,200}\)$",
    re.IGNORECASE,
)


def without_trailing_credit(line: str) -> str:
    """The line without an agency credit in parentheses at its end (the article's text is kept)."""
    if ")" not in line:  # the credit ends with one: no need to try the pattern at every place in the line
        return line
    return _TRAILING_CREDIT.sub("", line)


def is_boilerplate(line: str) -> bool:
    """True when a whitespace-collapsed, stripped line is web chrome rather than article text.

    A list bullet in front ("- Share on Facebook", as HTML extraction renders a share list) changes nothing."""
    line = _BULLET.sub("", line)
    folded = fold_case(line)
    if _AT_START.fullmatch(folded):
        return True
    for pattern, words in _ANYWHERE:
        for word in words:  # (plain loops: `any` with a generator costs as much as the look-ups)
            if word in folded:
                if pattern.fullmatch(line):
                    return True
                break
    return len(line) <= 60 and bool(_GLUED.search(line)) and not _SENTENCE_PUNCT.search(line)
