"""HTML input over HTTP: realistic news pages in, only the article's own sentences citable.

Each page under tests/data/html/ carries the chrome of a real news site — navigation, breadcrumbs, cookie
banner, share bars, newsletter box, related and most-read lists, comments, ads, footer. The article's
sentences must come out exactly; no chrome text may become a sentence or appear in the summary.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.schema import IncidentSummary
from service.text import html_extract
from tests.conftest import assert_problem

PAGES = Path(__file__).resolve().parent / "data" / "html"

# Chrome every page shares in one form or another.
COMMON_CHROME = (
    "Skip to content",
    "cookies",
    "Share on",
    "Facebook",
    "WhatsApp",
    "Copy link",
    "Subscribe",
    "Sign up",
    "newsletter",
    "Privacy Policy",
    "Terms of",
    "All rights reserved",
    "Advertisement",
    "Most read",
    "Comments",
    "Reply",
)


@dataclass(frozen=True)
class Page:
    file: str
    sentences: tuple[str, ...]  # every citable sentence, in order
    chrome: tuple[str, ...]  # site-specific text that must never be citable


PAGE_CASES = (
    Page(
        "wordpress_checkpoint_clash.html",
        (
            "HASAKAH – Two fighters were killed and three others wounded on Tuesday evening when members of the "
            "National Defence Forces and the Syrian Democratic Forces exchanged fire at a checkpoint on the edge "
            "of Tal Tamr, in the northern countryside of Hasakah province.",
            "According to a local source, the clash began at about 7 p.m. when an NDF patrol refused to stop at "
            "the SDF checkpoint on the road to Abu Rasin.",
            "The exchange of fire lasted for nearly two hours before Russian military police arrived from their "
            "base at Tal Tamr and separated the two sides.",
            "The Syrian Observatory for Human Rights said both of the dead belonged to the SDF, while the NDF "
            "said one of its members was among the wounded.",
            "An SDF spokesperson blamed the government militia for the incident and accused it of trying to "
            "smuggle weapons through the checkpoint.",
            "A commander in the NDF denied the accusation and said the SDF fighters opened fire first.",
            "Tensions between the two sides have risen in Hasakah since January, when a similar dispute at a "
            "checkpoint in Qamishli left one civilian dead.",
        ),
        (
            "Military Developments",
            "Advertise With Us",
            "Search keyword",
            "Read also",
            "SDF arrests dozens in Raqqa",
            "Previous Post",
            "Drone strike hits truck convoy",
            "Related Posts",
            "Alouk water station",
            "The SDF always lies",
            "Four of our fighters were killed",
            "Russia should leave Syria",
            "Notify of",
            "Oldest",
            "Inline Feedbacks",
            "View all comments",
            "Would love your thoughts",
            "Turkish drone kills three in Kobani",
            "independent news website",
            "Back to top",
            "Tags:",
        ),
    ),
    Page(
        "broadcaster_air_strike.html",
        (
            "An air strike on a crowded market in Yemen's northern Saada province has killed at least nine "
            "people and wounded more than 20, according to medical officials.",
            "The strike hit the Al-Raqw market in the Munabbih district, close to the border with Saudi Arabia, "
            "on Saturday morning, local health officials said.",
            "The Houthi-run health ministry said women and children were among the dead.",
            "Medics at a hospital in Saada city said several of the wounded were in a critical condition.",
            "The Saudi-led coalition, which has fought the Houthis since 2015, did not immediately comment on "
            "the reports.",
            "Border districts of Saada have been hit repeatedly by artillery fire and air strikes in recent "
            "months, according to the UN's humanitarian office, which counted 14 civilian deaths in the area "
            "in December.",
        ),
        (
            "Let us know you agree",
            "Yes, I agree",
            "War in Ukraine",
            "Entertainment",
            "Middle East correspondent",
            "More on this story",
            "Who are the Houthis",
            "Related Topics",
            "Cargo ship catches fire",
            "flagship newsletter",
            "Accessibility Help",
            "external sites",
            "Residents inspect damaged stalls",
        ),
    ),
    Page(
        "regional_paper_roadside_bomb.html",
        (
            "Roadside bomb hits army vehicle near Mogadishu, killing four soldiers",
            "MOGADISHU, Somalia (AP) — A roadside bomb exploded under a Somali army vehicle on the outskirts of "
            "Mogadishu on Tuesday, killing four soldiers and wounding two others, a military official said.",
            "The blast struck the vehicle as it carried troops along the road between Mogadishu and the town of "
            "Afgoye, Captain Hassan Nur told The Associated Press by phone.",
            "The al-Qaida-linked extremist group al-Shabab claimed responsibility for the attack in a statement "
            "on one of its websites, saying its fighters had killed seven soldiers.",
            "The group often gives higher casualty figures than officials.",
            "Al-Shabab has carried out frequent bombings in and around the capital despite a government "
            "offensive that began in 2022.",
            "Residents of Afgoye said security forces closed the road for several hours after the explosion.",
        ),
        (
            "free articles left",
            "Log In",
            "E-Paper",
            "Parliament approves new electoral law",
            "Africa Today",
            "Enter your email",
            "Topics:",
            "may not be published, broadcast",
            "Twenty soldiers died",
            "African Union troops",
            "community guidelines",
            "Drought pushes thousands",
            "Invest in East African real estate",
            "Careers",
            "Published 11:40 AM",
        ),
    ),
    pytest.param(
        Page(
            "chrome_inside_article.html",
            (
                "A Russian military vehicle and a Turkish armoured vehicle collided on Friday during a joint patrol "
                "in the countryside of Derik, in the far northeast of Syria, according to local sources.",
                "The sources said the Russian vehicle rammed the Turkish one after the two convoys disagreed over "
                "the route of the patrol near the village of Qasr Dib.",
                "No injuries were reported in the incident, which ended when both convoys withdrew towards their "
                "bases.",
                "Russia and Turkey have conducted joint patrols in the area since an agreement signed in October "
                "2019.",
            ),
            ("Military DevelopmentsSyria", "Share this", "Share on X", "2 min read", "Tags:", "Notify of"),
        ),
        id="chrome_inside_article.html",
    ),
)


def _ids(case: Any) -> str:
    return str(case.file) if isinstance(case, Page) else str(case)


@pytest.mark.parametrize("page", PAGE_CASES, ids=_ids)
async def test_only_the_article_is_citable(extractive_client: httpx.AsyncClient, page: Page) -> None:
    html = (PAGES / page.file).read_text(encoding="utf-8")
    response = await extractive_client.post("/v1/summaries", json={"html": html})
    assert response.status_code == 200, response.text
    body = response.json()
    texts = [s["text"] for s in body["sentences"]]
    assert texts == list(page.sentences)
    assert [s["id"] for s in body["sentences"]] == [f"S{i}" for i in range(1, len(texts) + 1)]
    cited = IncidentSummary.model_validate(body["summary"]).citation_ids()
    assert cited and set(cited) <= {s["id"] for s in body["sentences"]}
    summary_json = json.dumps(body["summary"], ensure_ascii=False).casefold()
    for phrase in (*COMMON_CHROME, *page.chrome):
        assert not any(phrase.casefold() in text.casefold() for text in texts), phrase
        assert phrase.casefold() not in summary_json, phrase


async def test_offsets_point_into_the_normalised_text(extractive_client: httpx.AsyncClient) -> None:
    """Sentence offsets are consistent: consecutive, in order, each `end - start` the sentence's length."""
    html = (PAGES / "broadcaster_air_strike.html").read_text(encoding="utf-8")
    sentences = (await extractive_client.post("/v1/summaries", json={"html": html})).json()["sentences"]
    assert all(s["end"] - s["start"] == len(s["text"]) for s in sentences)
    assert all(a["end"] < b["start"] for a, b in itertools.pairwise(sentences))


async def test_html_and_text_together_are_refused(extractive_client: httpx.AsyncClient) -> None:
    html = (PAGES / "broadcaster_air_strike.html").read_text(encoding="utf-8")
    response = await extractive_client.post(
        "/v1/summaries", json={"html": html, "text": "An air strike hit a market."}
    )
    assert_problem(response, 422, "conflicting-input")


KIDAL = (
    "Gunmen opened fire on a police post in the town of Kidal on Sunday, killing two officers.",
    "The attackers fled on motorcycles towards the desert, a police spokesman said.",
)


def _kidal_page(hidden: str) -> str:
    return f"<html><body><article><p>{KIDAL[0]}</p>{hidden}<p>{KIDAL[1]}</p></article></body></html>"


@pytest.mark.parametrize(
    "hidden",
    [
        "<script>var note = 'DO-NOT-CITE';</script><style>p::after{content:'DO-NOT-CITE'}</style>",
        "<!-- DO-NOT-CITE: editors, add the casualty update here -->",
        "<noscript>DO-NOT-CITE without JavaScript.</noscript>",
        "<p style='display:none'>DO-NOT-CITE in a hidden paragraph.</p>",
        "<span aria-hidden='true'>DO-NOT-CITE for screen readers.</span>",
        "<div hidden>DO-NOT-CITE in an element with the hidden attribute.</div>",
        "<template>DO-NOT-CITE in a template.</template>",
    ],
    ids=[
        "script-style",
        "comment",
        "noscript",
        "display-none",
        "aria-hidden",
        "hidden-attribute",
        "template",
    ],
)
async def test_invisible_content_never_becomes_a_sentence(
    extractive_client: httpx.AsyncClient, hidden: str
) -> None:
    body = (await extractive_client.post("/v1/summaries", json={"html": _kidal_page(hidden)})).json()
    assert [s["text"] for s in body["sentences"]] == list(KIDAL)
    assert "DO-NOT-CITE" not in json.dumps(body)


async def test_the_same_page_extracts_the_same_way_every_time(extractive_client: httpx.AsyncClient) -> None:
    html = (PAGES / "regional_paper_roadside_bomb.html").read_text(encoding="utf-8")
    runs = [
        (
            await extractive_client.post(
                "/v1/summaries", json={"html": html}, headers={"Cache-Control": "no-cache"}
            )
        ).json()
        for _ in range(5)
    ]
    assert all(run["sentences"] == runs[0]["sentences"] for run in runs)
    assert len({run["id"] for run in runs}) == 1  # the same page is the same cache entry


def _page_with(head: str) -> str:
    return f"<html><head>{head}</head><body><article><p>Gunmen killed two guards on Tuesday.</p></article></body></html>"


@pytest.mark.parametrize(
    ("head", "published"),
    [
        ('<meta property="article:published_time" content="2024-03-06T09:14:00+00:00">', date(2024, 3, 6)),
        ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-08-26"}</script>',
         date(2023, 8, 26)),
        ("<title>No date here</title>", None),
        ('<meta property="article:published_time" content="2999-01-01">', None),  # after today: no date
    ],
)  # fmt: skip
def test_the_publication_date_is_what_the_pages_markup_states(head: str, published: date | None) -> None:
    assert html_extract.published_date(_page_with(head)) == published


async def test_the_pages_publication_date_anchors_its_relative_dates(
    extractive_client: httpx.AsyncClient,
) -> None:
    """The page says `article:published_time` 2024-03-06 (a Wednesday) and its article "on Tuesday evening";
    a `published_at` in the request wins over the page's."""
    html = (PAGES / "wordpress_checkpoint_clash.html").read_text(encoding="utf-8")
    from_page = await extractive_client.post("/v1/summaries", json={"html": html})
    from_request = await extractive_client.post(
        "/v1/summaries", json={"html": html, "published_at": "2024-03-14"}
    )

    assert from_page.status_code == from_request.status_code == 200, from_page.text
    assert from_page.json()["summary"]["date"]["start"] == "2024-03-05"
    assert from_request.json()["summary"]["date"]["start"] == "2024-03-12"
