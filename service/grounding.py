"""Grounding: is every fact of a summary supported by the sentences it cites?

The same check runs on every engine's output. A failure is a `Violation` (path, rule, detail) precise enough to
be shown to a model in a repair turn. Rules:

- `unknown_citation`: a citation names no sentence of the article.
- `missing_citation`: an item that must cite cites nothing.
- `number_not_in_citations`: a casualty figure (or a number in a summary statement) that no cited sentence states
  as digits, number words or a vague quantity ("several" -> 2, "dozens" -> 12).
- `name_not_in_citations`: an actor, place, claim source or reporting source not found in its citations as
  an entity: case-, accent- and punctuation-insensitive, small spelling variants allowed (`name_in_text`); a
  name with an appositive ("Diego Molano, Colombian defense minister") by its head, the rest named in the
  article; a person named in full elsewhere in the article by the surname or the title the cited sentence
  uses ("Molano said", "the minister said"). Never a substring anywhere in the article.
- `date_text_not_in_citations`: `date.text` is not in a cited sentence.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache

from pydantic import BaseModel
from rapidfuzz import fuzz

from service.article import Article
from service.errors import Violation
from service.schema import IncidentSummary, Range
from service.text.numbers import StatedFigures, find_quantities

_FUZZY_TOKEN = 85
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "in",
        "on",
        "at",
        "for",
        "to",
        "from",
        "by",
        "with",
        "al",
        "el",
        "forces",
        "force",
        "group",
        "groups",
        "people",
        "residents",
        "villagers",
        "locals",
        "inhabitants",
        "local",
        "state",
    ]
)


_WORDS = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "U.S.-led Coalition" -> "us led coalition"."""
    if text.isascii():  # no accents, no curly quote, and casefold is lower: the short way, same result
        return " ".join(_WORDS.findall(text.lower().replace(".", "")))
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace(".", "").replace("’", "'"))
    # ASCII has no combining marks: skip the per-character filter (most English text)
    plain = (
        decomposed
        if decomposed.isascii()
        else "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )
    return " ".join(_WORDS.findall(plain))


def name_in_text(name: str, text: str) -> bool:
    """True when `name` appears in `text`, allowing spelling variants and dropped small words."""
    return _name_in_folded(_fold(name), _fold(text))


def _folded_sentences(article: Article, citations: Sequence[str]) -> str:
    """`_fold` of the cited sentences joined by spaces, from each sentence's own (cached) fold: the same text,
    since folding works within words and joins every run of spaces and punctuation into one space."""
    return " ".join(f for c in citations if c in article.by_id and (f := _fold(article.by_id[c].text)))


def _name_in_folded(folded_name: str, folded_text: str, name: str = "") -> bool:
    """`folded_name` in `folded_text`, allowing spelling variants and dropped small words; a word of `name`
    (as written) that is a proper name's (`proper_words`) must be there."""
    if not folded_name:
        return False
    if f" {folded_name} " in f" {folded_text} ":
        return True
    tokens = [t for t in folded_name.split() if t not in _STOPWORDS] or folded_name.split()
    words = folded_text.split()
    text_tokens = set(words)
    if not set(folded_name.split()) & _COMPASS:
        # "South Sudan" is not "Sudan": a name without a direction does not meet a word the text qualifies
        # with one ("Sudanese army" in "South Sudan's army")
        text_tokens = _unqualified(words)
    unmatched = [
        token
        for token in tokens
        if not (
            token in text_tokens
            or (
                len(token) > 3
                and any(
                    fuzz.ratio(token, other) >= _FUZZY_TOKEN
                    or _same_nation(token, other)
                    or _singular(token) == _singular(other)
                    for other in text_tokens
                )
            )
        )
    ]
    # Most of the name, and every word that tells one entity from another: a nationality or a direction
    # ("Russian Defence Ministry" is not "Ukraine's defence ministry", "North Kivu" not "South Kivu"), a word
    # of a proper name ("Syrian Arab Army" is not the "Free Syrian Army").
    proper = proper_words(name) if name and unmatched else frozenset()
    if len(unmatched) <= 0.4 * len(tokens) and not [t for t in unmatched if _tells_apart(t, proper)]:
        return True
    return _spelled_across(folded_name, folded_text)


_COMPASS = frozenset(
    ["north", "south", "east", "west"]
)  # what makes another country: South Sudan, North Korea
# Words that place a name within a region ("northern Idlib", "Upper Nile", "Greater Khartoum"): they tell two
# places apart, and a place mention may start with one (the extractive engine's place mentions use them too).
DIRECTIONS = frozenset(
    [
        "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central",
        "northeastern", "northwestern", "southeastern", "southwestern", "upper", "lower", "greater",
    ]
)  # fmt: skip


def _unqualified(words: list[str]) -> set[str]:
    """The words, less those a direction qualifies ("south sudan" leaves "south", not "sudan")."""
    return set(words) - {after for before, after in itertools.pairwise(words) if before in _COMPASS}


def _tells_apart(token: str, proper: frozenset[str]) -> bool:
    return (
        token in DIRECTIONS or _nation_stem(token) is not None or (token in proper and token not in _GENERIC)
    )


def proper_words(name: str) -> frozenset[str]:
    """The folded words of `name` written as a proper name's: capitalised, after its first word (which any
    name capitalises) or in a name whose first two words both are ("Syrian Arab Army", not "Civilians in a
    car")."""
    words = name.split()
    capital = [bool(w[:1].isupper()) for w in words]
    start = 0 if len(words) > 1 and capital[0] and capital[1] else 1
    return frozenset(
        t for w, c in zip(words[start:], capital[start:], strict=True) if c for t in _fold(w).split()
    )


# A nationality adjective and its country's name share a stem: "Malian"/"Mali", "Syrian"/"Syria",
# "Iraqi"/"Iraq", "Afghan"/"Afghanistan", "Sudanese"/"Sudan".
_NATION_SUFFIXES = ("ian", "ean", "an", "ese", "i", "ish")
_MIN_STEM = 4


def _nation_stem(token: str) -> str | None:
    """The stem `token` has as a nationality adjective ("malian" -> "mali", "nigerian" -> "nigeri", so that
    it meets "Nigeria" but not "Niger"), None for other words: the shortest suffix is the one cut."""
    for suffix in sorted(_NATION_SUFFIXES, key=len):
        if token.endswith(suffix) and len(token) - len(suffix) >= _MIN_STEM:
            return token[: -len(suffix)]
    return None


def _same_nation(a: str, b: str) -> bool:
    """`a` and `b` name one nation, one of them by its adjective ("malian", "mali")."""
    stem_a, stem_b = _nation_stem(a), _nation_stem(b)
    return bool((stem_a and b.startswith(stem_a)) or (stem_b and a.startswith(stem_b)))


_IRREGULAR_PLURALS = {"children": "child", "men": "man", "women": "woman", "people": "person"}


def _singular(token: str) -> str:
    """ "children" -> "child", "soldiers" -> "soldier", "militias" -> "militia" (a rough singular, for
    matching group names against the sentence that counts one of them)."""
    if token in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[token]
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith("ss") and len(token) > 4:
        return token[:-1]
    return token


# A long name the article writes across a line break or a hyphenation ("Abeo- kuta"), or with one letter
# wrong: compared without spaces, at most this far from its best-matching stretch of the text.
_LONG_NAME = 8
_CLOSE_SPELLING = 90


def _spelled_across(folded_name: str, folded_text: str) -> bool:
    name, text = folded_name.replace(" ", ""), folded_text.replace(" ", "")
    if len(name) < _LONG_NAME:
        return False
    return name in text or fuzz.partial_ratio(name, text) >= _CLOSE_SPELLING


# An appositive after a name: "Diego Molano, Colombian defense minister", "Ahmed Ali (the governor)".
_APPOSITIVE = re.compile(r"\s*(?:,|\(|\)|\s[-–—]\s)\s*")
# Words that say what office a person holds; a cited sentence may name the person by one of them alone.
_TITLES = frozenset(
    [
        "minister",
        "ministry",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "governor",
        "commander",
        "colonel",
        "general",
        "lieutenant",
        "captain",
        "sergeant",
        "president",
        "chief",
        "officer",
        "official",
        "mayor",
        "director",
        "leader",
        "secretary",
        "ambassador",
        "prosecutor",
        "envoy",
        "representative",
        "deputy",
        "senator",
        "lawmaker",
        "brigadier",
        "admiral",
        "analyst",
        "monitor",
        "researcher",
        "expert",
    ]
)
# Words too common to identify an entity on their own ("the army", "Syrian forces").
_GENERIC = _TITLES | frozenset(
    [
        "military",
        "forces",
        "troops",
        "soldiers",
        "government",
        "security",
        "militia",
        "militants",
        "fighters",
        "rebels",
        "insurgents",
        "gunmen",
        "attackers",
        "civilians",
        "residents",
        "people",
        "police",
        "officers",
        "agency",
        "news",
        "national",
        "state",
        "ministry",
        "defense",
        "defence",
        "interior",
        "foreign",
        "affairs",
        "coalition",
        "army",
        "navy",
        "air",
        "united",
        "republic",
        "democratic",
        "islamic",
        "front",
        "movement",
        "party",
        "council",
        "committee",
        "unit",
        "units",
        "battalion",
        "brigade",
        "division",
        "regiment",
    ]
)


def _is_distinctive(token: str) -> bool:
    return len(token) >= 4 and token not in _GENERIC and token not in _STOPWORDS and not token.isdigit()


_LEDE = 3  # the headline and the first sentences
# An attacker the article does not name ("unidentified gunmen"): a name that claims nothing but that someone
# did it, grounded where the cited sentences report an attack or its victims.
_UNIDENTIFIED = re.compile(
    r"^(?:the )?(?:unidentified|unknown|unnamed) (?:armed )?(?:gunmen|gunman|attackers|attacker|assailants"
    r"|assailant|men|group|militants|perpetrators|persons|individuals)$"
)
_ATTACK = re.compile(
    r"\b(?:attack\w*|kill\w*|shot|shoot\w*|gunfire|gunmen|bullets|targeted|bomb\w*|explosi\w+|ambush\w*"
    r"|assassinat\w+|murder\w*|execut\w+|gunshot\w*|death|dead|died|wounded|injured|strike|struck|raid\w*)\b"
)


# ... but not where the cited sentences name who did it ("Soldiers shot dead five civilians").
_NAMED_ATTACKER = re.compile(
    r"\b(?:soldiers|troops|army|police(?:men)?|forces|militants|rebels|fighters|militia\w*|jihadists|bandits)"
    r"(?: \w+){0,3} (?:shot|killed|attacked|opened fire|fired|executed|ambushed|stormed|raided|shelled|bombed)\b"
)


def _unidentified(folded_name: str, folded_cited: str) -> bool:
    return bool(
        _UNIDENTIFIED.match(folded_name)
        and _ATTACK.search(folded_cited)
        and not _NAMED_ATTACKER.search(folded_cited)
    )


_MIN_INITIALS = 3


def _initials(tokens: list[str]) -> set[str]:
    """The acronyms a name may go by: "syrian observatory for human rights" -> {"sohr", "sofhr"}."""
    every = "".join(t[0] for t in tokens)
    major = "".join(t[0] for t in tokens if t not in _STOPWORDS or t in ("state", "forces", "force", "group"))
    return {a for a in (every, major) if len(a) >= _MIN_INITIALS}


class _Entities:
    """Grounds names against an article as entities (see the module's rules), its folds computed once."""

    def __init__(self, article: Article) -> None:
        self._article = article

    @cached_property
    def _folded(self) -> list[str]:
        return [_fold(s.text) for s in self._article.sentences]

    @cached_property
    def _tokens(self) -> set[str]:
        return {t for sentence in self._folded for t in sentence.split()}

    @cached_property
    def _acronyms(self) -> set[str]:
        """The words the article writes in capitals ("SOHR", "RSF"), folded."""
        return {w.lower() for s in self._article.sentences for w in re.findall(r"\b[A-Z]{2,}\b", s.text)}

    def grounded(self, name: str, folded_cited: str, cited_raw: str = "") -> bool:
        folded_name = _fold(name)
        if _name_in_folded(folded_name, folded_cited, name):
            return True
        parts = [part for part in _APPOSITIVE.split(name) if part.strip()]
        if len(parts) > 1:
            # "Diego Molano, Colombian defense minister", "Naypyitaw People's Defense Force (PDF)": one part in
            # the citations, the others somewhere in the article
            cited = [part for part in parts if self.grounded(part, folded_cited, cited_raw)]
            return bool(cited) and all(self._in_article(_fold(part)) for part in parts if part not in cited)
        return (
            self._qualified_by_the_lede(folded_name, folded_cited)
            or self._named_elsewhere(folded_name, folded_cited, cited_raw)
            or _unidentified(folded_name, folded_cited)
        )

    def _qualified_by_the_lede(self, folded_name: str, folded_cited: str) -> bool:
        """ "Malian armed forces" cited where "the armed forces said": the nationality the headline or lede
        gives the story ("Mali army says…", "…in central Mali") qualifies a name the citations hold."""
        lede = {t for sentence in self._folded[:_LEDE] for t in _unqualified(sentence.split())}
        nations = [t for t in lede if _nation_stem(t)]
        if any(not _same_nation(a, b) and a != b for a in nations for b in nations):
            return False  # a lede of two nations ("Rwandan-backed rebels clashed with Congolese troops")
        tokens = folded_name.split()
        qualifiers = [t for t in tokens if _nation_stem(t) and any(_same_nation(t, o) for o in lede)]
        rest = [t for t in tokens if t not in qualifiers]
        core = {t for t in rest if t not in _STOPWORDS}
        if not qualifiers or not core or not _name_in_folded(" ".join(rest), folded_cited):
            return False
        # the lede names the country itself ("Mali army says", "in central Mali"), or gives the adjective to
        # the same kind of actor ("Four Colombian soldiers were killed…, the army said"): not an adjective of
        # something else ("Russian missiles struck Kharkiv" does not make "the defence ministry" Russian)
        for sentence in self._folded[:_LEDE]:
            words = _unqualified(sentence.split())
            for q in qualifiers:
                if any(not _nation_stem(o) and _same_nation(q, o) for o in words):
                    return True
                if q in words and words & core:
                    return True
        return False

    def _in_article(self, folded: str) -> bool:
        """In some sentence, the lede's nationality allowed ("Colombian defense minister" where the lede is
        about Colombia and another sentence names "the defense minister")."""
        return any(
            _name_in_folded(folded, sentence) or self._qualified_by_the_lede(folded, sentence)
            for sentence in self._folded
        )

    def _named_elsewhere(self, folded_name: str, folded_cited: str, cited_raw: str) -> bool:
        """A name the article uses (in full, or by its acronym), cited where a distinctive word of it, its
        acronym or the title the article gives the person is used alone ("Molano said", "the RSF", "the
        minister said")."""
        tokens = folded_name.split()
        if len(tokens) < 2:
            return False
        full = [s for s in self._folded if _name_in_folded(folded_name, s)]
        initials = _initials(tokens)
        written = {t for t in tokens if _is_distinctive(t) and t in self._tokens}
        # an acronym the article writes ("SOHR"), of a name most of whose words it uses ("Syrian Observatory"):
        # not an expansion it never gives ("Alliance of Democratic Fighters" for "ADF")
        known_acronym = initials & self._acronyms and len(written) >= 0.5 * len(
            [t for t in tokens if _is_distinctive(t)]
        )
        if not full and not known_acronym:
            return False
        cited_tokens = set(folded_cited.split())
        if initials & self._acronyms & cited_tokens:  # "Rapid Support Forces" cited where "the RSF said"
            return True
        # a distinctive word of the name proper, after its title: "Zulum" of "Borno State Governor Babagana
        # Zulum", not "Borno"
        titled = [i for i, t in enumerate(tokens) if t in _TITLES]
        own = tokens[titled[-1] + 1 :] if titled else tokens
        if any(_is_distinctive(t) and not _nation_stem(t) and t in cited_tokens for t in own):
            return True  # "Molano said", "Syrian Observatory activists have documented"
        surname = tokens[-1]
        if full and surname in cited_tokens and surname not in _GENERIC | _STOPWORDS:
            return True  # a person named in full, then by the surname alone, however short ("Uy said")
        # the title the article gives the person, or the one in the name ("KNLA Brigade 1 officer"), used
        # alone ("said the officer"), never where it introduces another name ("M23 spokesman Lawrence Kanyuka")
        titles = {t for sentence in full for t in sentence.split() if t in _TITLES} | (set(tokens) & _TITLES)
        return any(_title_alone(title, cited_raw) for title in titles & cited_tokens)


def _title_alone(title: str, text: str) -> bool:
    """`title` used on its own in `text` ("the minister said", "said the officer"), not before a name."""
    return any(
        not re.match(r"\s+[A-Z]", text[m.end() :])
        for m in re.finditer(rf"\bthe\s+(?:[\w-]+\s+){{0,2}}?{title}\b", text, re.IGNORECASE)
    )


def names(name: str, article: Article, citations: Sequence[str]) -> bool:
    """True when the cited sentences name `name` as an entity (the rules of `name_not_in_citations`)."""
    return _Entities(article).grounded(
        name, _folded_sentences(article, citations), _cited_text(article, citations)
    )


def _cited_text(article: Article, citations: Sequence[str]) -> str:
    return " ".join(article.by_id[c].text for c in citations if c in article.by_id)


def _citation_violations(summary: IncidentSummary, article: Article) -> list[Violation]:
    last = len(article.sentences)
    found: list[Violation] = []

    def walk(node: BaseModel, path: str) -> None:
        for name in type(node).model_fields:
            value = getattr(node, name)
            if name == "citations":
                sub = f"{path}.{name}" if path else name
                if not value:
                    found.append(Violation(sub, "missing_citation", "cite at least one sentence id"))
                for i, cid in enumerate(value):
                    if cid not in article.by_id:
                        found.append(
                            Violation(
                                f"{sub}[{i}]", "unknown_citation", f"{cid} is not a sentence; use S1..S{last}"
                            )
                        )
            elif isinstance(value, BaseModel):
                walk(value, f"{path}.{name}" if path else name)
            elif isinstance(value, list):  # scalars hold no citations: not walked into
                for i, item in enumerate(value):
                    if isinstance(item, BaseModel):
                        walk(item, f"{path}.{name}[{i}]" if path else f"{name}[{i}]")

    walk(summary, "")
    return found


def _range_violations(rng: Range | None, path: str, supported: StatedFigures) -> Iterator[Violation]:
    if rng is None:
        return
    for part in ("low", "best", "high"):
        value = getattr(rng, part)
        if value is None or value in supported:
            continue
        if part == "best" and rng.low in supported and rng.high in supported:
            continue  # a best estimate inside a reported range
        yield Violation(
            f"{path}.{part}",
            "number_not_in_citations",
            f"{value} is not stated in the cited sentences; cite the sentence that gives it or use null",
        )


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_MONTH_NEXT = re.compile(rf"\b{_MONTHS}\s+$", re.IGNORECASE)
_MONTH_AFTER = re.compile(rf"(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b", re.IGNORECASE)


_LARGE_VAGUE = 12  # "dozens", "scores", "hundreds", "thousands"


def _free_text_numbers(path: str, text: str, supported: StatedFigures) -> Iterator[Violation]:
    """Figures written in a statement, claim or position (other than "one" and the day of a date) are stated in
    its citations; a large vague quantity ("dozens") only where the citations state as many."""
    for q in find_quantities(text):
        # vague: "dozens" where the sentences say five is a fabrication; "several outlets" is not a figure
        if q.vague:
            unsupported = q.low is not None and q.low >= _LARGE_VAGUE and not supported.any_at_least(q.low)
        else:
            unsupported = any(v not in supported for v in (q.low, q.best, q.high) if v is not None and v > 1)
        if (
            not unsupported
            or _MONTH_NEXT.search(text[max(0, q.start - 12) : q.start])
            or _MONTH_AFTER.match(text, q.end)
        ):
            continue  # stated, or the day of a date ("on February 12", "12 February"), not a count
        told = "is more than the cited sentences state" if q.vague else "is not stated in the cited sentences"
        yield Violation(path, "number_not_in_citations", f"{q.text!r} {told}")


def headline_violations(summary: IncidentSummary, article: Article) -> list[Violation]:
    """The headline cites nothing of its own: its figures must be those of a sentence the summary cites. (A
    model's rule; the extractive engine's headline gives the toll it adds up from the entries.)"""
    cited = [c for c in dict.fromkeys(summary.citation_ids()) if c in article.by_id]
    stated = StatedFigures([article.by_id[c].text for c in cited])
    return list(_free_text_numbers("headline", summary.headline, stated))


def _name_violation(
    name: str | None, path: str, cited: str, folded: str, entities: _Entities
) -> Iterator[Violation]:
    """`folded` is `_fold(cited)`."""
    if name and cited and not entities.grounded(name, folded, cited):
        yield Violation(path, "name_not_in_citations", f"{name!r} does not appear in the cited sentences")


def check(summary: IncidentSummary, article: Article) -> list[Violation]:
    """Every grounding failure of `summary` against `article`; an empty list means the summary is grounded."""
    violations = list(_citation_violations(summary, article))

    def cited(citations: Sequence[str]) -> str:
        return _cited_text(article, citations)

    entities = _Entities(article)
    # Many facts cite the same sentences: their folded text and figures are worked out once per check.
    folds: dict[tuple[str, ...], str] = {}
    stated: dict[tuple[str, ...], StatedFigures] = {}

    def folded(citations: Sequence[str]) -> str:
        key = tuple(citations)
        if key not in folds:
            folds[key] = _folded_sentences(article, citations)
        return folds[key]

    def supported(citations: Sequence[str]) -> StatedFigures:
        """The figures the cited sentences state, each sentence on its own (and each read once)."""
        key = tuple(citations)
        if key not in stated:
            stated[key] = StatedFigures([article.by_id[c].text for c in citations if c in article.by_id])
        return stated[key]

    free_texts = [(f"summary[{i}].text", st.text, st.citations) for i, st in enumerate(summary.summary)]
    free_texts += [(f"claims[{i}].statement", c.statement, c.citations) for i, c in enumerate(summary.claims)]
    free_texts += [
        (f"disputes[{i}].positions[{j}].position", p.position, p.citations)
        for i, d in enumerate(summary.disputes)
        for j, p in enumerate(d.positions)
    ]
    for path, text, citations in free_texts:
        if find_quantities(text):  # a text that gives no figure is not read against its citations' figures
            violations.extend(_free_text_numbers(path, text, supported(citations)))
    if summary.date is not None:
        text = cited(summary.date.citations)
        if text and f" {_fold(summary.date.text)} " not in f" {folded(summary.date.citations)} ":
            violations.append(
                Violation(
                    "date.text",
                    "date_text_not_in_citations",
                    f"{summary.date.text!r} must be copied exactly from a cited sentence",
                )
            )
    for i, loc in enumerate(summary.locations):
        violations.extend(
            _name_violation(
                loc.name, f"locations[{i}].name", cited(loc.citations), folded(loc.citations), entities
            )
        )
    for i, actor in enumerate(summary.actors):
        violations.extend(
            _name_violation(
                actor.name, f"actors[{i}].name", cited(actor.citations), folded(actor.citations), entities
            )
        )
    for i, cas in enumerate(summary.casualties):
        text = cited(cas.citations)
        figures = supported(cas.citations)
        violations.extend(_range_violations(cas.killed, f"casualties[{i}].killed", figures))
        violations.extend(_range_violations(cas.injured, f"casualties[{i}].injured", figures))
        path = f"casualties[{i}].reported_by"
        violations.extend(_name_violation(cas.reported_by, path, text, folded(cas.citations), entities))
    for i, claim in enumerate(summary.claims):
        violations.extend(
            _name_violation(
                claim.source, f"claims[{i}].source", cited(claim.citations), folded(claim.citations), entities
            )
        )
    for i, dispute in enumerate(summary.disputes):
        for j, pos in enumerate(dispute.positions):
            path = f"disputes[{i}].positions[{j}].source"
            violations.extend(
                _name_violation(pos.source, path, cited(pos.citations), folded(pos.citations), entities)
            )
    return violations
