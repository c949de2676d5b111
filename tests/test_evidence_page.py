"""The evidence page (`GET /v1/summaries/{id}/view`), its links from the JSON, Markdown and Slack, and the signed
tokens those links carry when API_KEYS is set. The page is read with an HTML parser, never with string
searches alone; the real browser test is tests/test_evidence_browser.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from service.config import Settings
from service.errors import ViewLinkRejected
from service.render import markdown, slack_blocks
from service.render.evidence import CONTENT_SECURITY_POLICY, STATIC_DIR, EvidencePage
from service.result import DerivedOut, Links, SentenceOut, SummaryResult
from service.schema import Casualties, Claim, IncidentSummary, Location, Range, Statement
from service.view_links import ViewLinks
from tests.conftest import (
    AppClient,
    FakeClock,
    FakeEngine,
    assert_problem,
    checkpoint_result,
    checkpoint_summary,
    result_of,
    sample_text,
)
from tests.fakes import slack_api
from tests.fakes.slack_api import RESPONSE_URL, FakeSlackApi, command_body

KEY = "k-0123456789abcdef-key"
SECRET = "s" * 16 + "-view-link-secret-0123456789"
BASE = "https://summaries.example.org/incidents"
SAMPLES = ("syria_checkpoint_shootout", "derik_vehicle_collision")
SCRIPT_SRC = "../../../assets/evidence/evidence.js"


# --- reading the page ---------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def find_all(self, predicate: Any) -> list[Element]:
        found = [self] if predicate(self) else []
        for child in self.children:
            found += child.find_all(predicate)
        return found

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


_VOID = {"meta", "link", "br", "img", "input", "hr"}


class _TreeBuilder(HTMLParser):
    """The page as a tree of elements, each with its whole text (html.parser has no tree of its own)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.all: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        self.all.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data


def parse(html: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder


def by_class(page: _TreeBuilder, name: str) -> list[Element]:
    return [e for e in page.all if name in e.classes()]


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_no_active_content(page: _TreeBuilder) -> None:
    """The only script is the app's own file; no handler attribute, inline style or javascript: URL anywhere."""
    scripts = [e for e in page.all if e.tag == "script"]
    assert [(s.attrs.get("src"), s.text) for s in scripts] == [(SCRIPT_SRC, "")]
    for element in page.all:
        assert element.tag not in ("textarea", "iframe", "object", "embed", "form", "style", "base"), element
        for name, value in element.attrs.items():
            assert not name.startswith("on"), (element.tag, name)
            assert name != "style", element.tag
            if name in ("href", "src", "action", "formaction"):
                assert value is not None and not value.strip().lower().startswith(("javascript:", "data:"))
                assert value.startswith(("#", "../../../assets/evidence/")), value


# --- the page for both samples --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
async def test_the_page_shows_every_sentence_and_every_fact_with_its_citations(
    extractive_client: httpx.AsyncClient, name: str
) -> None:
    created = await extractive_client.post("/v1/summaries", json={"text": sample_text(name)})
    assert created.status_code == 200, created.text
    result = SummaryResult.model_validate(created.json())

    response = await extractive_client.get(f"/v1/summaries/{result.id}/view")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    page = parse(response.text)
    assert_no_active_content(page)
    [h1] = [e for e in page.all if e.tag == "h1"]
    assert squash(h1.text) == squash(result.summary.headline)
    sentences = by_class(page, "sentence")
    assert [s.attrs["id"] for s in sentences] == [s.id for s in result.sentences]
    for element, sentence in zip(sentences, result.sentences, strict=True):
        [text] = by_class_in(element, "sentence-text")
        assert squash(text.text) == squash(sentence.text)
        assert ("cited" in element.classes()) == (sentence.id in result.summary.citation_ids())
    facts = by_class(page, "fact")
    cited_by_facts = {sid for fact in facts for sid in (fact.attrs["data-cites"] or "").split()}
    assert cited_by_facts == set(result.summary.citation_ids())
    s = result.summary
    expected_facts = (
        len(s.summary)
        + (s.date is not None)
        + len(s.locations)
        + len(s.actors)
        + len(s.casualties)
        + len(s.claims)
        + sum(len(d.positions) for d in s.disputes)
    )
    assert len(facts) == expected_facts
    for i, casualty in enumerate(s.casualties):
        [fact] = [f for f in facts if f.attrs["id"] == f"fact-casualties-{i}"]
        in_article_order = sorted(set(casualty.citations), key=lambda sid: int(sid[1:]))
        assert (fact.attrs["data-cites"] or "").split() == in_article_order
        links = [a.attrs["href"] for a in fact.find_all(lambda e: e.tag == "a")]
        assert links == [f"#{sid}" for sid in in_article_order]


def by_class_in(element: Element, name: str) -> list[Element]:
    return element.find_all(lambda e: name in e.classes())


async def test_the_page_and_its_assets_are_served_with_strict_headers(
    extractive_client: httpx.AsyncClient,
) -> None:
    created = await extractive_client.post("/v1/summaries", json={"text": sample_text(SAMPLES[0])})
    response = await extractive_client.get(f"/v1/summaries/{created.json()['id']}/view")

    assert CONTENT_SECURITY_POLICY.split("; ")[:4] == [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
    ]
    assert {"frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"} <= set(
        CONTENT_SECURITY_POLICY.split("; ")
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, no-store"
    page = parse(response.text)
    [stylesheet] = [e for e in page.all if e.tag == "link" and e.attrs.get("rel") == "stylesheet"]
    # the page's relative asset paths resolve on the app itself, under any base URL
    for relative in (SCRIPT_SRC, stylesheet.attrs["href"] or ""):
        url = httpx.URL(f"http://testserver/v1/summaries/{created.json()['id']}/view").join(relative)
        asset = await extractive_client.get(str(url))
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert "http://" not in asset.text and "https://" not in asset.text  # nothing from another origin
        assert "innerHTML" not in asset.text and "eval(" not in asset.text


async def test_an_unknown_summary_is_a_404_problem(extractive_client: httpx.AsyncClient) -> None:
    for summary_id in ("0" * 32, "no-such-id"):
        assert_problem(await extractive_client.get(f"/v1/summaries/{summary_id}/view"), 404, "not-found")


# --- a hostile article and hostile model text --------------------------------------------------------------

HOSTILE = (
    '<script>alert("x")</script> Gunmen killed 3 people.',
    '<a href="javascript:alert(1)">click</a> </textarea><img src=x onerror=alert(2)> Police said so.',
    "The \u202eevil\u202c name was given; \u2066isolated\u2069 text followed.",
)


def hostile_result() -> SummaryResult:
    sentences, start = [], 0
    for i, text in enumerate(HOSTILE, 1):
        sentences.append(SentenceOut(id=f"S{i}", text=text, start=start, end=start + len(text)))
        start += len(text) + 1
    summary = IncidentSummary(
        headline="<script>document.title='pwned'</script>\u202eevil",
        summary=[Statement(text='"><svg onload=alert(3)> killed 3', citations=["S1"])],
        event_type="other",
        sub_event_type=None,
        date=None,
        locations=[
            Location(name="javascript:alert(4)", admin1=None, country=None, role="other", citations=["S2"])
        ],
        actors=[],
        casualties=[
            Casualties(
                group="</textarea><script>x()</script>",
                killed=Range(low=3, best=3, high=3),
                injured=None,
                reported_by="\u202eSANA",
                citations=["S1"],
            )
        ],
        claims=[Claim(source="<b onclick=alert(5)>", statement="{{ 7*7 }}", citations=["S3"])],
        disputes=[],
    )
    return result_of(summary, sentences)


def test_a_hostile_article_and_hostile_model_text_render_as_text() -> None:
    html = EvidencePage().render(hostile_result())

    page = parse(html)
    assert_no_active_content(page)
    assert "\u202e" not in html and "\u2066" not in html  # no bidi control reaches the reader...
    [h1] = [e for e in page.all if e.tag == "h1"]
    assert h1.text == "<script>document.title='pwned'</script>⟨U+202E⟩evil"  # ...it is shown as a marker
    texts = [squash(e.text) for e in by_class(page, "sentence-text")]
    assert texts == [
        HOSTILE[0],
        HOSTILE[1],
        "The ⟨U+202E⟩evil⟨U+202C⟩ name was given; ⟨U+2066⟩isolated⟨U+2069⟩ text followed.",
    ]
    facts = {e.attrs["id"]: squash(e.text) for e in by_class(page, "fact")}
    assert facts["fact-summary-0"].startswith('"><svg onload=alert(3)> killed 3')
    assert facts["fact-place-0"].startswith("javascript:alert(4) (other)")
    assert facts["fact-casualties-0"].startswith(
        "</textarea><script>x()</script>: killed 3, per ⟨U+202E⟩SANA"
    )
    assert facts["fact-claim-0"].startswith("<b onclick=alert(5)>: {{ 7*7 }}")  # no template injection either


async def test_a_hostile_article_through_the_api_renders_as_text(
    extractive_client: httpx.AsyncClient,
) -> None:
    text = " ".join(HOSTILE) + " Two soldiers were killed on Monday near Idlib, officials said."
    created = await extractive_client.post("/v1/summaries", json={"text": text})
    assert created.status_code == 200, created.text

    response = await extractive_client.get(f"/v1/summaries/{created.json()['id']}/view")

    page = parse(response.text)
    assert_no_active_content(page)
    article_text = squash(" ".join(e.text for e in by_class(page, "sentence-text")))
    assert (
        '<script>alert("x")</script>' in article_text
        and "</textarea><img src=x onerror=alert(2)>" in article_text
    )


# --- meta, degraded, derived -------------------------------------------------------------------------------


def test_meta_is_shown_plainly_and_derived_fields_are_marked() -> None:
    result = checkpoint_result()
    derived = DerivedOut(
        path="locations[1].admin1", value="Al-Hasakah", basis="gazetteer reading of 'Kamyshly'"
    )
    degraded = result_of(result.summary, result.sentences, degraded=True)
    degraded = degraded.model_copy(update={"meta": degraded.meta.model_copy(update={"derived": [derived]})})

    page = parse(EvidencePage().render(degraded))

    meta = dict(
        zip(
            [squash(e.text) for e in page.all if e.tag == "dt"],
            [squash(e.text) for e in page.all if e.tag == "dd"],
            strict=True,
        )
    )
    assert meta["Engine"] == "llm" and meta["Model"] == "gpt-4o-mini"
    assert meta["Prompt version"] == "p-1a2b3c"
    assert meta["Warnings"] == "fallback: the LLM failed"
    assert meta["Degraded"].startswith("yes")
    assert meta["Derived fields"].startswith("locations[1].admin1 = Al-Hasakah: not stated by the article")
    assert [squash(e.text) for e in by_class(page, "banner")] != []
    [kamyshly] = [e for e in by_class(page, "fact") if e.attrs["id"] == "fact-place-1"]
    [stated] = by_class_in(kamyshly, "fact-text")
    assert (
        squash(stated.text) == "Kamyshly, Syria (incident site)"
    )  # the derived province is not shown as stated
    [note] = by_class_in(kamyshly, "derived")
    assert squash(note.text) == "derived admin1: Al-Hasakah (derived: gazetteer reading of 'Kamyshly')"

    plain = parse(EvidencePage().render(result))
    plain_meta = {squash(e.text) for e in plain.all if e.tag == "dd"}
    assert "no" in plain_meta and "none" in plain_meta and by_class(plain, "banner") == []
    assert by_class(plain, "derived") == []


def test_a_date_derived_from_the_publication_date_is_a_fact_that_cites_nothing() -> None:
    undated = checkpoint_result()
    undated = undated.model_copy(update={"summary": undated.summary.model_copy(update={"date": None})})
    published = DerivedOut(path="date", value="2024-02-12", basis="the article's publication date")
    dated = undated.model_copy(update={"meta": undated.meta.model_copy(update={"derived": [published]})})

    page = parse(EvidencePage().render(dated))

    [fact] = [e for e in by_class(page, "fact") if e.attrs["id"] == "fact-date"]
    assert fact.attrs["data-cites"] == ""
    assert [squash(e.text) for e in by_class_in(fact, "fact-text")] == ["Not stated in the article"]
    assert [squash(e.text) for e in by_class_in(fact, "cites")] == ["cites no sentence"]
    assert fact.find_all(lambda e: e.tag == "a") == []
    [note] = by_class_in(fact, "derived")
    assert squash(note.text) == "derived date: 12 February 2024 (derived: the article's publication date)"
    plain = parse(EvidencePage().render(undated))
    assert "fact-date" not in {e.attrs["id"] for e in by_class(plain, "fact")}


def test_the_page_is_accessible_by_keyboard_and_screen_reader_and_prints() -> None:
    page = parse(EvidencePage().render(checkpoint_result()))

    fact_buttons = by_class(page, "fact-button")
    sentence_buttons = by_class(page, "sentence-button")
    assert fact_buttons and sentence_buttons
    for button in fact_buttons + sentence_buttons:
        assert button.tag == "button" and button.attrs["type"] == "button"
        assert button.attrs["aria-pressed"] == "false" and button.attrs["aria-controls"]
    [status] = [e for e in page.all if e.attrs.get("role") == "status"]
    assert status.attrs["aria-live"] == "polite"
    [html] = [e for e in page.all if e.tag == "html"]
    assert html.attrs["lang"] == "en"
    [viewport] = [e for e in page.all if e.tag == "meta" and e.attrs.get("name") == "viewport"]
    assert viewport.attrs["content"] == "width=device-width, initial-scale=1"
    css = (STATIC_DIR / "evidence.css").read_text(encoding="utf-8")
    assert "@media print" in css and "@media (max-width: 48rem)" in css


# --- links ------------------------------------------------------------------------------------------------


def keyed_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "engine": "extractive",
        "cache_url": "memory://",
        "api_keys": KEY,
        "public_base_url": BASE + "/",
        "view_link_secret": SECRET,
    }
    return Settings(**(values | overrides))


def checkpoint_engine() -> FakeEngine:
    """An engine answering the checkpoint summary, less its dispute (whose source the judge finds ungrounded)."""
    return FakeEngine(build=lambda article: checkpoint_summary().model_copy(update={"disputes": []}))


CHECKPOINT = {"text": sample_text("syria_checkpoint_shootout")}


def local(url: str) -> str:
    """A public link as a request to the test app: its path below the base URL, and its query."""
    parts = urlsplit(url)
    assert url.startswith(BASE + "/v1/summaries/")
    path = parts.path.removeprefix(urlsplit(BASE).path)
    return path + (f"?{parts.query}" if parts.query else "")


async def test_without_a_public_base_url_there_are_no_links(app_client: AppClient) -> None:
    async with app_client(
        Settings(engine="extractive", cache_url="memory://"), checkpoint_engine()
    ) as client:
        created = await client.post("/v1/summaries", json=CHECKPOINT)
        summary_id = created.json()["id"]
        as_markdown = await client.get(f"/v1/summaries/{summary_id}", params={"format": "markdown"})
        as_slack = await client.get(f"/v1/summaries/{summary_id}", params={"format": "slack"})

    assert created.json()["links"] == {"view": None}
    assert "evidence" not in as_markdown.text
    assert all(block["type"] != "actions" for block in as_slack.json()["blocks"])


async def test_an_open_api_links_the_page_from_json_markdown_and_slack(app_client: AppClient) -> None:
    settings = Settings(engine="extractive", cache_url="memory://", public_base_url=BASE)
    async with app_client(settings, checkpoint_engine()) as client:
        created = await client.post("/v1/summaries", json=CHECKPOINT)
        summary_id = created.json()["id"]
        again = await client.get(f"/v1/summaries/{summary_id}")
        as_markdown = await client.get(f"/v1/summaries/{summary_id}", params={"format": "markdown"})
        as_slack = await client.get(f"/v1/summaries/{summary_id}", params={"format": "slack"})
        page = await client.get(local(created.json()["links"]["view"]))

    view = f"{BASE}/v1/summaries/{summary_id}/view"
    assert created.json()["links"] == {"view": view} == again.json()["links"]  # no token: the API is open
    assert as_markdown.text.rstrip().endswith(f"[View the evidence]({view})")
    [actions] = [block for block in as_slack.json()["blocks"] if block["type"] == "actions"]
    [button] = actions["elements"]
    assert button["type"] == "button" and button["text"]["text"] == "View evidence" and button["url"] == view
    assert page.status_code == 200


async def test_with_api_keys_links_carry_a_signed_token_that_opens_the_page_and_no_key(
    app_client: AppClient,
) -> None:
    async with app_client(keyed_settings(), checkpoint_engine()) as client:
        auth = {"Authorization": f"Bearer {KEY}"}
        created = await client.post("/v1/summaries", json=CHECKPOINT, headers=auth)
        summary_id = created.json()["id"]
        as_markdown = await client.get(f"/v1/summaries/{summary_id}?format=markdown", headers=auth)
        as_slack = await client.get(f"/v1/summaries/{summary_id}?format=slack", headers=auth)
        link = created.json()["links"]["view"]
        opened = await client.get(local(link))  # a browser: no Authorization header
        with_key = await client.get(f"/v1/summaries/{summary_id}/view", headers=auth)
        without_anything = await client.get(f"/v1/summaries/{summary_id}/view")

    assert link.startswith(f"{BASE}/v1/summaries/{summary_id}/view?token=")
    assert opened.status_code == 200 and "Kamyshly" in opened.text
    assert with_key.status_code == 200
    assert_problem(without_anything, 401, "unauthorized")
    for rendered in (created.text, as_markdown.text, as_slack.text, link):
        assert KEY not in rendered and SECRET not in rendered
    assert "?token=" in as_markdown.text and "?token=" in as_slack.text


async def test_a_forged_expired_or_borrowed_token_is_a_403_problem(app_client: AppClient) -> None:
    async with app_client(keyed_settings(), checkpoint_engine()) as client:
        auth = {"Authorization": f"Bearer {KEY}"}
        created = await client.post("/v1/summaries", json=CHECKPOINT, headers=auth)
        summary_id = created.json()["id"]
        other_id = "0" * 32  # the token is checked before the summary is looked up
        token = created.json()["links"]["view"].partition("?token=")[2]
        expires, _, signature = token.partition(".")
        forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
        later_expiry = f"{int(expires) + 3600}.{signature}"
        wrong_secret = ViewLinks(base_url=BASE, secret=b"x" * 40, signed=True, ttl_s=60).token(
            summary_id, expires=int(expires)
        )
        expired = ViewLinks(base_url=BASE, secret=SECRET.encode(), signed=True, ttl_s=60).token(
            summary_id,
            expires=1_000_000_000,  # 2001
        )
        answers = {
            name: await client.get(f"/v1/summaries/{summary_id}/view?{urlencode({'token': bad})}")
            for name, bad in (
                ("forged signature", f"{expires}.{forged_signature}"),
                ("extended expiry", later_expiry),
                ("another secret", wrong_secret),
                ("expired", expired),
                ("malformed", "not-a-token"),
                ("too long", "9" * 5000 + "." + signature),
            )
        }
        borrowed = await client.get(f"/v1/summaries/{other_id}/view?{urlencode({'token': token})}")
        empty = await client.get(f"/v1/summaries/{summary_id}/view?token=")  # no token: a key is needed
        valid = await client.get(f"/v1/summaries/{summary_id}/view?{urlencode({'token': token})}")

    for name, answer in answers.items():
        body = assert_problem(answer, 403, "view-link-rejected")
        assert "expired" in body["detail"] if name == "expired" else "not valid" in body["detail"], name
    assert_problem(borrowed, 403, "view-link-rejected")
    assert_problem(empty, 401, "unauthorized")
    assert valid.status_code == 200


async def test_with_results_kept_per_key_the_link_opens_the_result_of_the_key_that_asked(
    app_client: AppClient,
) -> None:
    """RESULT_SCOPE=key: the token names (and signs) the asking key's scope, so the page shows that key's
    result; another key's bearer sees none, and a token whose scope is swapped does not verify."""
    other_key = "k-fedcba9876543210-key"
    settings = keyed_settings(api_keys=f"{KEY},{other_key}", result_scope="key")
    async with app_client(settings, checkpoint_engine()) as client:
        created = await client.post(
            "/v1/summaries", json=CHECKPOINT, headers={"Authorization": f"Bearer {KEY}"}
        )
        summary_id = created.json()["id"]
        link = created.json()["links"]["view"]
        expires, scope, signature = link.partition("?token=")[2].split(".")
        opened = await client.get(local(link))  # no key: the token alone
        by_other_key = await client.get(
            f"/v1/summaries/{summary_id}/view", headers={"Authorization": f"Bearer {other_key}"}
        )
        swapped = await client.get(
            f"/v1/summaries/{summary_id}/view?token={expires}.{'0' * len(scope)}.{signature}"
        )
        unscoped = await client.get(f"/v1/summaries/{summary_id}/view?token={expires}.{signature}")

    assert opened.status_code == 200, opened.text
    assert scope.isalnum() and KEY not in link
    assert_problem(by_other_key, 404, "not-found")
    assert_problem(swapped, 403, "view-link-rejected")
    assert_problem(unscoped, 403, "view-link-rejected")


def test_tokens_expire_on_the_clock_and_are_bound_to_their_summary() -> None:
    clock = FakeClock(start=1_700_000_000)
    links = ViewLinks(base_url=BASE, secret=SECRET.encode(), signed=True, ttl_s=600, clock=clock)
    url = links.url("sum_a")
    assert url is not None
    token = url.partition("?token=")[2]
    assert token.startswith("1700000600.")

    links.verify("sum_a", token)  # valid now
    clock.advance(599)
    links.verify("sum_a", token)  # and one second before it expires
    with pytest.raises(ViewLinkRejected, match="not valid"):
        links.verify("sum_b", token)
    clock.advance(1)
    with pytest.raises(ViewLinkRejected, match="expired"):
        links.verify("sum_a", token)
    unsigned = ViewLinks(base_url=BASE, secret=None, signed=False, ttl_s=600, clock=clock)
    assert unsigned.url("sum_a") == f"{BASE}/v1/summaries/sum_a/view"
    with pytest.raises(ViewLinkRejected):
        unsigned.verify("sum_a", token)  # no secret: no token verifies
    assert ViewLinks(base_url=None, secret=None, signed=True, ttl_s=600).url("sum_a") is None


def test_markdown_and_slack_render_the_link_they_are_given() -> None:
    plain = checkpoint_result()
    linked = plain.model_copy(update={"links": Links(view=f"{BASE}/v1/summaries/x(1)/view?token=1.a")})

    assert "evidence" not in markdown.render(plain)
    assert (
        markdown.render(linked)
        .rstrip()
        .endswith(f"[View the evidence]({BASE}/v1/summaries/x%281%29/view?token=1.a)")
    )
    assert slack_blocks.render(plain)["blocks"][-1]["type"] == "context"
    actions = slack_blocks.render(linked)["blocks"][-1]
    assert actions["type"] == "actions"
    assert actions["elements"][0]["action_id"] == slack_blocks.VIEW_EVIDENCE_ACTION_ID


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"view_link_secret": None}, "VIEW_LINK_SECRET"),
        ({"view_link_secret": "short"}, "VIEW_LINK_SECRET needs at least 32"),
        ({"view_link_secret": KEY + "-" * 16, "api_keys": KEY + "-" * 16}, "must not be one of the API_KEYS"),
        ({"public_base_url": "ftp://example.org"}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "https://example.org/?a=1"}, "PUBLIC_BASE_URL"),
        ({"view_link_ttl_s": 10}, "view_link_ttl_s"),
    ],
)
def test_unsafe_link_settings_fail_at_start_up(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        keyed_settings(**overrides)


def test_links_need_no_secret_when_the_api_is_open_or_has_no_public_url() -> None:
    assert keyed_settings(view_link_secret=None, public_base_url=None).view_link_secret is None
    assert keyed_settings(view_link_secret=None, api_keys="").public_base_url == BASE


# --- Slack ------------------------------------------------------------------------------------------------

SLACK_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


async def test_a_slack_post_has_a_view_evidence_button_and_its_click_is_acknowledged(
    app_client: AppClient,
) -> None:
    async with FakeSlackApi(token="xoxb-test") as slack:
        settings = keyed_settings(
            slack_signing_secret=SLACK_SECRET, slack_bot_token="xoxb-test", slack_api_url=slack.api_url
        )
        async with app_client(settings, checkpoint_engine()) as client:
            body = command_body(CHECKPOINT["text"].strip(), slack.response_url())
            ack = await client.post(
                "/slack/events", content=body, headers=slack_api.signed(body, secret=SLACK_SECRET)
            )
            [reply] = await slack.wait_for(RESPONSE_URL)
            [actions] = [block for block in reply.body["blocks"] if block["type"] == "actions"]
            [button] = actions["elements"]
            page = await client.get(local(button["url"]))
            click = urlencode({"payload": json.dumps(_button_click(button))})
            clicked = await client.post(
                "/slack/events", content=click, headers=slack_api.signed(click, secret=SLACK_SECRET)
            )

    assert ack.status_code == 200
    assert (
        button["text"]["text"] == "View evidence" and "?token=" in button["url"] and KEY not in button["url"]
    )
    assert page.status_code == 200 and "Kamyshly" in page.text
    assert clicked.status_code == 200  # bolt answers 404 to an action nobody listens for


def _button_click(button: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0FAKE", "domain": "acme"},
        "user": {"id": "U0ANALYST", "name": "analyst", "team_id": "T0FAKE"},
        "api_app_id": "A0FAKE",
        "token": "legacy-verification-token",
        "trigger_id": "1.2.5",
        "channel": {"id": "C0INCIDENTS", "name": "incidents"},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b1",
                "text": button["text"],
                "url": button["url"],
                "action_ts": "1707730200.000400",
            }
        ],
    }


async def test_opening_the_page_by_token_takes_a_rate_limit_token(app_client: AppClient) -> None:
    settings = keyed_settings(rate_limit_per_minute=1, rate_limit_burst=1)
    async with app_client(settings, checkpoint_engine()) as client:
        created = await client.post(
            "/v1/summaries", json=CHECKPOINT, headers={"Authorization": f"Bearer {KEY}"}
        )
        link = local(created.json()["links"]["view"])
        first, second = await client.get(link), await client.get(link)

    assert first.status_code == 200
    assert_problem(second, 429, "rate-limited")  # the address's bucket (the POST took from the key's)


async def test_forged_tokens_cost_a_rate_limit_token_and_only_the_page_takes_one(
    app_client: AppClient,
) -> None:
    """A token stands in for a key on the evidence page alone, and a forged one is charged before it is
    checked: neither token guessing nor mapping other paths is free."""
    settings = keyed_settings(rate_limit_per_minute=1, rate_limit_burst=2)
    async with app_client(settings, checkpoint_engine()) as client:
        forged = [await client.get(f"/v1/summaries/{'0' * 32}/view?token=1.forged") for _ in range(3)]
        elsewhere = await client.get("/v1/anything/view?token=1.forged")
        below = await client.get(f"/v1/summaries/{'0' * 32}/view/more?token=1.forged")

    assert [r.status_code for r in forged] == [403, 403, 429]
    assert_problem(elsewhere, 401, "unauthorized")  # not 404: no key, no map of the paths
    assert_problem(below, 401, "unauthorized")


@pytest.mark.parametrize("token", ["\u00b2.x", "1\u00b2.x", "1.\u00e9\u00e9.x", "\u0661.x"])
async def test_a_token_with_non_ascii_digits_is_a_403_not_a_500(app_client: AppClient, token: str) -> None:
    async with app_client(keyed_settings(), checkpoint_engine()) as client:
        answer = await client.get(f"/v1/summaries/{'0' * 32}/view?{urlencode({'token': token})}")

    assert_problem(answer, 403, "view-link-rejected")


def test_dates_are_written_out_and_an_unknown_year_is_said_to_be_unknown() -> None:
    page = parse(EvidencePage().render(checkpoint_result()))  # the date is "--02-12", "today February 12th"

    [date] = [e for e in by_class(page, "fact") if e.attrs["id"] == "fact-date"]
    [text] = by_class_in(date, "fact-text")
    assert squash(text.text) == "12 February, year not stated: “today February 12th”"


def test_a_fact_lists_its_citations_once_each_in_article_order() -> None:
    page = parse(EvidencePage().render(checkpoint_result()))  # the third statement cites S13, S12, S13

    [fact] = [e for e in by_class(page, "fact") if e.attrs["id"] == "fact-summary-2"]
    assert fact.attrs["data-cites"] == "S12 S13"
    assert [squash(a.text) for a in fact.find_all(lambda e: e.tag == "a")] == ["S12", "S13"]


async def test_the_article_keeps_its_paragraphs(extractive_client: httpx.AsyncClient) -> None:
    text = (
        "Gunmen attacked a checkpoint near Idlib on Monday. Two soldiers were killed, officials said.\n\n"
        "The army said it had sent reinforcements to the area."
    )
    created = await extractive_client.post("/v1/summaries", json={"text": text})
    assert created.status_code == 200, created.text
    result = SummaryResult.model_validate(created.json())
    assert [s.paragraph for s in result.sentences] == [0, 0, 1]

    page = parse((await extractive_client.get(f"/v1/summaries/{result.id}/view")).text)
    starts = [s.attrs["id"] for s in by_class(page, "sentence") if "new-paragraph" in s.classes()]
    assert starts == [result.sentences[2].id]
    # a result stored before paragraphs were recorded is shown as one run of sentences
    unknown = result.model_copy(
        update={"sentences": [s.model_copy(update={"paragraph": None}) for s in result.sentences]}
    )
    assert not by_class(parse(EvidencePage().render(unknown)), "new-paragraph")
