"""An integrator's client for Forter's tokenization API and Detokenization Proxy.

What a merchant's backend writes against Forter (or mockbank's Forter): tokenize cards with the
site credentials, then send requests to a PSP through the proxy with the token in
``forter-token`` and ``{{ placeholders }}`` in the body; the proxy puts the card in. Nothing
here imports Flask or the app::

    from mockbank.clients.forter import ForterClient

    forter = ForterClient("http://127.0.0.1:8787/forter", "SITE_ID", "SITE_SECRET")
    card = forter.tokenize({"cardNumber": "4111111111111111", "expirationMonth": 12,
                            "expirationYear": 2030})
    with forter.proxy_session("http://127.0.0.1:8788", ca_file, token=card["token"]) as psp:
        psp.post("https://psp.example/pay", data='{"pan": "{{ card_number }}"}')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

SANDBOX_URL = "https://pci-tokenization-sandbox.checkouttools.com"
# The proxy's own statuses, never a target's (Forter reserves them for the proxy).
PROXY_STATUSES = frozenset({407, 502, 555, 556, 565})


class ForterError(Exception):
    """Forter's JSON error envelope: ``{"error": message, "code": CODE[, "field": name]}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.field = status, code, message, field

    @classmethod
    def from_response(cls, response: requests.Response) -> ForterError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            response.status_code,
            str(body.get("code") or "UNKNOWN"),
            str(body.get("error") or response.reason or ""),
            body.get("field"),
        )


def proxy_error(response: requests.Response) -> ForterError | None:
    """The proxy's own refusal (407, 502, 555, 556, 565 in Forter's JSON), else None: any
    other answer is the target's."""
    if response.status_code not in PROXY_STATUSES:
        return None
    error = ForterError.from_response(response)
    return error if error.code != "UNKNOWN" else None


@dataclass(frozen=True)
class HmacSigning:
    """The proxy signs the detokenized request: ``forter-hmac-*`` directives."""

    algorithm: str  # sha256, sha512, sha1, md5
    target_header: str  # where the signature goes, e.g. Message-Signature
    secret: str
    payload_template: str  # e.g. "{{ request-body }}"


def forwarding_headers(
    *,
    token: str | None = None,
    alias: tuple[str, str] | None = None,
    cvc_token: str | None = None,
    hmac: HmacSigning | None = None,
    ixopay_secret: str | None = None,
) -> dict[str, str]:
    """The ``forter-*`` headers that tell the proxy what to put in (the proxy strips them)."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["forter-token"] = token
    if alias is not None:
        headers["forter-token-alias-key"], headers["forter-token-alias-value"] = alias
    if cvc_token is not None:
        headers["forter-cvc-token"] = cvc_token
    if hmac is not None:
        headers.update(
            {
                "forter-hmac-algo": hmac.algorithm,
                "forter-hmac-target-header": hmac.target_header,
                "forter-hmac-secret": hmac.secret,
                "forter-hmac-payload-template": hmac.payload_template,
            }
        )
    if ixopay_secret is not None:
        headers["Forter-Ixopay-Signature"] = ixopay_secret
    return headers


def proxy_url(url: str, site_id: str, site_secret: str, *, sandbox: str | None = None) -> str:
    """The proxy URL with the site credentials in it (and a mockbank sandbox after ``+``)."""
    parts = urlsplit(url)
    user = site_id if sandbox is None else f"{site_id}+{sandbox}"
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(site_secret, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class ProxySession(requests.Session):
    """A session whose requests go through the proxy, trusting its CA, with the forwarding
    headers on each request.

    The proxy and the CA are applied per request: requests lets ``HTTPS_PROXY`` and
    ``REQUESTS_CA_BUNDLE`` from the environment override a session's own settings.
    """

    def __init__(self, proxy: str, ca_file: str | Path, headers: Mapping[str, str]) -> None:
        super().__init__()
        self.proxies = {"http": proxy, "https": proxy}
        self.ca_file = str(ca_file)
        self.headers.update(headers)

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("proxies", self.proxies)
        kwargs.setdefault("verify", self.ca_file)
        return super().request(method, url, *args, **kwargs)


class ForterClient:
    """Forter's tokenization API with a site's credentials, and proxy sessions for that site."""

    def __init__(
        self,
        base_url: str,
        site_id: str,
        site_secret: str,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.site_id, self.site_secret = site_id, site_secret
        self.session = session or requests.Session()
        self.timeout = timeout

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self.session.post(
            f"{self.base_url}/v1/tokenization/{path}",
            json=dict(body),
            auth=(self.site_id, self.site_secret),
            timeout=self.timeout,
        )
        if response.status_code != 200:
            raise ForterError.from_response(response)
        answer: dict[str, Any] = response.json()
        return answer

    def tokenize(self, card: Mapping[str, Any]) -> dict[str, Any]:
        """A multi-use token for `card` (``cardNumber``, ``expirationMonth``,
        ``expirationYear``, optional ``cardHolderName``, ``alias``, ``extra``; never a CVC)."""
        return self._post("tokenize", card)

    def tokenize_single_use(self, card: Mapping[str, Any]) -> dict[str, Any]:
        """A single-use token (24 hours; may hold ``cvc``, or be a CVC-only token)."""
        return self._post("tokenize-single-use", card)

    def upgrade(self, token: str) -> dict[str, Any]:
        """A multi-use token from a single-use one (the CVC is not kept)."""
        return self._post("upgrade", {"token": token})

    def proxy_session(
        self,
        proxy: str,
        ca_file: str | Path,
        *,
        sandbox: str | None = None,
        **forwarding: Any,
    ) -> ProxySession:
        """A session through the proxy at `proxy` (``http://host:port``), trusting `ca_file`,
        sending `forwarding_headers(**forwarding)` (``token=``, ``alias=``, ``cvc_token=``,
        ``hmac=``, ``ixopay_secret=``) with every request."""
        url = proxy_url(proxy, self.site_id, self.site_secret, sandbox=sandbox)
        return ProxySession(url, ca_file, forwarding_headers(**forwarding))

    def detokenize(
        self,
        proxy: str,
        ca_file: str | Path,
        target: str,
        body: str | bytes,
        *,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        **forwarding: Any,
    ) -> requests.Response:
        """Send `body` (with ``{{ placeholders }}``) to `target` through the proxy; raises
        `ForterError` when the proxy itself refuses (407, 502, 555, 556, 565)."""
        with self.proxy_session(proxy, ca_file, **forwarding) as session:
            response: requests.Response = session.request(
                method, target, data=body, headers=dict(headers or {}), timeout=self.timeout
            )
        error = proxy_error(response)
        if error is not None:
            raise error
        return response
