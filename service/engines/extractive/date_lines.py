"""A line that is a date and nothing else: the page's publication stamp, not the incident's date.

News pages print their publication date on a line of its own above or below the story ("October 5, 2018",
"Sunday, July 24, 2016", "date 2018-10-05", "22 Nov 2026 | 10:42 GMT"). Such a line tells when the story was
written: relative dates in the story ("on Friday", "late on October 4") count from it, but the incident
usually happened before it, so a date found there is the weakest of candidates for the event date.
"""

from __future__ import annotations

import re
from functools import lru_cache

# What a date stamp may carry besides the date itself: a label, a time of day, a time zone, separators.
_STAMP_WORDS = re.compile(
    r"(?i)\b(?:date|dated|published|updated|last updated|posted|on|at|time|am|pm|a\.m|p\.m|gmt|utc|ist|est|edt"
    r"|cet|cest|bst|pst|pdt|et|hrs|local)\b|\d{1,2}[:.h]\d{2}(?::\d{2})?|[\W_]"
)
# A date's own words and numbers: month names, weekdays, ordinals and digits.
_DATE_PARTS = re.compile(
    r"(?i)\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:rs|rsday)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?|of)\b|\d+(?:st|nd|rd|th)?"
)
_HAS_DATE = re.compile(
    r"(?i)\b(?:(?:19|20)\d\d-\d\d-\d\d|\d{1,2}/\d{1,2}/(?:19|20)\d\d"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
)


@lru_cache(maxsize=4096)
def is_date_line(text: str) -> bool:
    """True for a sentence that holds a calendar date and only stamp words around it."""
    if len(text) > 80 or _HAS_DATE.search(text) is None:
        return False
    return not _STAMP_WORDS.sub("", _DATE_PARTS.sub("", text)).strip()
