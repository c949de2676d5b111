"""The extractive engine's speed-ups change no answer: each fast path is checked against the slow way it
replaces, on the gold articles' sentences, their upper-case and odd-letter variants, and made-up edge cases.

- case folding: lower-case patterns on `fold_case(text)` match exactly where re.IGNORECASE matches on `text`;
- first-letter classes and sentence prefilters never hide a match;
- incident words in a window are counted from the sentence's matches, as a scan of the window counts them;
- named armed groups are found by a pattern built from the names the sentence can hold, as by the full one;
- the gazetteer never lists a place twice under one name (its look-ups return buckets as they are);
- the order of disputes does not depend on the process's hash seed.
"""

from __future__ import annotations

import random
import re
import sys

import pytest

from service.article import ArticleIn, prepare
from service.engines.extractive import (
    ExtractiveEngine,
    actors,
    casualties,
    claims,
    cues,
    date_forms,
    event_type,
    place_mentions,
    source_phrases,
)
from service.engines.extractive.casualties import incident_reports
from service.engines.extractive.casualty_tally import tally
from service.engines.extractive.sentences import citable
from service.engines.extractive.sources import find_attributions
from service.text import fold, numbers
from service.text.fold import fold_case, folded_pattern
from tests.conftest import gold_sentences_and_variants, match_spans

# --- case folding -----------------------------------------------------------------------------------


def _all_characters() -> str:
    return "".join(chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


@pytest.mark.parametrize("table", [fold._ODD_CASES])
def test_the_odd_cases_are_every_character_ignorecase_equates_with_an_ascii_letter(
    table: dict[str, str],
) -> None:
    everything = _all_characters()
    found = {
        ch: letter for letter in "abcdefghijklmnopqrstuvwxyz" for ch in re.findall(letter, everything, re.I)
    }
    assert found == table


def test_fold_case_keeps_length_offsets_and_word_characters() -> None:
    for text in [*gold_sentences_and_variants(), "\u0130stanbul \u0131s \u017fo \u212aelvin", "ÀÉÎ ǅ ß ﬁ"]:
        folded = fold_case(text)
        assert len(folded) == len(text)
        assert [c.isalnum() for c in folded] == [c.isalnum() for c in text]
        assert fold_case(text[5:40]) == folded[5:40]
    assert fold_case("\u0130stanbul, \u017fAID \u212aelvin") == "istanbul, said kelvin"


# Every lower-case pattern the engine matches on folded text, and the re.IGNORECASE pattern it stands for.
_FOLDED = [
    (module.__name__.rsplit(".", 1)[-1] + "." + name, getattr(module, name))
    for module, names in [
        (cues, ["_INCIDENT_FOLDED", "_BACKGROUND_FOLDED", "_HAPPENED_FOLDED"]),
        (place_mentions, ["_BEFORE_SITE", "_BEFORE_ATTACK", "_BEFORE_ORIGIN", "_BEFORE_REFERENCE",
                          "_TYPE_BEFORE", "_TYPE_AFTER"]),
        (actors, ["_HEAD"]),
        (casualties, ["_PASSIVE", "_ACTIVE", "_LEFT_STATE", "_TOLL", "_COUNT_NOUN", "_NP_STOP", "_SUBGROUP",
                      "_SINGULAR", "_NEGATED", "_CONJOINED", "_CASUALTY_WORD", "_MIXED_BEFORE", "_MIXED_AFTER",
                      "_EARLIER_INCIDENT", "_AND_JOINED"]),
        (claims, ["_ACCUSE", "_DEFEND"]),
        (date_forms, ["_ANY_CASE_DATE"]),
        (event_type, ["_NEGATED"]),
        (numbers, ["_QUANTITY", "_ONE", "_NEGATION"]),
    ]
    for name in names
] + [
    (f"actors._ROLE_CUES[{i}]", pattern) for i, (_, pattern, _) in enumerate(actors._ROLE_CUES)
] + [
    (f"event_type._CUES[{i}]", cue.pattern) for i, cue in enumerate(event_type._CUES)
]  # fmt: skip


@pytest.mark.parametrize(("name", "pattern"), _FOLDED, ids=[name for name, _ in _FOLDED])
def test_a_folded_pattern_matches_where_ignorecase_does(name: str, pattern: re.Pattern[str]) -> None:
    assert not pattern.flags & re.IGNORECASE, name
    reference = re.compile(pattern.pattern, re.IGNORECASE)
    rng = random.Random(name)
    for text in gold_sentences_and_variants():
        assert match_spans(pattern, fold_case(text)) == match_spans(reference, text), text
        a = rng.randrange(len(text) + 1)
        window = text[a : a + rng.randrange(1, 80)]  # the rules also match on windows and word by word
        assert match_spans(pattern, fold_case(window)) == match_spans(reference, window), window
    assert folded_pattern(pattern.pattern).pattern == pattern.pattern


def test_a_folded_pattern_must_be_lower_case_without_inline_flags() -> None:
    for bad in [r"\bIED\b", r"(?i:killed)", r"(?i)killed", r"[A-Z]\w+"]:
        with pytest.raises(ValueError):
            folded_pattern(bad)
    assert folded_pattern(r"\b(?P<verb>said)\S*\B(?:\W|\D)(?=x)").search("he said: ") is None


def test_engine_helpers_on_folded_text_answer_as_before() -> None:
    for text in gold_sentences_and_variants():
        assert cues.incident_hits(text) == len(cues.INCIDENT.findall(text))
        assert cues.is_background(text) == (cues.BACKGROUND.search(text) is not None)
        assert cues.happened(text) == (cues.HAPPENED.search(text) is not None)


# --- first-letter classes and prefilters ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "prefix", "flags"),
    [
        (date_forms.DATE, r"(?=\d|(?i:[oltedimyhnafs])|[JFMASONDTW])", 0),
        (place_mentions._RUN, f"(?=[{place_mentions._RUN_STARTS}])", 0),
        (source_phrases._VERB, f"(?=[{source_phrases._VERB_LETTERS}])", 0),
        (numbers._QUANTITY, f"(?=[\\d{numbers._FIRST_LETTERS}])", re.IGNORECASE),
    ],
    ids=["date", "place run", "reporting verb", "quantity"],
)
def test_a_first_letter_class_changes_no_match(pattern: re.Pattern[str], prefix: str, flags: int) -> None:
    assert prefix in pattern.pattern
    without = re.compile(pattern.pattern.replace(prefix, "", 1), flags)
    extra = ["on Monday, Aug. 25, 2021 at 5:30", "In April 2020 (ANI) – one day ago", "the al-Bab area"]
    for text in [*gold_sentences_and_variants(), *extra]:
        subject = fold_case(text) if flags else text
        assert match_spans(pattern, subject) == match_spans(without, subject), text


def test_a_sentence_the_date_prefilter_skips_has_no_date() -> None:
    phrases = ["yesterday", "TONIGHT", "this Morning", "overnight", "last week", "two days ago", "Sunday",
               "the day before", "in March", "mid-August", "Sept. 4", "2021-08-09", "25/08/2020", "earlier today"]  # fmt: skip
    for text in [*gold_sentences_and_variants(), *phrases, *(p.upper() for p in phrases)]:
        if date_forms.DATE.search(text):
            assert date_forms.may_have_date(text), text
    assert not date_forms.may_have_date("Gunmen attacked a checkpoint, officials said.")


def test_a_sentence_the_quantity_prefilter_skips_has_no_quantity() -> None:
    extra = [
        "someone often said Germany",
        "twenty-one",
        "ſeven soldiers",
        "SEVERAL",
        "a number of",
        "Two-hundred",
    ]
    for text in [*gold_sentences_and_variants(), *extra]:
        if not numbers._DIGIT.search(text) and not numbers._ANY_HINT.search(fold_case(text)):
            assert not list(numbers._QUANTITY.finditer(fold_case(text))), text
    assert not numbers._ANY_HINT.search("someone often said germany")


def test_the_site_cue_answers_the_question_the_full_cue_does() -> None:
    rng = random.Random(3)
    for text in gold_sentences_and_variants():
        folded = fold_case(text)
        for end in {len(folded), *(rng.randrange(len(folded) + 1) for _ in range(4))}:
            before = folded[max(0, end - 60) : end]
            full = place_mentions._cue(before)
            assert place_mentions._site_cue(before) == (full if full in ("attack", "site") else None), before


def test_the_candidate_cues_are_those_of_every_word_of_the_sentence() -> None:
    def slow(text: str) -> list[int]:
        found: set[int] = set()
        for word in re.findall(r"[a-z0-9]+", fold_case(text)):
            for stem, indexes in event_type._CUES_BY_STEM.items():
                if word.startswith(stem):
                    found.update(indexes)
        return sorted(found)

    for text in gold_sentences_and_variants():
        assert event_type._candidate_cues(text) == slow(text), text


# --- incident words in a window ---------------------------------------------------------------------


def test_incident_words_in_a_window_are_counted_as_a_scan_of_the_window_counts_them() -> None:
    rng = random.Random(11)
    tricky = [
        "an air raid",
        "the killings",
        "a gun battle",
        "opened fire",
        "kill_ed",
        "re-attacked",
        "x1killed",
    ]
    for text in [*gold_sentences_and_variants(), *(" ".join(rng.sample(tricky, 4)) for _ in range(50))]:
        for _ in range(12):
            start, end = sorted(rng.randrange(-10, len(text) + 10) for _ in range(2))
            expected = len(cues.INCIDENT.findall(text[max(0, start) : max(0, end)]))
            assert cues.incident_hits_in(text, start, end) == expected, (text, start, end)


# --- named armed groups -----------------------------------------------------------------------------


def test_named_groups_are_found_as_the_full_pattern_finds_them(extractive_engine: ExtractiveEngine) -> None:
    lexicon = extractive_engine._load().actors
    named = ["Islamic State", "ISIS", "ISWAP", "al-Shabaab", "Al Qaeda", "Boko Haram", "JNIM", "Houthi-run"]
    rng = random.Random(5)
    for text in [
        *gold_sentences_and_variants(),
        *(" and ".join(rng.sample(named, 3)) + " attacked." for _ in range(40)),
    ]:
        keys = lexicon._keys & cues.words(text)
        full = [(m.start(), m.end(), m.group(0)) for m in lexicon._named.finditer(text)] if keys else []
        assert [found[:3] for found in lexicon.named(text)] == full, text
        first = lexicon._named.search(text) if keys else None
        assert lexicon.group_of(text) == (lexicon._canonical[fold_case(first.group(0))] if first else None)


def test_the_gazetteer_never_lists_a_place_twice_under_one_name(extractive_engine: ExtractiveEngine) -> None:
    gazetteer = extractive_engine._load().gazetteer
    assert all(len(bucket) == len(set(bucket)) for bucket in gazetteer._by_name.values())
    assert gazetteer.lookup("Qamishli") == gazetteer.lookup_folded("qamishli") != []


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def test_nationality_skips_only_words_no_country_name_starts_with(
    extractive_engine: ExtractiveEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    gazetteer = extractive_engine._load().gazetteer
    phrases = [t[i : i + 90] for t in gold_sentences_and_variants() for i in range(0, len(t), 45)]
    phrases += [
        "the Syrian Arab Republic's army",
        "U.S.-led coalition",
        "Al Jazeera in Ж Syria",
        "Ж Republic of Iraq",
    ]
    fast = [gazetteer._nationality(p) for p in phrases]
    monkeypatch.setattr(gazetteer, "_country_starts", _Everything())
    assert fast == [gazetteer._nationality(p) for p in phrases]
    assert "US" in fast and "SY" in fast


# --- determinism ------------------------------------------------------------------------------------


def _disputes(text: str) -> list[str]:
    article = prepare(ArticleIn(text=text), max_chars=100_000)
    sentences = citable(article)
    attributions = find_attributions(sentences)
    reports = incident_reports(sentences, attributions)
    return [dispute.topic for dispute in tally(reports)[1]]


def test_disputes_come_in_the_order_their_groups_appear_whatever_the_hash_seed() -> None:
    soldiers = "Police said five soldiers were killed. Hospital officials said seven soldiers were killed."
    civilians = "Police said two civilians were killed. Hospital officials said three civilians were killed."
    assert _disputes(f"{soldiers} {civilians}") == ["number of soldiers killed", "number of civilians killed"]
    assert _disputes(f"{civilians} {soldiers}") == ["number of civilians killed", "number of soldiers killed"]


def _modifiers_by_tokens(text: str, start: int) -> tuple[str, int]:
    """The modifiers before a head as they were read: every token of the window found with `\\S+`."""
    window = text[max(0, start - 60) : start]
    if window and not window[-1].isspace():
        return "", start
    kept = []
    for token in reversed(list(re.finditer(r"\S+", window))[-3:]):
        if not actors._MOD_WORD.fullmatch(token.group(0)):
            break
        kept.append(token)
    if not kept:
        return "", start
    offset = max(0, start - 60) + kept[-1].start()
    return text[offset:start].strip(), offset


def test_the_modifiers_before_a_head_are_those_a_token_scan_finds() -> None:
    """`actors._modifiers` (the window's last three words, found by splitting) reads what a scan of every
    token found, at every place of every test sentence, repeated words included."""
    texts = [*gold_sentences_and_variants(), "US US soldiers", "  Russian  Russian   military police", "a b"]
    for text in texts:
        for start in range(len(text) + 1):
            assert actors._modifiers(text, start) == _modifiers_by_tokens(text, start), (text, start)
    assert actors._modifiers("the pro-government militias", 19) == ("pro-government", 4)
