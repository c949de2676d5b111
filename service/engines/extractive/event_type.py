"""ACLED event type and sub-type from weighted cue words.

Each cue votes for one (type, sub-type); votes count more in the opening sentences (where news states what
happened) and less in background ones; a negated cue ("not caused by shooting") does not vote. A non-violent
confrontation — patrols blocking or ramming each other, a collision — is strategic_developments / other
unless shots, strikes or deaths outvote it.
"""

from __future__ import annotations

import re
from collections import defaultdict

from service.article import Sentence
from service.engines.extractive import cues
from service.engines.extractive.casefold import folded_pattern
from service.schema import SUB_EVENT_TYPES

# Security forces as the target of an attack: an armed clash, unless a bomb, shell or strike was the means
# (then the remote violence is what ACLED codes). Not a sub-type of its own: `classify` settles it.
_SECURITY_TARGET = "security_target"
_CUES: tuple[tuple[str, str, str, float], ...] = (
    (r"clash(?:es|ed)?|fighting|firefight|gun ?battles?|shoot-?outs?|exchange(?:d)? (?:of )?fire|returned fire"
     r"|came under fire|armed (?:incident|confrontation)|skirmish(?:es)?|fierce battles?|engaged|fought",
     "battles", "armed_clash", 3.0),
    (r"ambush(?:ed)?|attacked (?:a|an|the)? ?(?:military|army|police|security) (?:base|post|checkpoint|convoy"
     r"|position|patrol|outpost)", "battles", "armed_clash", 2.0),
    (r"(?:seized|captured|took control of|overran|taken over)", "battles", "non_state_actor_overtakes_territory",
     1.2),
    (r"(?:recaptured|retook|regained control|liberated)", "battles", "government_regains_territory", 2.0),
    (r"air ?strikes?|airstrikes?|air raids?|drone (?:strikes?|attacks?)|warplanes|bombed by (?:jets|aircraft)"
     r"|helicopter gunships?|struck by (?:a )?drones?", "explosions_remote_violence", "air_drone_strike", 2.5),
    (r"shell(?:ing|ed|s)|artillery|mortars?|rockets?|missiles?|katyusha|bombardments?|barrages?",
     "explosions_remote_violence",
     "shelling_artillery_missile_attack", 2.2),
    (r"\bieds?\b|roadside bombs?|landmines?|land mines?|car bombs?|improvised explosive|explosive device"
     r"|bomb (?:exploded|went off|blast)|explosion|blast", "explosions_remote_violence",
     "remote_explosive_landmine_ied", 2.0),
    (r"suicide (?:bomber|bombing|attack|vest|car bomb)s?", "explosions_remote_violence", "suicide_bomb", 4.0),
    (r"grenades?", "explosions_remote_violence", "grenade", 2.5),
    (r"(?:killed|killing|shot|shooting|attacked|massacred|executed|slaughtered|opened fire on|fired on)"
     r" (?:\w+ ){0,3}(?:civilians|villagers|residents|customers|patrons|shoppers|mourners|bystanders|revellers"
     r"|worshippers|farmers|passengers|children|women)|massacre|gunmen (?:attacked|stormed|raided)"
     r"|attack on (?:a |the )?(?:village|market|mosque|church|school)", "violence_against_civilians", "attack", 2.5),
    (r"abduct(?:ed|ion|s)?|kidnap(?:ped|ping|s)?|hostages?|forcibly disappeared", "violence_against_civilians",
     "abduction_forced_disappearance", 2.5),
    (r"raped?|sexual violence|sexual assault", "violence_against_civilians", "sexual_violence", 3.0),
    (r"protest(?:s|ers|ed)?|demonstrat(?:ors|ion|ions|ed)|rall(?:y|ies)|sit-in", "protests", "peaceful_protest",
     1.5),
    (r"(?:killed|shot dead|opened fire on|fired (?:[\w-]+ ){0,5}(?:on|at)) (?:\w+ ){0,2}(?:protesters|demonstrators)"
     r"|(?:protesters?|demonstrators?) (?:was|were) (?:shot|killed)", "protests",
     "excessive_force_against_protesters", 4.0),
    (r"(?:dispersed|arrested) (?:\w+ ){0,3}(?:protesters|demonstrators|the crowd|the protest)|tear gas"
     r"|water cannons?|rubber bullets|baton charge", "protests",
     "protest_with_intervention", 3.0),
    (r"riot(?:s|ed)?(?! police| squad)|pelted (?:\w+ )?stones", "riots", "violent_demonstration", 2.0),
    (r"\bmob\b|lynch(?:ed|ing)?", "riots", "mob_violence", 2.5),
    (r"arrested|detained|apprehended|rounded up", "strategic_developments", "arrests", 1.2),
    (r"ceasefire (?:agreement|deal)|peace (?:deal|agreement)|signed (?:an?|the) (?:agreement|deal)|truce",
     "strategic_developments", "agreement", 2.0),
    (r"collision|collided|rammed|ramming|sideswip\w+|(?:prevent|block)(?:ed|ing)? (?:the )?(?:passage|road|patrol"
     r"|convoy)|stand-?off|vehicle (?:accident|incident)|accident", "strategic_developments", "other", 3.0),
    (r"defused|dismantled (?:an? )?(?:ied|bomb|explosive)|seized (?:weapons|explosives|arms)",
     "strategic_developments", "disrupted_weapons_use", 2.0),
    (r"looted|looting|set (?:fire|ablaze) (?:to )?(?:houses|homes|shops)|burned (?:down )?(?:houses|homes)",
     "strategic_developments", "looting_property_destruction", 1.5),
    (r"opened fire|gunfire|shooting|shots were fired|fired (?:on|at)", "battles", "armed_clash", 1.0),
    # Victims that are not combatants, and gunmen with no armed opponent: violence against civilians (a
    # clash or a strike in the same story outvotes it, see `classify`).
    (r"(?:killed|killing|kills|shot dead|shooting dead|gunned down|shot|shooting|attacked|massacred|executed"
     r"|hacked to death|stabbed) (?:[\w,-]+ ){0,3}(?:people|persons|guests|students|pupils|teachers|traders"
     r"|vendors|travell?ers|motorists|herders|fishermen|miners|workers|labou?rers|relatives|family members"
     r"|victims|villager|civilian|resident|farmer|man|woman|boy|girl|child|teenager|worshipper|pilgrims?"
     r"|doctors?|nurses?|journalists?|aid workers?)\b", "violence_against_civilians", "attack", 2.0),
    (r"gunm[ae]n|shooters?|mass shooting|shooting (?:spree|rampage)|rampage|opened fire (?:on|at|in|inside)"
     r" (?:a |an |the )?(?:[\w-]+ ){0,2}(?:crowd|market|wedding|bus|school|mosque|church|bar|club|party"
     r"|festival|mall|restaurant|hotel|funeral)", "violence_against_civilians", "attack", 1.5),
    # Security forces as the targets: an armed engagement, whoever started it.
    (r"(?:killed|killing|kills|shot dead|shooting dead|gunned down|ambushed|attacked) (?:[\w,-]+ ){0,3}"
     r"(?:soldiers?|troops|servicemen|police(?:men|man)?|police officers?|officers|guards|personnel"
     r"|gendarmes|militiamen|fighters)\b"
     r"|(?:targeted|stormed|raided|assaulted|overran) (?:a |an |the )?(?:[\w-]+ ){0,2}(?:military|army|police"
     r"|security) (?:base|post|camp|station|checkpoint|barracks|convoy|outpost)"
     r"|(?:assault|raid|attack) on (?:a |an |the )?(?:[\w-]+ ){0,2}(?:military|army|police|security)"
     r" (?:base|post|camp|station|checkpoint|barracks|convoy|outpost)", "battles", _SECURITY_TARGET, 2.0),
    (r"(?:with|planted|detonated|packed with|laden with) explosives|explosives-laden", "explosions_remote_violence",
     "remote_explosive_landmine_ied", 2.0),
    (r"(?:israeli|russian|ukrainian|american|u\.s\.|us|turkish|saudi|coalition|military|army|enemy)"
     r" strikes?|strikes? (?:on|hit|killed|targeted|struck)", "explosions_remote_violence", "air_drone_strike", 2.0),
    (r"rioters|rioting|violent (?:protesters|mob|crowd)|stone[- ]pelting|(?:hurled|threw|pelted) stones"
     r"|communal (?:clash(?:es)?|violence|riots?)", "riots", "violent_demonstration", 3.5),
)  # fmt: skip
# Words without which a cue cannot match: a cue's pattern runs only on sentences with a word (of `cues.words`)
# that begins with one of its triggers (a trigger of several words counts by its first), which keeps
# classification cheap. Each alternative of a cue has a trigger as a literal word that opens the match or
# follows a space in it, so that a word of the sentence begins with the trigger wherever the cue matches.
# The rarer that word, the fewer sentences the pattern runs on: "attacked civilians" is looked for only where
# "civilians" is, not wherever "attacked" or "kill" is.
_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("clash", "fighting", "firefight", "gunbattle", "battle", "shoot", "exchange", "returned", "came", "armed",
     "skirmish", "engaged", "fought"),
    ("ambush", "attacked"),
    ("seized", "captured", "took control", "overran", "taken over"),
    ("recaptured", "retook", "regained", "liberated"),
    ("air", "strike", "drone", "warplane", "bombed", "helicopter"),
    ("shell", "artillery", "mortar", "rocket", "missile", "katyusha", "bombardment", "barrage"),
    ("ied", "bomb", "mine", "landmine", "explosi", "device", "blast"),
    ("suicide",),
    ("grenade",),
    ("civilians", "villagers", "residents", "customers", "patrons", "shoppers", "mourners", "bystanders",
     "revellers", "worshippers", "farmers", "passengers", "children", "women", "massacre", "gunmen", "village",
     "market", "mosque", "church", "school"),
    ("abduct", "kidnap", "hostage", "disappeared"),
    ("rape", "sexual"),
    ("protest", "demonstrat", "rall", "sit-in"),
    ("protest", "demonstrat"),
    ("dispersed", "tear gas", "water cannon", "rubber bullets", "arrested", "baton"),
    ("riot", "pelted"),
    ("mob", "lynch"),
    ("arrest", "detain", "apprehend", "rounded up"),
    ("agreement", "deal", "truce"),
    ("collision", "collided", "rammed", "ramming", "sideswip", "prevent", "block", "stand", "vehicle", "accident"),
    ("defused", "dismantled", "seized"),
    ("loot", "set fire", "ablaze", "burned"),
    ("opened", "gunfire", "shooting", "shots", "fired"),
    ("people", "persons", "guests", "students", "pupils", "teachers", "traders", "vendors", "travel", "motorists",
     "herders", "fishermen", "miners", "workers", "labo", "relatives", "family", "victims", "villager",
     "civilian", "resident", "farmer", "man", "woman", "boy", "girl", "child", "teenager", "worshipper",
     "pilgrim", "doctor", "nurse", "journalist", "aid"),
    ("gunm", "shooter", "mass", "shooting", "rampage", "opened"),
    ("soldier", "troops", "servicemen", "police", "officer", "guards", "personnel", "gendarmes", "militiamen",
     "fighters", "base", "post", "camp", "station", "checkpoint", "barracks", "convoy", "outpost"),
    ("explosives",),
    ("strike",),
    ("rioters", "rioting", "violent", "stone", "communal"),
)  # fmt: skip
# The cue patterns are lower case (their "IED" matches "ied" too) and run on the case-folded sentence
# (`casefold`): the matches of re.IGNORECASE at a third of the cost.
_COMPILED = tuple((folded_pattern(rf"\b(?:{p})"), t, s, w) for p, t, s, w in _CUES)
_CUES_BY_STEM: dict[str, set[int]] = {}
for _index, _triggers in enumerate(_TRIGGERS):
    for _trigger in _triggers:
        _CUES_BY_STEM.setdefault(re.split(r"[ -]", _trigger)[0], set()).add(_index)
_STEMS_BY_HEAD: dict[str, list[str]] = {}
for _stem in _CUES_BY_STEM:
    if not re.fullmatch(r"[a-z0-9]{3,}", _stem):  # `_candidate_cues` looks up words by their first 3 letters
        raise ValueError(f"a trigger must begin with a word of 3 letters or more: {_stem!r}")
    _STEMS_BY_HEAD.setdefault(_stem[:3], []).append(_stem)
_HEADS = frozenset(_STEMS_BY_HEAD)


def _candidate_cues(text: str) -> list[int]:
    """Indexes of the cues whose trigger words begin a word of `text`, in cue order. The words are
    `cues.words` (cached: the actor rules split the same sentences), each looked up by its first three
    letters, which every trigger has."""
    found: set[int] = set()
    for word in cues.words(text):
        head = word[:3]
        if head in _HEADS:
            for stem in _STEMS_BY_HEAD[head]:
                if word.startswith(stem):
                    found.update(_CUES_BY_STEM[stem])
    return sorted(found)


_NEGATED = folded_pattern(r"\b(?:not|no|never|without|neither|nor)\b(?:\s+\w+){0,3}\s*$")
_ARMED = re.compile(
    r"\b(?:soldiers|troops|forces|army|police|militants|fighters|rebels|militia\w*|patrol)\b", re.I
)


def _weight(position: int) -> float:
    return 2.5 if position == 0 else 1.6 if position < 3 else 1.0 if position < 8 else 0.6


def classify(sentences: list[Sentence], killed: int = 0) -> tuple[str, str | None]:
    """(event_type, sub_event_type) with the sub-type always one of the type's own."""
    by_sub: dict[tuple[str, str], float] = defaultdict(float)
    for position, sentence in enumerate(sentences):
        text = sentence.text
        candidates = _candidate_cues(text)
        if not candidates:
            continue  # no cue can match: the sentence casts no vote
        factor = _weight(position) * (0.4 if cues.is_background(text) else 1.0)
        folded = cues.folded(text)
        # Overlapping cues: the longest phrase votes ("fired tear gas at protesters" over "protesters").
        matches = [
            (m, _COMPILED[index]) for index in candidates for m in _COMPILED[index][0].finditer(folded)
        ]
        taken: list[tuple[int, int]] = []
        for m, (_, event_type, sub_type, weight) in sorted(
            matches, key=lambda item: item[0].start() - item[0].end()
        ):
            if any(start < m.end() and m.start() < end for start, end in taken):
                continue
            taken.append(m.span())
            if not _NEGATED.search(folded[max(0, m.start() - 40) : m.start()]):
                by_sub[(event_type, sub_type)] += weight * factor
    if not by_sub:
        return "other", None
    # An attack on security forces is a clash, or the remote violence that hit them.
    target = by_sub.pop(("battles", _SECURITY_TARGET), 0.0)
    if target:
        means = [key for key in by_sub if key[0] == "explosions_remote_violence" and by_sub[key] > 0]
        if means and sum(by_sub[key] for key in means) >= 0.5 * target:
            by_sub[max(means, key=lambda key: by_sub[key])] += target
        else:
            by_sub[("battles", "armed_clash")] += target
    # Violence against civilians needs no armed opponent; an attack on civilians amid a clash is a battle.
    if (
        by_sub[("violence_against_civilians", "attack")]
        and by_sub[("battles", "armed_clash")] > by_sub[("violence_against_civilians", "attack")]
    ):
        by_sub[("battles", "armed_clash")] += by_sub.pop(("violence_against_civilians", "attack"))
    # Civilians killed by a strike, shell or bomb: ACLED codes the remote violence, not the attack on them.
    remote = [key for key in by_sub if key[0] == "explosions_remote_violence" and by_sub[key] > 0]
    attack = by_sub.get(("violence_against_civilians", "attack"), 0.0)
    if remote and attack and sum(by_sub[key] for key in remote) >= 0.5 * attack:
        strongest = max(remote, key=lambda key: by_sub[key])
        by_sub[strongest] += by_sub.pop(("violence_against_civilians", "attack"))
    if killed and ("strategic_developments", "other") in by_sub:
        by_sub[("strategic_developments", "other")] *= 0.3  # deaths make it more than a confrontation
    if ("battles", "non_state_actor_overtakes_territory") in by_sub and not any(
        _ARMED.search(s.text) for s in sentences[:3]
    ):
        del by_sub[("battles", "non_state_actor_overtakes_territory")]
    # Force against a protest qualifies the protest: it decides the sub-type whenever it is reported.
    for qualified in ("excessive_force_against_protesters", "protest_with_intervention"):
        if by_sub.get(("protests", qualified), 0.0) > 0:
            by_sub[("protests", qualified)] += by_sub.pop(("protests", "peaceful_protest"), 0.0)
            break
    by_sub = {key: score for key, score in by_sub.items() if score > 0}  # look-ups above added zeros
    if not by_sub:
        return "other", None
    by_type: dict[str, float] = defaultdict(float)
    for (kind, _), score in by_sub.items():
        by_type[kind] += score
    chosen = max(by_type, key=lambda kind: by_type[kind])
    subs = [(score, sub) for (kind, sub), score in by_sub.items() if kind == chosen]
    best_sub: str | None = max(subs)[1] if subs else None
    if best_sub is not None and best_sub not in SUB_EVENT_TYPES[chosen]:
        best_sub = None
    return chosen, best_sub
