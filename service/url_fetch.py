"""A web page in, its text out: the one place that fetches a URL for the API, the Slack bot and batch input.

Fetching a URL a caller names is a server-side request forgery risk, so every hop is checked before any
connection is made:

- http and https only, no user name or password in the URL;
- the host name is resolved once per hop and *every* address it resolves to must be public: loopback,
  private (RFC 1918, unique-local), link-local (which holds the cloud metadata address 169.254.169.254),
  shared (100.64/10), multicast, reserved and unspecified addresses are refused, as is an IPv4 address
  hidden in an IPv6 one (mapped, NAT64, 6to4);
- the connection goes to the address that was checked (the URL is rewritten to that IP, with the original
  `Host` header and, for https, the original name as SNI and for certificate verification), so a second,
  different DNS answer (DNS rebinding) is never used;
- redirects are followed by hand, at most `max_redirects`, each new location checked as above;
- HTML, XHTML and plain text only, at most `max_bytes` (checked on `Content-Length` and while reading), the
  whole fetch within `timeout_s`; no proxy from the environment;
- a compressed page (gzip or deflate, one layer; nothing else is asked for or read) is inflated here, never
  past `max_bytes`: a few hundred bytes of stacked gzip cannot become gigabytes in memory;
- a charset that names no text encoding (`base64`, `rot13`) is ignored, as an unknown one is.

`URL_ALLOWLIST` (CIDRs or host names) lets through what the checks would refuse: an intranet news site, or the
loopback page server of the tests. The guard is on by default.
"""

from __future__ import annotations

import asyncio
import codecs
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from service.errors import UrlFetchFailed, UrlForbidden, UrlTooLarge

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CONTENT_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text"}
_REDIRECTS = {301, 302, 303, 307, 308}
# The content encodings asked for and inflated here (zlib's automatic gzip-or-zlib header detection).
_INFLATED = {"gzip": 32 + zlib.MAX_WBITS, "x-gzip": 32 + zlib.MAX_WBITS, "deflate": 32 + zlib.MAX_WBITS}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_USER_AGENT = "incident-summarizer (+https://github.com/incident-summarizer)"


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # the URL as asked for
    final_url: str  # where the last redirect led
    kind: str  # "html" or "text"
    body: str


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver, as a connection would use it)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_class(address: IPAddress) -> str | None:
    """Why `address` may not be fetched ("loopback", "private", "link-local", ...), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_class(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),  # 169.254.169.254, the cloud metadata service, is here
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return name
    return None if address.is_global else "non-public"


@dataclass(frozen=True, slots=True)
class Allowlist:
    """`URL_ALLOWLIST`: networks and host names that may be fetched whatever their addresses."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (e.strip().rstrip(".") for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", entry):
                    raise ValueError(f"URL_ALLOWLIST: {entry!r} is neither a CIDR nor a host name") from None
                hosts.add(entry.lower())
        return cls(tuple(networks), frozenset(hosts))

    def admits_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def admits(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True, slots=True)
class _Hop:
    url: str  # as the page is known (name, port, path)
    connect_url: str  # the same with the checked address in place of the name
    host_header: str
    sni: str | None


class UrlFetcher:
    """Fetches one page per call with the checks above. `resolver` is injectable (tests, custom DNS)."""

    def __init__(
        self,
        *,
        allowlist: Allowlist | None = None,
        max_bytes: int = 3_000_000,
        timeout_s: float = 10.0,
        max_redirects: int = 5,
        resolver: Resolver = resolve_host,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.allowlist = allowlist or Allowlist()
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.max_redirects = max_redirects
        self._resolve = resolver
        self._verify = verify  # certificates are checked against the URL's host name (tests: their own CA)

    async def fetch(self, url: str) -> FetchedPage:
        """The page at `url`; raises `UrlForbidden`, `UrlTooLarge` or `UrlFetchFailed`."""
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._fetch(url)
        except TimeoutError:
            raise UrlFetchFailed(f"fetching {url} took longer than {self.timeout_s:g} s", url=url) from None

    async def _fetch(self, url: str) -> FetchedPage:
        timeout = httpx.Timeout(self.timeout_s)
        async with httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=self._verify
        ) as client:
            current = url
            for _ in range(self.max_redirects + 1):
                hop = await self._checked(current)
                request = client.build_request(
                    "GET",
                    hop.connect_url,
                    headers={
                        "Host": hop.host_header,
                        "User-Agent": _USER_AGENT,
                        "Accept": "text/html, text/plain",
                        "Accept-Encoding": ", ".join(_INFLATED),
                    },
                    extensions={"sni_hostname": hop.sni} if hop.sni else None,
                )
                try:
                    response = await client.send(request, stream=True)
                except httpx.HTTPError as error:
                    raise UrlFetchFailed(
                        f"fetching {current} failed: {type(error).__name__}", url=url
                    ) from None
                try:
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    return await self._page(url, current, response)
                finally:
                    await response.aclose()
            raise UrlFetchFailed(f"{url} redirected more than {self.max_redirects} times", url=url)

    async def _checked(self, url: str) -> _Hop:
        """The hop to `url` once its scheme, host and every address it resolves to have passed the checks."""
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UrlForbidden(f"{url!r} is not a valid URL", url=url) from None
        if parts.scheme not in ("http", "https"):
            raise UrlForbidden(
                f"only http and https URLs can be fetched, not {parts.scheme or 'this'!r}", url=url
            )
        host = parts.hostname
        if not host:
            raise UrlForbidden(f"{url!r} has no host", url=url)
        if parts.username is not None or parts.password is not None:
            raise UrlForbidden("a URL with a user name or password is not fetched", url=url)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses: Sequence[str] = [str(literal)]
        else:
            try:
                addresses = await self._resolve(host, port)
            except OSError:
                raise UrlFetchFailed(f"the host {host!r} cannot be resolved", url=url) from None
            if not addresses:
                raise UrlFetchFailed(f"the host {host!r} has no address", url=url)
        checked = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
        if not self.allowlist.admits_host(host):
            for address in checked:
                why = None if self.allowlist.admits(address) else address_class(address)
                if why is not None:
                    raise UrlForbidden(
                        f"{host} resolves to a {why} address ({address}); such addresses are not fetched",
                        url=url,
                        address_class=why,
                    )
        pinned = checked[0]
        ip_host = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        default_port = 443 if parts.scheme == "https" else 80
        netloc = ip_host if parts.port in (None, default_port) else f"{ip_host}:{parts.port}"
        named = host if ":" not in host else f"[{host}]"
        host_header = named if parts.port in (None, default_port) else f"{named}:{parts.port}"
        path = parts.path or "/"
        connect_url = urlunsplit((parts.scheme, netloc, path, parts.query, ""))
        sni = host if parts.scheme == "https" and literal is None else None
        return _Hop(url, connect_url, host_header, sni)

    async def _page(self, url: str, final_url: str, response: httpx.Response) -> FetchedPage:
        if response.status_code != 200:
            raise UrlFetchFailed(
                f"{final_url} answered HTTP {response.status_code}", url=url, status_code=response.status_code
            )
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        kind = _CONTENT_TYPES.get(media_type)
        if kind is None:
            raise UrlFetchFailed(
                f"{final_url} is {media_type or 'of no declared type'}, not an HTML or text page", url=url
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large(url)
        body = await self._body(url, final_url, response)
        text = body.decode(_charset(response, body[:4096], kind), errors="replace")
        return FetchedPage(url=url, final_url=final_url, kind=kind, body=text)

    async def _body(self, url: str, final_url: str, response: httpx.Response) -> bytes:
        """The body as sent (raw bytes), inflated here when gzip or deflate, never past `max_bytes`."""
        encodings = [
            e.strip().lower()
            for e in response.headers.get("content-encoding", "").split(",")
            if e.strip().lower() not in ("", "identity")
        ]
        if len(encodings) > 1 or (encodings and encodings[0] not in _INFLATED):
            raise UrlFetchFailed(
                f"{final_url} is sent with the content encoding {', '.join(encodings)!r}, which is not read",
                url=url,
            )
        inflater = zlib.decompressobj(_INFLATED[encodings[0]]) if encodings else None
        body, sent = bytearray(), 0
        try:
            async for chunk in response.aiter_raw():
                sent += len(chunk)
                if inflater is None:
                    body += chunk
                else:  # at most one byte past the limit: enough to know it is passed
                    body += inflater.decompress(chunk, self.max_bytes + 1 - len(body))
                if len(body) > self.max_bytes or sent > self.max_bytes:
                    raise self._too_large(url)
            if inflater is not None:
                body += inflater.flush()
        except httpx.HTTPError as error:
            raise UrlFetchFailed(f"reading {final_url} failed: {type(error).__name__}", url=url) from None
        except zlib.error:
            raise UrlFetchFailed(f"{final_url} sent a body that does not inflate", url=url) from None
        return bytes(body)

    def _too_large(self, url: str) -> UrlTooLarge:
        return UrlTooLarge(
            f"the page at {url} is larger than {self.max_bytes:,} bytes", url=url, limit=self.max_bytes
        )


def _charset(response: httpx.Response, head: bytes, kind: str) -> str:
    """The page's encoding: the Content-Type's charset, else an HTML page's `<meta charset>`, else UTF-8."""
    candidates = [response.charset_encoding]
    if kind == "html":
        found = _META_CHARSET.search(head)
        candidates.append(found.group(1).decode("ascii") if found else None)
    for name in candidates:
        if name:
            try:
                encoding = codecs.lookup(name).name
                b"a".decode(encoding)  # a codec that is no text encoding (base64, rot13) raises LookupError
            except LookupError:
                continue
            return encoding
    return "utf-8"
