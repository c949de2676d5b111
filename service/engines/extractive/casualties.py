"""Who was killed or injured, how many, and according to whom.

Counts are read with `service.numbers` (digits, number words, "at least", ACLED's vague words) where the
count is tied to a casualty word: "<count> <group> were killed", "killing <count> <group>", "left <count>
dead", "the death toll rose to <count>". A sentence's figures for different groups add up; figures in
different sentences are reports of the same toll, which `casualty_tally` makes into one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.sources import Attribution
from service.schema import Range
from service.text.fold import fold_case, folded_pattern
from service.text.numbers import Quantity, find_quantities

Kind = Literal["killed", "injured"]

_KILLED = (
    r"killed|dead|died|slain|perished|executed|massacred|shot dead|beheaded|lost their lives|lost his life"
    r"|lost her life|succumbed|neutrali[sz]ed|eliminated|gunned down|shot to death|hacked to death|murdered"
    r"|assassinated|martyred|deceased"
)
_INJURED = r"wounded|injured|hurt|maimed|hospitali[sz]ed"
_BODY_ADJ = (
    r"(?:(?:lifeless|dead|charred|burnt|burned|mutilated|decomposed|decomposing|headless|dismembered)\s+)?"
)
_AUX = (
    r"(?:(?:were|was|are|is|have been|has been|had been|been|being|got|later|reportedly|also|all|both|each|found"
    r"|discovered|confirmed|declared|pronounced|to be)\s+)*"
)  # "was found dead", "were discovered to be deceased", "was confirmed dead"
# The patterns of this block are lower case and run on the case-folded sentence (`casefold`): the matches
# of re.IGNORECASE at a third of the cost. Words that end up in the summary are read from the sentence itself.
# The qualifier a count may carry right after the words before it ("killing at least", "the death of some").
_QUALIFIED_COUNT_NEXT = (
    r"(?:(?:at least|some|about|around|nearly|almost|over|more than|up to|as many as)\s+)?$"
)
_PASSIVE = folded_pattern(rf"^\s*{_AUX}(?P<verb>{_KILLED}|{_INJURED})\b")
_ACTIVE = folded_pattern(
    r"\b(?P<verb>killing|killed|kills|wounding|wounded|injuring|injured|left|leaving|claimed the lives of"
    r"|shot dead|shooting dead|shot and killed|gunned down|gunning down|beheaded|executed|massacred"
    r"|neutrali[sz]ed|neutrali[sz]ing|eliminated|eliminating|murdered|murdering|assassinated|martyred"
    r"|shot and martyred)"
    rf"\s+{_QUALIFIED_COUNT_NEXT}"
)
# The dead and the hurt counted together: neither figure can be read from it.
_MIXED_BEFORE = folded_pattern(
    r"\b(?:killing|killed|kills|dead)\s+(?:and|or)\s+(?:injuring|wounding|injured|wounded)\s+"
    rf"{_QUALIFIED_COUNT_NEXT}"
)
_MIXED_AFTER = folded_pattern(rf"^\s*{_AUX}(?:killed|dead)\s+(?:and|or)\s+(?:injured|wounded|hurt)\b")
_LEFT_STATE = folded_pattern(rf"^\s*(?P<verb>dead|{_INJURED})\b")
_TOLL = folded_pattern(
    r"\b(?:bodies of|(?:death toll|toll|number of (?:dead|deaths|fatalities))\s+(?:has\s+|had\s+)?(?:rose|risen|climbed|reached"
    r"|increased|jumped|stands|stood|is|was|of|at)?\s*(?:to|at)?)\s*$"
)
# "Casualties" counts the dead and the wounded together in military usage: neither figure can be read from it.
_COUNT_NOUN = folded_pattern(r"^\s*(?:people\s+)?(?P<noun>deaths|fatalities|dead|injuries)\b")
# The event named as a noun, with its victims after "of": "the death of a civilian", "documented the deaths of
# four members", "resulted in the killing of three militants", "the wounding of two others".
_NOMINAL = folded_pattern(
    r"\b(?P<noun>deaths?|killings?|murders?|assassinations?|wounding|injuring|injury|injuries"
    rf"|(?<=the ){_BODY_ADJ}(?:body|corpse))\s+of\s+"
    rf"{_QUALIFIED_COUNT_NEXT}"
)
# A dead body found is a death: "a dismembered body was found", "troops recovered two bodies", "found the body
# of a child" ("the body of" with no other word before "body": not "the governing body of a party").
_BODY = folded_pattern(r"bod(?:y|ies)|corpses?")
_FOUND_AFTER = folded_pattern(rf"^\s*{_AUX}(?:found|discovered|recovered|retrieved|dumped|located|pulled)\b")
_FOUND_BEFORE = folded_pattern(
    r"\b(?:found|find|finds|discovered|discover|recovered|recover|retrieved|located|discovery of|recovery of)\s+"
    rf"{_QUALIFIED_COUNT_NEXT}"
)
# A subject separated from its verb ("Three fighters of the group were killed", "A farmer in the province was
# shot dead", "At least one member of the unit, an elite force, has died"): the words between hold no other
# count, no digit, no verb of their own (no auxiliary, no reporting verb) and no clause of their own.
_SEPARATED = folded_pattern(
    rf"^(?P<gap>[^.;:!?\d]{{1,90}}?)\b(?:(?:were|was|had been|have been|has been)\s+"
    rf"(?:(?:also|reportedly|later|allegedly|all|both|each|subsequently|eventually)\s+)?"
    rf"(?:(?:found|discovered|confirmed|declared|pronounced)\s+(?:to be\s+)?)?"
    rf"(?P<verb>{_KILLED}|{_INJURED})|(?:(?P<aux>has|have|had)\s+|(?P<bare>))(?:(?:also|reportedly|later|since"
    rf"|subsequently|eventually)\s+)?(?P<died>died|perished|succumbed|lost (?:their|his|her) li(?:fe|ves)))\b"
)  # "has died", "A protester shot by the police died in hospital"; not "have killed a man" (the active voice:
# the count is the killers)
# The wounded who died after all: "A soldier wounded in the ambush later died of his wounds", "Two men were
# injured in the blast and later succumbed" (no other subject between: no "and" but "and later").
_DIED_LATER = folded_pattern(
    r"^(?P<gap>(?:(?!\band\b)[^.;:!?\d]){0,80}?)(?:,\s*)?(?:and\s+)?(?:(?:later|subsequently|eventually)\s+)?"
    r"(?:died|succumbed|perished)\b"
)
# A count right after a preposition is no subject of a verb without its auxiliary ("in a blast died").
_OBJECT_OF = folded_pattern(r"\b(?:in|by|on|at|from|with|of|near|after|during|into|under|for|to)\s+$")
_BRACKETED = re.compile(r"\([^()]*\)")  # "(IS)" in a name is no verb
_GAP_BREAK = folded_pattern(
    rf"\b(?:was|were|is|are|has|have|had|been|being|but|while|whereas|when|after|before|because|since|if"
    rf"|where|which|whom|whose|that|who"
    rf"|{cues.REPORTING_VERBS}|according|killing|killed|wounding|injuring)\b"
)
_NP_STOP = folded_pattern(
    rf"^(?:that|who|which|when|where|after|before|while|as|and|but|or|in|on|at|by|with|from|to|for|during|near"
    rf"|outside|inside|across|along|into|through|behind|around|shot|hit|later|lost"
    rf"|{cues.REPORTING_VERBS}|remain|remained|arrived|returned|took|were|was|are|is|have|has|had|been)$"
)
_SUBGROUP = folded_pattern(r"\b(?:including|among them|among whom|of whom|of which|such as)\s+$")
_SUBGROUP_GOES_ON = folded_pattern(r"[\w’'\- ]{0,30}?(?:,\s*|\s+and\s+|,\s*and\s+)")
_SINGULAR = folded_pattern(r"\b(?:a|an|another|one)\b")
_WORD = re.compile(r"(?:[A-Z]\.){2,}|[\w’'\-]+|[^\w\s]")
_NEGATED = folded_pattern(r"\b(?:no|not a single|none of the|nobody|not)\s*$")
_AND_JOINED = folded_pattern(r"^\s*,?\s*(?:and|as well as|plus)\s+")
_CONJOINED = folded_pattern(
    r"^\s*(?:,\s*(?:and\s+|as well as\s+|plus\s+)?|and\s+|as well as\s+|plus\s+"
    r"|(?:along |together )?with (?:his|her|their)\s+)"
)  # "a commander with his six colleagues were killed"
_NOT_A_COUNT = re.compile(
    r"^\s*(?:%|percent|per cent|km|kilomet|mile|-?\s*year|-?\s*month|-?\s*week|day|hour|minute|metre|meter"
    r"|moment|second|time"
    # a unit's designation: "troops of 21 Armoured Brigade", "the 5 Infantry Division"
    r"|(?:[A-Z][\w-]*\s+){0,2}(?:Brigades?|Divisions?|Battalions?|Regiments?|Corps|Squadrons?|Infantry"
    r"|Armou?red|Mechani[sz]ed|Artillery|Commandos?|Fleet)\b)"
)  # case-sensitive
# A number that names something rather than counts it: a unit, a street number, a road, an age, a year.
_NUMBERING_BEFORE = folded_pattern(
    r"\b(?:no\.|number|street|st\.|road|avenue|house|plot|block|route|highway|flight|line|unit|brigade|battalion"
    r"|division|regiment|corps|sector|zone|ward|phase|kilometre|kilometer|km|aged|age of|post|checkpoint|base"
    r"|article|resolution|chapter|page|section|camp)\s*$"
)
_YEAR_BEFORE = folded_pattern(
    r"\b(?:in|since|of|from|by|until|till|to|before|after|during|early|late|mid|year|summer|winter|spring"
    r"|autumn|fall)\s*$"
)
# Totals over a period or many incidents, not this incident's toll: "in the same period", "as of Monday",
# "since the coup", "so far", "in total", "these attacks claimed the lives of", "in July alone", "between
# March and May", "the death toll in the war".
_CUMULATIVE = folded_pattern(
    r"\b(?:in the same period|during the same period|as of|so far|in total|of the total|total number|until today"
    r"|up to now|till now|as follows|cumulative|alone"
    r"|these (?:\w+ )?(?:attacks|incidents|assassinations|killings|operations|strikes|raids|bombings|clashes)"
    r"|since (?:(?:the|its|their|then|late|early|mid)\b|\d)"
    r"|in the (?:past|last) (?:few |several |\w+ )?(?:days|weeks|months|years)"
    r"|between (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* and"
    r"|(?:death )?toll (?:in|of) the (?:[\w-]+ ){0,2}(?:war|conflict|insurgency|fighting)|total (?:death )?toll"
    r"|in (?:(?:about|almost|nearly|over|more than|less than|the past|the last) )?"
    r"(?:a |one |two |three |four |five |six |\d+ )?(?:days|weeks|months|years)\b"
    r"|across (?:the )?(?:country|province|region|governorate|state)|nationwide|countrywide|in areas within"
    r"|in the same (?:areas|places|provinces|regions|districts)"
    r"|in these (?:\w+ )?(?:provinces|areas|regions|districts|states|countries|towns|villages)"
    r"|from (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2} to"
    r"|in (?:several|different|various|multiple|many) (?:areas|provinces|regions|parts|districts|places)"
    r"|(?:two|three|four|five|several|multiple|different) separate)"
)
# Another incident told beside this one: its figures are not this incident's toll.
_OTHER_INCIDENT = folded_pattern(
    r"\b(?:in|during) (?:another|a separate|a similar|an earlier|a previous|an unrelated|a different) "
    r"(?:[\w-]+ ){0,2}?(?:attacks?|incidents?|encounters?|clash(?:es)?|ambush(?:es)?|raids?|strikes?|operations?"
    r"|bombings?|explosions?|blasts?|shootings?)\b"
    r"|\bin a separate\b|\bseparately\b"
    # an earlier report, in the past perfect: "Activists had documented the death of four ... yesterday"
    r"|\bhad (?:earlier |previously |also )?(?:documented|reported|monitored|recorded)\b"
)
_CASUALTY_WORD = folded_pattern(rf"{_KILLED}|{_INJURED}|dead|people")  # precompiled: was built per word
_GROUP_TAIL = re.compile(
    r"^\s*(?:from|among|of)\s+(?:the\s+)?(?P<g>[\w’'\- ]{3,40}?)(?=[,.;]|\s+(?:was|were|in|on|at|and|who|when)\b|$)"
)
_MAX_NP = 5
# A figure is a casualty figure only through a word of `_PASSIVE`, `_ACTIVE` (then, for "left"/"leaving",
# `_LEFT_STATE`), `_TOLL` or `_COUNT_NOUN`, and every alternative of those holds one of these stems: a
# sentence without any states no casualty figure (most sentences), and is not read further.
_CASUALTY_STEM = folded_pattern(
    r"\b(?:kill|dead|die|slain|perish|execut|massacr|shot|shoot|behead|lost|succumb|wound|injur|hurt|maim|hospitali"
    r"|claimed the lives|gunn|toll|bodies|body|corpse|number of|death|fatalit|neutrali|eliminat|murder|assassin|martyr"
    r"|casualt|hack|deceas)"
)  # at a word's start, as each of those patterns has it ("soldiers" holds "die" but is no casualty word)
_ACRONYM = re.compile(r"\([A-Z][A-Z0-9.&\-]{1,9}s?\)")  # "(DRG)" inside a unit's name
# Where a sentence turns to an earlier incident ("..., weeks after two people were killed", "The attack came
# after ...", "in a similar attack"): the figures from there on are that incident's.
_EARLIER_INCIDENT = folded_pattern(
    r"\b(?:(?:days|weeks|months|years|a week|a month|a year) (?:after|before|since)"
    r"|similar (?:attacks?|incidents?|strikes?|raids?|bombings?)|(?:comes|came) (?:just |only )?(?:\w+ )?after)\b"
)


@dataclass(frozen=True, slots=True)
class Report:
    """One figure in one sentence: `count` of `group` were `kind`, maybe according to `source`."""

    sentence: Sentence
    kind: Kind
    count: Range
    group: str
    source: Attribution | None


_INJURY_VERB = re.compile(rf"(?:{_INJURED}|wound|injur)", re.IGNORECASE)  # compiled once, not per call


def _kind(verb: str) -> Kind:
    return "injured" if _INJURY_VERB.match(verb) else "killed"


def _noun_phrase(text: str) -> tuple[str, int]:
    """The group words right after a count ("US soldiers", "members of the security forces", "District
    Reserve Guard (DRG) personnel"), and where they end."""
    taken: list[str] = []
    end = 0
    for m in _WORD.finditer(text):
        if m.start() < end:
            continue  # inside an acronym in brackets, taken whole
        word = m.group(0)
        acronym = _ACRONYM.match(text, m.start()) if word == "(" and taken else None
        if acronym is not None:
            taken.append(acronym.group(0))
            end = acronym.end()
            continue
        folded = fold_case(word)
        # a proper name is not cut: "fighters of the National Defence Forces", not "... National Defence"
        in_a_name = word[0].isupper() and taken[-1][0].isupper() if taken else False
        if (
            not word[0].isalnum()
            or (_NP_STOP.match(folded) and word.lower() not in ("of",))
            or len(taken) >= (_MAX_NP + 3 if in_a_name else _MAX_NP)
        ):
            break
        if _CASUALTY_WORD.fullmatch(folded) and word.lower() != "people":
            break
        taken.append(word)
        end = m.end()
    while taken and taken[-1].lower() in ("of", "the"):
        taken.pop()
    return " ".join(taken), end


def _quantities(text: str, folded: str) -> list[Quantity]:
    found = [
        q for q in find_quantities(text) if q.best is not None or q.low is not None or q.high is not None
    ]
    taken = [(q.start, q.end) for q in found]
    for m in _SINGULAR.finditer(folded):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(Quantity(text[m.start() : m.end()], m.start(), m.end(), 1, 1, 1))
    return sorted(found, key=lambda q: q.start)


def _range(q: Quantity) -> Range:
    return Range(low=q.low, best=q.best, high=q.high)


def _kind_at(
    q: Quantity, text: str, folded: str, np_end: int, singular: bool, next_start: int
) -> tuple[Kind | None, int]:
    """The casualty word a count is tied to, and where that word ends (0 if it comes before the count);
    `next_start` is where the sentence's next count starts. The patterns run on the case-folded sentence;
    the verbs are read from the sentence."""
    start = max(0, q.start - 40)
    before, after = folded[start : q.start], folded[q.end :]

    def spelled(m: re.Match[str], group: str, offset: int) -> str:
        return text[offset + m.start(group) : offset + m.end(group)]

    if _MIXED_AFTER.match(after[np_end:]) or _MIXED_BEFORE.search(before):
        return None, 0  # "killing and injuring more than 10": how many died is not said
    passive = _PASSIVE.match(after[np_end:])
    if (
        passive
        and singular
        and passive.group("verb") in ("died", "perished", "succumbed")
        and not passive.group(0)[: passive.start("verb")].strip()
        and _OBJECT_OF.search(before)
    ):
        passive = None  # "a soldier wounded in a roadside blast died": the blast is no victim (but "of a dead body")
    if passive:
        kind, end = _kind(spelled(passive, "verb", q.end + np_end)), np_end + passive.end()
        died = _DIED_LATER.match(after[end:]) if kind == "injured" else None
        if died is not None and _GAP_BREAK.search(died.group("gap")) is None:
            return "killed", end + died.end()  # "A soldier wounded in the ambush later died"
        return kind, end
    active = _ACTIVE.search(before)  # "killing a soldier", but not "left a"
    if active:
        verb = spelled(active, "verb", start).lower()
        if singular and verb in ("left", "leaving"):
            return None, 0
        if verb not in ("left", "leaving"):
            return _kind(verb), 0
        state = _LEFT_STATE.match(after[np_end:])
        return (_kind(spelled(state, "verb", q.end + np_end)), np_end + state.end()) if state else (None, 0)
    nominal = _NOMINAL.search(before)
    if nominal:
        event = spelled(nominal, "noun", start).lower()
        return ("injured" if event.startswith(("wound", "injur")) else "killed"), 0
    separated = _SEPARATED.match(after)
    if separated:
        gap = separated.group("gap")
        if (
            q.end + separated.end("gap") <= next_start
            and _GAP_BREAK.search(_BRACKETED.sub(" ", gap)) is None
            and not (singular and "," in gap.rstrip().removesuffix(","))  # "a singer, was shot"
            and not (
                separated.group("bare") is not None and _OBJECT_OF.search(before)
            )  # "wounded in a blast died"
        ):
            which = "verb" if separated.group("verb") else "died"
            return _kind(spelled(separated, which, q.end)), separated.end()
    if _BODY.fullmatch(folded[q.end : q.end + np_end].rsplit(None, 1)[-1] if np_end else "") and (
        _FOUND_AFTER.match(after[np_end:]) or _FOUND_BEFORE.search(before)
    ):
        return "killed", 0  # "a dismembered body was found", "troops recovered two bodies"
    if singular:
        return None, 0
    if _TOLL.search(before):
        return "killed", 0
    noun = _COUNT_NOUN.match(after)
    if noun:
        return ("injured" if spelled(noun, "noun", q.end).lower() == "injuries" else "killed"), noun.end()
    return None, 0


# Things, not people: "130 airstrikes executed by jets", "four rounds fired" (the last word of the group).
_THINGS = frozenset(
    [
        "airstrikes",
        "car",
        "vehicle",
        "truck",
        "bus",
        "house",
        "building",
        "strikes",
        "attacks",
        "raids",
        "rounds",
        "shells",
        "rockets",
        "missiles",
        "bombs",
        "mortars",
        "vehicles",
        "cars",
        "trucks",
        "houses",
        "homes",
        "buildings",
        "operations",
        "times",
        "shots",
        "bullets",
        "drones",
        "villages",
        "towns",
        "positions",
        "posts",
        "checkpoints",
        "motorcycle",
        "motorcycles",
        "motorbike",
        "motorbikes",
    ]
)
# One victim named by a pronoun or by name: "killing him", "causing his immediate death", "Ahmed Ali was
# shot dead" (the forms `service.text.numbers` also reads as one, so that the figure can be cited).
_ONE_VICTIM = re.compile(
    r"\b(?:killing|killed|shot dead|murdered|murdering|executed|executing) (?:him|her)\b"
    r"|\b(?:causing|caused|leading to|led to|resulting in|resulted in) (?:his|her) (?:\w+ )?death\b"
    r"|\b[A-Z][\w’'-]+\s+(?:was|has been|had been)\s+(?:\w+\s+)?(?:killed|shot dead|murdered|assassinated"
    r"|executed|slain|beheaded)\b"
    r"|\b(?:[Tt]he|[Hh]is|[Hh]er)\s+(?:[\w’'-]+\s+){1,2}(?:was|has been|had been)\s+(?:later\s+)?found dead\b"
    # "the driver succumbed to his wounds", "his brother later succumbed" (not "the wounded succumbed")
    r"|\b(?:[Tt]he|[Hh]is|[Hh]er)\s+(?!(?:injured|wounded)\b)(?:[\w’'-]+\s+)?(?!(?:injured|wounded)\b)[\w’'-]*[^\Ws]"
    r"\s+(?:(?:later|eventually|subsequently)\s+)?succumbed\b"
    # "until his untimely death on Monday", "police confirmed her death"
    r"|\b(?:[Hh]is|[Hh]er)\s+(?:[a-z]+\s+)?death\b(?!\s+(?:sentences?|penalty|threats?|warrants?|row|squads?|anniversary))"
)  # "the driver was found dead"
# "the death of Ali Musa", "the assassination of Islamic State leader Abu Bakr": one named person.
_NAMED_DEATH = re.compile(
    r"\b(?:death|killing|murder|assassination) of (?P<name>[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){0,3})"
    r"(?:\s+(?P<next>[a-z]+))?"
)
_NOT_PLURAL = frozenset(["was", "has", "is", "his", "this", "as", "its", "us"])


def _named_death(text: str) -> bool:
    """Not a people in one word ending in -s ("the killing of Palestinians"), nor a name before a plural
    ("the killing of Hamas fighters")."""
    for m in _NAMED_DEATH.finditer(text):
        name, following = m.group("name"), m.group("next") or ""
        if " " not in name and name.endswith("s"):
            continue
        if following.endswith("s") and following not in _NOT_PLURAL:
            continue
        return True
    return False


# None died: "no casualties were reported", "without fatalities" (the forms grounding reads as zero).
_NO_DEATHS = folded_pattern(r"\b(?:no|without) (?:casualties|deaths|fatalities|loss of life)\b")
# Vague hundreds or thousands in a sentence in the perfect ("has killed hundreds"): a tally, not one toll.
_PERFECT = folded_pattern(r"\b(?:has|have)\b")


_AGE_AFTER_NAME = re.compile(r"[A-Z][\w’'-]+,\s*$")


def _not_a_count(q: Quantity, before: str, text: str) -> bool:
    """A number that names a thing (a unit, an address, an age) or a year ("in 2016"), not a count of people."""
    if not q.text[:1].isdigit():
        return False
    if _NUMBERING_BEFORE.search(before):
        return True
    if _AGE_AFTER_NAME.search(text[: q.start]) and text[q.end : q.end + 1] == ",":
        return True  # "Romar Gono, 22, a member of the unit, was killed"
    digits = q.text.replace(",", "")
    return len(digits) == 4 and digits[:2] in ("19", "20") and _YEAR_BEFORE.search(before) is not None


# A sentence that goes on with the tally before it: "Also, four members of the coalition were killed."
_GOES_ON = folded_pattern(
    r"^\W*(?:also|in addition|additionally|moreover|furthermore|among them|of them|of these)\b"
)


def tallies(sentences: list[Sentence]) -> set[str]:
    """The sentences that give totals over a period or many incidents (`_CUMULATIVE`), and those that go on
    with one: "Also, ...", "In addition, ...", or a breakdown right after it (a figure of 50 or more, and no
    day of its own: "The monitors documented the killing of 230 civilians by the cells in ...")."""
    in_tally = _tally_reader(sentences)
    return {sentence.id for index, sentence in enumerate(sentences) if in_tally(index)}


def _tally_reader(sentences: list[Sentence]) -> Callable[[int], bool]:
    """Whether the sentence at an index is one of `tallies`, read back from it only as far as the answer
    needs (a sentence that goes on with the one before is what that one is): `incident_reports` asks only
    about the sentences that state a casualty."""
    known: dict[int, bool] = {}

    def in_tally(index: int) -> bool:
        going_on: list[int] = []
        at = index
        while at not in known:
            folded = cues.folded(sentences[at].text)
            if _CUMULATIVE.search(folded) is not None:
                known[at] = True
            elif at == 0 or not (_GOES_ON.match(folded) or _breakdown(sentences[at].text, folded)):
                known[at] = False
            else:
                going_on.append(at)
                at -= 1
        for later in going_on:
            known[later] = known[at]
        return known[index]

    return in_tally


_DAY_WORD = folded_pattern(
    r"\b(?:today|yesterday|tonight|monday|tuesday|wednesday|thursday|friday|saturday|sunday|morning|evening"
    r"|night|dawn|hours ago)\b"
)


def _breakdown(text: str, folded: str) -> bool:
    if _DAY_WORD.search(folded):
        return False
    return any((q.best or q.low or 0) >= 50 for q in find_quantities(text))


def other_incident(sentence: Sentence) -> bool:
    """Does the sentence tell of another incident ("in a separate attack", "in another raid")?"""
    return _OTHER_INCIDENT.search(cues.folded(sentence.text)) is not None


def incident_reports(sentences: list[Sentence], attributions: dict[str, list[Attribution]]) -> list[Report]:
    """The casualty figures of the sentences that give no tally (`tallies`), each with the sentence's first
    source (`sources.find_attributions`)."""
    in_tally = _tally_reader(sentences)
    return [
        report
        for index, sentence in enumerate(sentences)
        if _may_state_casualties(sentence) and not in_tally(index)
        for report in _reports(sentence, next(iter(attributions.get(sentence.id, ())), None))
    ]


def _may_state_casualties(sentence: Sentence) -> bool:
    """A casualty word, in a sentence that is not background ("since 2011")."""
    return _CASUALTY_STEM.search(cues.folded(sentence.text)) is not None and not cues.is_background(
        sentence.text
    )


def reports_in(sentence: Sentence, source: Attribution | None) -> list[Report]:
    """Every casualty figure a sentence states; background sentences ("since 2011") state none. Tallies
    (`_CUMULATIVE`) are left out by `incident_reports`, which reads them only where a figure may be."""
    return _reports(sentence, source) if _may_state_casualties(sentence) else []


def _reports(sentence: Sentence, source: Attribution | None) -> list[Report]:
    """`reports_in` once the sentence may state a casualty (`_may_state_casualties`)."""
    text = sentence.text
    pending: list[tuple[Quantity, str, Kind | None, int]] = []
    folded = cues.folded(text)  # for the lower-case patterns; same offsets as `text`
    earlier = _EARLIER_INCIDENT.search(folded)
    quantities = _quantities(text, folded)
    subgroup_end = 0
    for index, q in enumerate(quantities):
        if earlier is not None and q.start >= earlier.start():
            break
        # the next count a subject's words may not hold: any, after "a"/"an"; a numeral, after a numeral
        # ("Four members of an elite unit were killed")
        next_start = next(
            (
                other.start
                for other in quantities[index + 1 :]
                if fold_case(q.text) in ("a", "an") or fold_case(other.text) not in ("a", "an")
            ),
            len(text),
        )
        before, after = folded[max(0, q.start - 40) : q.start], folded[q.end :]
        if _SUBGROUP.search(before) or (
            subgroup_end and _SUBGROUP_GOES_ON.fullmatch(folded[subgroup_end : q.start])
        ):
            subgroup_end = q.end  # "including 17 children and 11 women": both are among those counted
            continue
        if _NOT_A_COUNT.match(text[q.end :]) or _not_a_count(q, before, text):
            continue
        group, np_end = _noun_phrase(text[q.end :])
        singular = fold_case(q.text) in ("a", "an")
        kind, verb_end = _kind_at(q, text, folded, np_end, singular, next_start)
        if kind is not None and not group and verb_end:
            tail = _GROUP_TAIL.match(text[q.end + verb_end :])
            group = tail.group("g") if tail else ""
        if kind is not None and _NEGATED.search(before):
            q = Quantity(q.text, q.start, q.end, 0, 0, 0)
        # Joined to the next count: by a comma or "and" when this count waits for the verb after it; only by
        # "and" when it hands on the verb before it ("killing 12 others, a rights group said" is no list).
        joiner = _CONJOINED if kind is None else _AND_JOINED
        joint = joiner.match(after[np_end:]) if group and (kind is None or verb_end == 0) else None
        pending.append((q, group, kind, q.end + np_end + joint.end() if joint else -1))
    # "Five soldiers, two policemen and three civilians were killed": a count joined to the next one shares
    # its verb; "killed ten soldiers and a driver": a count joined to the one before shares the verb before.
    for i in range(len(pending) - 2, -1, -1):
        q, group, kind, joined_at = pending[i]
        following = pending[i + 1]
        if (
            kind is None
            and joined_at >= 0
            and following[2] is not None
            and following[0].start <= joined_at + 1
        ):
            pending[i] = (q, group, following[2], -1)
    for i in range(1, len(pending)):
        q, group, kind, joined_at = pending[i]
        previous = pending[i - 1]
        if kind is None and previous[2] is not None and previous[3] >= 0 and q.start <= previous[3] + 1:
            pending[i] = (q, group, previous[2], joined_at)
    found: list[Report] = []
    last_group = "people"
    for q, group, kind, _ in pending:
        if kind is None or (group and fold_case(group).split()[-1] in _THINGS):
            continue
        if q.vague and (q.low or 0) >= 100 and _PERFECT.search(folded):
            continue
        if (
            not group
            or fold_case(group) in ("others", "more", "other", "other people")
            or fold_case(q.text) == "another"
        ):
            group = last_group if not group or fold_case(group) in ("others", "more", "other") else group
        last_group = group
        found.append(Report(sentence, kind, _range(q), group, source))
    if not found and (_ONE_VICTIM.search(text) or _named_death(text)):
        found.append(Report(sentence, "killed", Range(low=1, best=1, high=1), "person", source))
    if not found and _NO_DEATHS.search(folded):
        found.append(Report(sentence, "killed", Range(low=0, best=0, high=0), "people", source))
    return found
