"""`{"url": …}` requests: the page fetched through the SSRF guard (service/url_fetch.py), then the HTML path.

Every page comes from the loopback page server (tests/fakes/page_server.py), which only `URL_ALLOWLIST`
(127.0.0.1/32) lets through; every refused address is refused before any connection is made, so these tests
never send a packet beyond loopback.
"""

from __future__ import annotations

import ssl
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trustme
from pydantic import ValidationError

from service.article import Article, ArticleIn, prepare
from service.config import Settings
from service.errors import UrlFetchFailed, UrlForbidden, UrlTooLarge
from service.schema import IncidentSummary
from service.url_fetch import Allowlist, UrlFetcher, address_class
from tests.conftest import AppClient, FakeEngine, assert_problem, minimal_summary, sample_text
from tests.fakes.page_server import DATA, PageServer

ARTICLE_PAGE = "/article/wordpress_checkpoint_clash.html"
LOOPBACK = Allowlist.parse(["127.0.0.1/32"])


@pytest.fixture
async def pages() -> AsyncIterator[PageServer]:
    async with PageServer() as server:
        yield server


class Resolver:
    """A DNS of fixed answers, counting its look-ups."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


def url_settings(**overrides: Any) -> Settings:
    return Settings(engine="extractive", cache_url="memory://", **overrides)


# --- the fetcher ---------------------------------------------------------------------------------------


async def test_an_allowed_page_is_fetched_as_html(pages: PageServer) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url(ARTICLE_PAGE))

    assert page.kind == "html"
    assert page.body == (DATA / "html" / "wordpress_checkpoint_clash.html").read_text(encoding="utf-8")


async def test_a_text_page_is_fetched_as_text(pages: PageServer) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url("/plain/derik_vehicle_collision"))

    assert (page.kind, page.body) == ("text", sample_text("derik_vehicle_collision"))


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("[::1]", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("[fd00::1]", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("[fe80::1]", "link-local"),
        ("[::ffff:169.254.169.254]", "link-local"),  # IPv4-mapped
        ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 of 169.254.169.254
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("[fec0::1]", "site-local"),  # deprecated, but still routed privately by some networks
    ],
)
async def test_every_non_public_address_class_is_refused_by_default(host: str, why: str) -> None:
    with pytest.raises(UrlForbidden) as refused:
        await UrlFetcher().fetch(f"http://{host}/latest/meta-data/")

    assert refused.value.address_class == why


async def test_a_name_that_resolves_to_loopback_is_refused(pages: PageServer) -> None:
    resolver = Resolver({"news.example": ["127.0.0.1"]})
    with pytest.raises(UrlForbidden) as refused:
        await UrlFetcher(resolver=resolver).fetch(pages.url(ARTICLE_PAGE, host="news.example"))

    assert refused.value.address_class == "loopback"
    assert pages.requests == []  # refused before connecting


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolver = Resolver({"news.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(UrlForbidden, match=r"private address \(10\.0\.0\.7\)"):
        await UrlFetcher(resolver=resolver).fetch("https://news.example/a")


async def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(pages: PageServer) -> None:
    """DNS rebinding: the name is resolved once per hop and the connection made to the address that passed."""
    resolver = Resolver({"news.example": ["127.0.0.1"]})
    fetcher = UrlFetcher(allowlist=LOOPBACK, resolver=resolver)
    page = await fetcher.fetch(pages.url(ARTICLE_PAGE, host="news.example"))

    assert page.kind == "html"
    assert resolver.lookups == ["news.example"]
    [request] = pages.requests
    assert request.host == f"news.example:{pages.port}"


async def test_https_goes_to_the_checked_address_with_the_name_for_sni_and_the_certificate() -> None:
    """The connection is pinned to 127.0.0.1, yet TLS speaks to and verifies `news.example`: the certificate
    (for news.example only) is accepted for that name and refused for another name of the same address."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.example").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    resolver = Resolver({"news.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    fetcher = UrlFetcher(allowlist=LOOPBACK, resolver=resolver, verify=client_tls)
    async with PageServer(tls=server_tls) as pages:
        page = await fetcher.fetch(pages.url(ARTICLE_PAGE, host="news.example"))
        with pytest.raises(UrlFetchFailed, match="ConnectError"):
            await fetcher.fetch(pages.url(ARTICLE_PAGE, host="other.example"))
        port = pages.port

    assert page.kind == "html"
    assert [r.host for r in pages.requests] == [f"news.example:{port}"]


async def test_an_allowlisted_host_name_is_fetched_whatever_it_resolves_to(pages: PageServer) -> None:
    resolver = Resolver({"intranet.example": ["127.0.0.1"]})
    fetcher = UrlFetcher(allowlist=Allowlist.parse(["intranet.example"]), resolver=resolver)

    page = await fetcher.fetch(pages.url(ARTICLE_PAGE, host="intranet.example"))

    assert page.kind == "html"


async def test_a_redirect_to_the_metadata_address_is_refused(pages: PageServer) -> None:
    url = pages.url("/redirect?to=http://169.254.169.254/latest/meta-data/iam/")
    with pytest.raises(UrlForbidden) as refused:
        await UrlFetcher(allowlist=LOOPBACK).fetch(url)

    assert refused.value.address_class == "link-local"
    assert len(pages.requests) == 1  # the redirect was read; the metadata address was never asked


async def test_a_redirect_to_a_name_of_a_private_address_is_refused(pages: PageServer) -> None:
    resolver = Resolver({"internal.example": ["192.168.0.10"]})
    url = pages.url("/redirect?to=http://internal.example/admin")
    with pytest.raises(UrlForbidden, match="private"):
        await UrlFetcher(allowlist=LOOPBACK, resolver=resolver).fetch(url)


async def test_an_allowed_redirect_is_followed(pages: PageServer) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url(f"/redirect?to={ARTICLE_PAGE}"))

    assert page.final_url == pages.url(ARTICLE_PAGE)
    assert [r.path for r in pages.requests] == [f"/redirect?to={ARTICLE_PAGE}", ARTICLE_PAGE]


async def test_redirects_are_limited(pages: PageServer) -> None:
    loop = pages.url("/redirect?to=/redirect%3Fto%3D/redirect")
    with pytest.raises(UrlFetchFailed, match="redirected more than 1 times"):
        await UrlFetcher(allowlist=LOOPBACK, max_redirects=1).fetch(loop)

    assert len(pages.requests) == 2


@pytest.mark.parametrize("route", ["/large?bytes=200000", "/declared?bytes=200000"])
async def test_a_page_over_the_size_limit_is_refused(pages: PageServer, route: str) -> None:
    with pytest.raises(UrlTooLarge) as refused:
        await UrlFetcher(allowlist=LOOPBACK, max_bytes=50_000).fetch(pages.url(route))

    assert refused.value.limit == 50_000


async def test_a_page_within_the_size_limit_is_read_whole(pages: PageServer) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK, max_bytes=50_000).fetch(pages.url("/large?bytes=40000"))

    assert len(page.body) == 40_000


async def test_a_gzipped_page_is_inflated(pages: PageServer) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK, max_bytes=50_000).fetch(pages.url("/gzip?bytes=40000"))

    assert page.body.count("x") == 40_000 and page.body.startswith("<html>")


async def test_a_compression_bomb_is_never_inflated_past_the_limit(
    pages: PageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """5 MB of HTML gzipped to a few kilobytes: inflated at most to the limit (plus one byte), not in full."""
    outputs: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, wbits: int) -> None:
            self._inflater = real(wbits)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inflater.decompress(data, max_length)
            outputs.append(len(out))
            return out

        def flush(self) -> bytes:
            return self._inflater.flush()

    monkeypatch.setattr("service.url_fetch.zlib.decompressobj", Spy)
    with pytest.raises(UrlTooLarge):
        await UrlFetcher(allowlist=LOOPBACK, max_bytes=50_000).fetch(pages.url("/gzip?bytes=5000000"))

    assert outputs and sum(outputs) <= 50_001


async def test_stacked_encodings_are_not_read(pages: PageServer) -> None:
    """`gzip, gzip`: a few hundred bytes that would inflate to gigabytes; one layer is all a page needs."""
    with pytest.raises(UrlFetchFailed, match="content encoding"):
        await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url("/gzip?layers=2&bytes=5000000"))


@pytest.mark.parametrize("charset", ["base64", "rot13", "hex", "no-such-charset"])
async def test_a_charset_that_is_no_text_encoding_is_ignored(pages: PageServer, charset: str) -> None:
    page = await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url(f"/charset/{charset}"))

    assert page.body.startswith("Two soldiers were killed")


async def test_a_page_that_does_not_answer_in_time_fails(pages: PageServer) -> None:
    with pytest.raises(UrlFetchFailed, match=r"took longer than 0\.2 s"):
        await UrlFetcher(allowlist=LOOPBACK, timeout_s=0.2).fetch(pages.url("/slow"))


async def test_a_page_that_is_not_html_or_text_is_refused(pages: PageServer) -> None:
    with pytest.raises(UrlFetchFailed, match="image/png, not an HTML or text page"):
        await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url("/image.png"))


async def test_an_error_status_fails_with_the_status(pages: PageServer) -> None:
    with pytest.raises(UrlFetchFailed) as failed:
        await UrlFetcher(allowlist=LOOPBACK).fetch(pages.url("/status/404"))

    assert failed.value.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://news.example/a",
        "gopher://127.0.0.1:70/",
        "http://user:pw@news.example/",
        "/a",
    ],
)
async def test_only_plain_http_and_https_urls_are_fetched(url: str) -> None:
    resolver = Resolver({})
    with pytest.raises(UrlForbidden):
        await UrlFetcher(resolver=resolver).fetch(url)
    assert resolver.lookups == []


def test_the_allowlist_takes_cidrs_and_host_names_and_nothing_else() -> None:
    allowlist = Allowlist.parse(["10.0.0.0/8", " intranet.example. ", "::1"])
    assert allowlist.hosts == {"intranet.example"}
    assert [str(n) for n in allowlist.networks] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValidationError, match="URL_ALLOWLIST"):
        Settings(url_allowlist="10.0.0.0/8, not a host!")
    assert Settings(url_allowlist="127.0.0.1/32,pages.test").url_allowlist == ("127.0.0.1/32", "pages.test")


def test_public_addresses_pass_the_check() -> None:
    import ipaddress

    assert address_class(ipaddress.ip_address("93.184.216.34")) is None
    assert address_class(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")) is None


# --- the API -------------------------------------------------------------------------------------------


async def test_a_url_is_summarized_through_the_html_path(
    pages: PageServer, app_client: AppClient, extractive_engine: object
) -> None:
    settings = url_settings(url_allowlist="127.0.0.1/32")
    html = (DATA / "html" / "wordpress_checkpoint_clash.html").read_text(encoding="utf-8")
    async with app_client(settings) as client:
        by_url = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE)})
        again = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE)})
        by_html = await client.post("/v1/summaries", json={"html": html})

    assert by_url.status_code == 200, by_url.text
    assert by_url.json()["sentences"] == by_html.json()["sentences"]  # the same page text, the same sentences
    assert by_url.json()["summary"] == by_html.json()["summary"]
    assert again.json()["id"] == by_url.json()["id"] and again.json()["meta"]["cached"] is True
    assert by_url.json()["id"] != by_html.json()["id"]  # the URL is part of the cache key
    assert len(pages.requests) == 2  # fetched each time: the key is the URL and what it serves now


async def test_the_url_becomes_the_source_url(pages: PageServer, app_client: AppClient) -> None:
    seen: list[Article] = []

    def build(article: Article) -> IncidentSummary:
        seen.append(article)
        return minimal_summary(article)

    settings = url_settings(url_allowlist="127.0.0.1/32")
    url = pages.url("/plain/syria_checkpoint_shootout")
    async with app_client(settings, FakeEngine(build=build)) as client:
        response = await client.post("/v1/summaries", json={"url": url, "published_at": "2024-02-12"})

    assert response.status_code == 200, response.text
    [article] = seen
    assert article.source_url == url
    expected = prepare(ArticleIn(text=sample_text("syria_checkpoint_shootout")), max_chars=200_000)
    assert article.text == expected.text


async def test_the_guard_is_on_by_default(pages: PageServer, app_client: AppClient) -> None:
    async with app_client(url_settings()) as client:
        by_address = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE)})
        by_name = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE, host="localhost")})
        metadata = await client.post(
            "/v1/summaries", json={"url": "http://169.254.169.254/latest/meta-data/"}
        )

    body = assert_problem(by_address, 422, "url-forbidden")
    assert body["address_class"] == "loopback" and body["url"] == pages.url(ARTICLE_PAGE)
    assert assert_problem(by_name, 422, "url-forbidden")["address_class"] == "loopback"
    assert assert_problem(metadata, 422, "url-forbidden")["address_class"] == "link-local"
    assert pages.requests == []


@pytest.mark.parametrize(
    ("route", "status", "slug"),
    [
        ("/large?bytes=200000", 413, "url-too-large"),
        ("/status/404", 502, "url-fetch-failed"),
        ("/image.png", 502, "url-fetch-failed"),
        ("/redirect?to=http://169.254.169.254/", 422, "url-forbidden"),
    ],
)
async def test_fetch_failures_are_problems(
    pages: PageServer, app_client: AppClient, route: str, status: int, slug: str
) -> None:
    settings = url_settings(url_allowlist="127.0.0.1/32", url_max_bytes=50_000)
    async with app_client(settings, FakeEngine()) as client:
        response = await client.post("/v1/summaries", json={"url": pages.url(route)})

    body = assert_problem(response, status, slug)
    if slug == "url-too-large":
        assert body["limit"] == 50_000
    if route == "/status/404":
        assert body["page_status"] == 404


@pytest.mark.parametrize(
    "other", [{"text": "Two soldiers were killed."}, {"html": "<p>Two were killed.</p>"}]
)
async def test_a_url_goes_alone(pages: PageServer, app_client: AppClient, other: dict[str, str]) -> None:
    async with app_client(url_settings(url_allowlist="127.0.0.1/32"), FakeEngine()) as client:
        response = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE), **other})

    assert_problem(response, 422, "conflicting-input")
    assert pages.requests == []


async def test_a_page_without_article_text_has_no_sentences(pages: PageServer, app_client: AppClient) -> None:
    async with app_client(url_settings(url_allowlist="127.0.0.1/32"), FakeEngine()) as client:
        response = await client.post("/v1/summaries", json={"url": pages.url("/large?bytes=0")})

    assert_problem(response, 422, "no-sentences")


async def test_a_fetched_pages_publication_date_anchors_its_relative_dates(
    pages: PageServer, app_client: AppClient, extractive_engine: object
) -> None:
    """The page's markup says 2024-03-06 and its article "on Tuesday evening": the incident is 2024-03-05."""
    async with app_client(url_settings(url_allowlist="127.0.0.1/32")) as client:
        response = await client.post("/v1/summaries", json={"url": pages.url(ARTICLE_PAGE)})

    assert response.status_code == 200, response.text
    assert response.json()["summary"]["date"]["start"] == "2024-03-05"
