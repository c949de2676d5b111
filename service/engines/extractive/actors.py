"""The parties to the incident, with ACLED's actor kinds and the role each plays.

Two kinds of mention: named groups from `service/data/armed_groups.json` ("Boko Haram", "National Defense
Forces", "SDF"), and a modifier + head noun ("Russian military police", "pro-government militias", "US
soldiers", "unidentified gunmen"). The head says the kind (soldiers -> state forces, militia -> political
militia, gunmen -> unidentified armed group, coded by ACLED as a political militia); a nationality other than
the incident country's makes state forces external forces (US troops in Syria). Mentions of one party (same
kind, nationality and unit) merge; the words around each mention vote for its role.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.gazetteer import Gazetteer
from service.schema import Actor
from service.text.alternation import by_first_letter
from service.text.fold import fold_case, folded_pattern

_HEADS: dict[str, tuple[str, str]] = {}
for _kind, _family, _words in (
    ("state_forces", "forces", "forces troops soldiers soldier army military servicemen personnel marines "
     "paratroopers commandos gendarmes gendarmerie patrol patrols convoy regime government"),
    ("state_forces", "police", "police policemen police officers"),
    ("state_forces", "military police", "military police"),
    ("state_forces", "air force", "air force warplanes jets aircraft helicopters drones drone"),
    ("state_forces", "security forces", "security forces"),
    ("external_forces", "coalition", "coalition"),
    ("political_militia", "militia", "militia militias militiamen paramilitaries vigilantes"),
    ("political_militia", "gunmen", "gunmen gunman assailants attackers bandits armed men unknown persons shooter "
     "gangs gangsters kidnappers raiders suicide bomber"),
    ("rebel_group", "rebels", "rebels insurgents militants jihadists jihadis extremists terrorists fighters "
     "separatists guerrillas"),
    ("civilians", "civilians", "civilians villagers residents children women farmers worshippers students "
     "passengers journalists aid workers pilgrims traders shoppers mourners herders fishermen miners motorists "
     "pupils teachers"),
    ("protesters", "protesters", "protesters demonstrators"),
    ("rioters", "rioters", "rioters mob"),
):  # fmt: skip
    for _word in sorted(set(re.findall(r"military police|police officers|security forces|air force|armed men"
                                       r"|unknown persons|aid workers|suicide bomber|\S+", _words))):  # fmt: skip
        _HEADS[_word] = (_kind, _family)

_IDENTITY = re.compile(r"\b(?:tribal|ethnic|clan|communal|herder|herders|fulani|dozo|identity)\b", re.I)
_PRO_GOV = re.compile(r"\bpro-?\s?government\b|\bloyalist\b", re.I)
_MOD = r"(?:[A-Z][\w'’.\-]*|pro-government|government|regime|state|rebel|armed|unknown|unidentified|local|tribal" \
       r"|ethnic|security|special|federal|national|opposition|suspected|Islamist|jihadist|foreign|allied|enemy" \
       r"|US-led|U\.S\.-led|military|army|coalition)"  # fmt: skip
_HEAD_RE = "|".join(re.escape(h) for h in sorted(_HEADS, key=len, reverse=True))
# Any case ("Soldiers", "TROOPS"): matched on the case-folded sentence (`casefold`), 4x faster than re.I.
_HEAD = folded_pattern(rf"\b(?:{by_first_letter(_HEAD_RE)})\b")  # (grouped by first letter: `alternation`)
_MOD_WORD = re.compile(_MOD)
_LEADING_ARTICLE = re.compile(r"^(?:The|A|An)\s+")


def _modifiers(text: str, start: int) -> tuple[str, int]:
    """Up to three modifier words right before a head noun ("pro-government", "Russian military"), and
    where they start."""
    window = text[max(0, start - 60) : start]
    if window and not window[-1].isspace():
        return "", start
    kept_at = len(window)  # where the earliest modifier kept starts
    for token in reversed(window.split()[-3:]):
        if not _MOD_WORD.fullmatch(token):
            break
        kept_at = window.rfind(token, 0, kept_at)  # (the last run of the window before the words kept)
    if kept_at == len(window):
        return "", start
    offset = max(0, start - 60) + kept_at
    return text[offset:start].strip(), offset


_NEEDS_MODIFIER = frozenset({"forces", "military", "army", "patrol", "patrols", "convoy", "regime", "government",
                             "coalition", "aircraft", "drones", "drone", "jets", "helicopters", "fighters", "personnel",
                             "police officers", "security forces"})  # fmt: skip
# Lower-case patterns, matched on the case-folded sentence (`casefold`).
_ROLE_CUES = (
    ("mediator", folded_pattern(r"\b(?:mediat\w*|negotiat\w*|broker\w*)\b"), "both"),
    (
        "responder",
        folded_pattern(r"^\W*(?:\w+\s+){0,3}(?:returned fire|responded|retaliated|repelled)"),
        "after",
    ),
    (
        "initiator",  # the agent of a passive or of an attack noun: "killed by Taliban fighters", "an attack by ISIS"
        folded_pattern(
            r"\b(?:attack|assault|raid|ambush|strike|shelling|bombing|bombardment|gunfire|offensive|killed|wounded"
            r"|injured|targeted|attacked|shot|abducted|kidnapped|shelled|struck|ambushed|carried out|claimed)\w*"
            r"\s+(?:(?:carried out|staged|launched|committed|perpetrated|conducted|mounted|allegedly|reportedly"
            r"|apparently)\s+)?(?:by|blamed on)\s+(?:\w+\s+){0,2}$"  # not "villages held by the SDF"
        ),
        "before",
    ),
    (
        "target",
        folded_pattern(
            r"(?:attack(?:ed|s)?(?: on)?|against|targeting|targeted|fire on|ambush(?:ed)?|killed"
            r"|killing|wounded|wounding|injured|injuring|struck|shot|abducted|kidnapped|shelled)"
            # the object, not the subject of the next clause ("were killed when militants attacked")
            r"\s+(?:(?!(?:when|as|after|while|because|since|before|until|and|but|where|who|which|that|then|if)\b)"
            r"\w+\s+){0,2}$"
        ),
        "before",
    ),
    (
        "initiator",  # "ISIS fighters attacked": no auxiliary on the way ("soldiers were killed" is passive)
        folded_pattern(
            r"^\W*(?:(?!(?:was|were|is|are|be|been|being)\b)\w+\s+){0,3}(?:attacked|opened fire|fired|launched"
            r"|targeted|ambushed|stormed|raided|shelled|bombed|struck|killed|abducted|kidnapped|seized|dealt"
            r"|tried to prevent|carried out|hit|blocked|rammed)"
        ),
        "after",
    ),
    (
        "target",
        folded_pattern(
            r"^\W*(?:\w+\s+){0,3}(?:came under|were (?:killed|injured|wounded|attacked|targeted)"
            r"|was (?:killed|injured|wounded|attacked|targeted)|died)"
        ),
        "after",
    ),
)
_MAX_ACTORS = 8
_LEDE = 3  # a party named in the first sentences counts even where no incident word is


@dataclass
class _Party:
    kind: str
    affiliation: str | None
    family: str
    names: Counter[str] = field(default_factory=Counter)
    sentences: dict[str, str] = field(default_factory=dict)  # name -> first sentence id naming it
    # where it is named: (case-folded sentence, start, end); read for its role only if the party is kept
    mentions: list[tuple[str, int, int]] = field(default_factory=list)
    first: int = 10**9
    in_incident: bool = False


class ActorLexicon:
    """Named groups compiled once per engine (from package data), and the country lookups actors need."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        data = json.loads(resources.files("service").joinpath("data", "armed_groups.json").read_text("utf-8"))
        self._gazetteer = gazetteer
        self._groups: dict[str, tuple[str, str | None]] = {}
        self._canonical: dict[str, str] = {}
        names = []
        for group in data["groups"]:
            for name in group["names"]:
                self._groups[fold_case(name)] = (group["kind"], group["affiliation"])
                self._canonical[fold_case(name)] = group["names"][0]
                names.append(name)
        self._ordered = sorted(names, key=len, reverse=True)  # the longest name wins where several match
        self._named = self._pattern(self._ordered)
        # The longest word of every name: a sentence without one of them names no group.
        self._key = {name: max(re.findall(r"[a-z0-9]+", name.lower()), key=len) for name in names}
        self._keys = frozenset(self._key.values())
        self._by_keys: dict[frozenset[str], re.Pattern[str]] = {}

    @staticmethod
    def _pattern(ordered: list[str]) -> re.Pattern[str]:
        upper = "|".join(re.escape(n) for n in ordered if n.isupper()) or "(?!)"
        mixed = "|".join(re.escape(n) for n in ordered if not n.isupper()) or "(?!)"
        return re.compile(rf"(?<![\w-])(?:(?P<upper>{upper})|(?P<mixed>(?i:{mixed})))(?!\w)")

    def _pattern_for(self, text: str) -> re.Pattern[str] | None:
        """The named-group pattern for `text`, None when it names no group.

        A name can match only where its key word is one of the sentence's words, so the pattern is built
        from those names alone (in the same order: the same matches), once per set of key words: two or
        three alternatives instead of 156 tried at every word. Where the text has one of the characters
        re.IGNORECASE equates with an ASCII letter but `str.lower` does not ("ſ", "ı", "İ", the Kelvin
        sign), the key test can miss a match, so the full pattern runs, as it always did."""
        present = self._keys.intersection(cues.words(text))
        if not present:
            return None
        if not text.isascii() and any(ch in text for ch in "\u0130\u0131\u017f\u212a"):
            return self._named
        pattern = self._by_keys.get(present)
        if pattern is None:
            pattern = self._pattern([n for n in self._ordered if self._key[n] in present])
            if len(self._by_keys) < 4096:
                self._by_keys[present] = pattern
        return pattern

    def nationality(self, words: str) -> str | None:
        return self._gazetteer.nationality(words)

    def country_name(self, code: str) -> str | None:
        place = self._gazetteer.country(code)
        return place.name if place else None

    def group_of(self, text: str) -> str | None:
        """The first named armed group in `text`, by its canonical (first) name: "Houthi-run Saba" -> "Houthis"."""
        pattern = self._pattern_for(text)
        m = pattern.search(text) if pattern is not None else None
        return self._canonical[fold_case(m.group(0))] if m else None  # "İslamic State" is "islamic state"

    def named(self, text: str) -> list[tuple[int, int, str, str, str | None]]:
        """(start, end, name, kind, affiliation) of every named group in `text`."""
        pattern = self._pattern_for(text)
        if pattern is None:
            return []
        return [
            (
                m.start(),
                m.end(),
                m.group(0),
                *self._groups[fold_case(m.group(0))],
            )  # as the pattern matched it: "ſ" is "s"
            for m in pattern.finditer(text)
        ]


def _role(folded: str, start: int, end: int) -> str:
    """The role the words around a mention (in the case-folded sentence) give it."""
    before, after = folded[max(0, start - 50) : start], folded[end : end + 60]
    for role, pattern, side in _ROLE_CUES:
        if side == "both" and pattern.search(folded[max(0, start - 60) : end + 60]):
            return role
        if (side == "after" and pattern.search(after)) or (side == "before" and pattern.search(before)):
            return role
    return "other"


def find_actors(sentences: list[Sentence], lexicon: ActorLexicon, incident_cc: str | None) -> list[Actor]:
    parties: dict[tuple[str, str | None, str], _Party] = {}
    for position, sentence in enumerate(sentences):
        text = sentence.text
        if cues.is_background(text) and not cues.incident_hits(text):
            continue
        folded = cues.folded(text)
        in_incident = cues.incident_hits(text) > 0
        spans: list[tuple[int, int]] = []
        for start, end, name, kind, cc in lexicon.named(text):
            spans.append((start, end))
            family = "coalition" if "coalition" in name.lower() else f"named:{name.lower()}"
            _note(parties, kind, cc, family, name, sentence, position, (folded, start, end))
            parties[(kind, cc, family)].in_incident |= in_incident
        for m in _HEAD.finditer(folded):
            head = text[m.start() : m.end()]
            mods, begin = _modifiers(text, m.start())
            if any(s < m.end() and begin < e for s, e in spans):
                continue
            kind, family = _HEADS[fold_case(head)]  # as the pattern matched it
            if not mods and head.lower() in _NEEDS_MODIFIER:
                continue
            cc = lexicon.nationality(mods) if mods else None
            if "coalition" in mods.lower():
                kind, family = "external_forces", "coalition"
            if kind == "state_forces" and _PRO_GOV.search(mods):
                kind, family = "political_militia", "militia"
            if kind == "political_militia" and _IDENTITY.search(mods):
                kind = "identity_militia"
            if kind in ("state_forces", "external_forces") and cc and incident_cc:
                kind = "state_forces" if cc == incident_cc else "external_forces"
            name = f"{mods} {head}".strip() if mods else head
            name = _LEADING_ARTICLE.sub("", name)
            _note(parties, kind, cc, family, name, sentence, position, (folded, begin, m.end()))
            parties[(kind, cc, family)].in_incident |= in_incident
    kept = [
        p
        for p in _merge_unattributed(parties)
        if p.in_incident or sum(p.names.values()) > 1 or p.first < _LEDE
    ]
    ranked = sorted(kept, key=lambda p: (-sum(p.names.values()), p.first))[:_MAX_ACTORS]
    return [_actor(p, lexicon) for p in ranked]


def _merge_unattributed(parties: dict[tuple[str, str | None, str], _Party]) -> list[_Party]:
    """Unattributed "troops" or "the coalition" are the article's one attributed party of that unit, if
    there is exactly one; with several (US and Russian forces) they could be anyone's and are dropped."""
    kept: list[_Party] = []
    for party in parties.values():
        if party.affiliation is not None or party.family not in ("forces", "coalition"):
            kept.append(party)
            continue
        owners = [p for p in parties.values() if p.affiliation is not None and p.family == party.family]
        if len(owners) == 1:
            owner = owners[0]
            owner.names.update(party.names)
            for name, sid in party.sentences.items():
                owner.sentences.setdefault(name, sid)
            owner.mentions.extend(party.mentions)
            owner.first = min(owner.first, party.first)
            owner.in_incident |= party.in_incident
        elif not owners:
            kept.append(party)
    return kept


def _note(parties: dict[tuple[str, str | None, str], _Party], kind: str, cc: str | None, family: str, name: str,
          sentence: Sentence, position: int, mention: tuple[str, int, int]) -> None:  # fmt: skip
    party = parties.get((kind, cc, family))
    if party is None:  # (not `setdefault`, which would build a party, its counters and all, every time)
        party = parties[(kind, cc, family)] = _Party(kind, cc, family)
    party.names[name] += 1
    party.sentences.setdefault(name, sentence.id)
    party.mentions.append(mention)
    party.first = min(party.first, position)


def _actor(party: _Party, lexicon: ActorLexicon) -> Actor:
    name = max(party.names, key=lambda n: (party.names[n], len(n)))
    counted = Counter(_role(*mention) for mention in party.mentions)
    roles = [r for r, _ in counted.most_common() if r != "other"]
    role = roles[0] if roles else "other"
    if "initiator" in counted and "target" in counted and counted["initiator"] >= counted["target"]:
        role = "initiator"
    affiliation = lexicon.country_name(party.affiliation) if party.affiliation else None
    citations = list(dict.fromkeys([party.sentences[name], *party.sentences.values()]))[:3]
    return Actor(name=name, kind=party.kind, role=role, affiliation=affiliation, citations=citations)
