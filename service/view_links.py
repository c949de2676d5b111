"""Links to the evidence page, and the signed, expiring tokens they carry when the API needs a key.

A link is `PUBLIC_BASE_URL/v1/summaries/{id}/view`. When `API_KEYS` is set, a browser opening the link has no
bearer key to send, so the link carries `?token=EXPIRES.SIGNATURE`: an HMAC-SHA256, under `VIEW_LINK_SECRET`,
of the summary id and the expiry (Unix seconds). The token opens that one summary's page until it expires and
nothing else; no API key is ever put in a link. With `RESULT_SCOPE=key` the token also names (and signs) the
result's scope, a digest of the key that asked (`EXPIRES.SCOPE.SIGNATURE`), so the page shows that key's
result. Without `PUBLIC_BASE_URL` no links are made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from urllib.parse import quote

from service.config import Settings
from service.errors import ViewLinkRejected
from service.result import Links, SummaryResult

_EXPIRES = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes "²", which int() refuses
_SCOPE = re.compile(r"[0-9A-Za-z]{1,64}")
_VERSION = b"view-link-v1"  # changes when the signed message changes, so old tokens stop verifying


def view_path(summary_id: str) -> str:
    """The page's path for a summary id (the id percent-encoded, though ids are plain `[A-Za-z0-9_-]`)."""
    return f"/v1/summaries/{quote(summary_id, safe='')}/view"


class ViewLinks:
    """Makes evidence-page links and checks their tokens.

    `base_url` None: no links. `secret` None: links carry no token and no token verifies. `signed`: links
    carry a token (the API needs a key). `clock` gives Unix seconds.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        secret: bytes | None,
        signed: bool,
        ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signed and base_url is not None and secret is None:
            raise ValueError("signed links need a secret")
        self._base_url = base_url.rstrip("/") if base_url else None
        self._secret = secret
        self._signed = signed
        self._ttl_s = ttl_s
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> ViewLinks:
        secret = settings.view_link_secret
        return cls(
            base_url=settings.public_base_url,
            secret=secret.get_secret_value().encode() if secret is not None else None,
            signed=bool(settings.api_keys),
            ttl_s=settings.view_link_ttl_s,
            clock=clock,
        )

    def _signature(self, summary_id: str, expires: int, scope: str | None) -> str:
        assert self._secret is not None
        parts = [_VERSION, summary_id.encode(), str(expires).encode()]
        if scope is not None:
            parts.append(b"scope:" + scope.encode())
        message = b"\n".join(parts)
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, summary_id: str, *, expires: int, scope: str | None = None) -> str:
        """`EXPIRES.SIGNATURE` (or `EXPIRES.SCOPE.SIGNATURE`) for this summary id, valid until `expires`
        (Unix seconds)."""
        middle = "" if scope is None else f"{scope}."
        return f"{expires}.{middle}{self._signature(summary_id, expires, scope)}"

    def verify(self, summary_id: str, token: str) -> str | None:
        """The result scope the token was signed for (None: shared results); raises `ViewLinkRejected` unless
        `token` was signed for `summary_id` and has not expired."""
        expires_text, _, rest = token.partition(".")
        scope, _, signature = rest.rpartition(".")
        if (
            self._secret is None
            or not _EXPIRES.fullmatch(expires_text)
            or not (scope == "" or _SCOPE.fullmatch(scope))
        ):
            raise ViewLinkRejected("the evidence link is not valid")
        expires = int(expires_text)
        expected = self._signature(summary_id, expires, scope or None)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise ViewLinkRejected("the evidence link is not valid")
        if self._clock() >= expires:
            raise ViewLinkRejected("the evidence link has expired; ask for the summary again for a new one")
        return scope or None

    def url(self, summary_id: str, scope: str | None = None) -> str | None:
        """The page's public URL (with a fresh token when links are signed), or None without a base URL."""
        if self._base_url is None:
            return None
        url = self._base_url + view_path(summary_id)
        if self._signed:
            url += "?token=" + self.token(summary_id, expires=int(self._clock()) + self._ttl_s, scope=scope)
        return url

    def attach(self, result: SummaryResult, scope: str | None = None) -> SummaryResult:
        """`result` with `links.view` set (a copy; the cached result is never changed); `scope`: the result
        scope it was read in (RESULT_SCOPE=key)."""
        view = self.url(result.id, scope)
        if view is None:
            return result
        return result.model_copy(update={"links": Links(view=view)})
