"""Signing a detokenized request: the generic ``forter-hmac-*`` directives and Ixopay's
``Forter-Ixopay-Signature``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from mockbank.providers.forter.errors import ProxyValidationError

HMAC_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
    "sha1": hashlib.sha1,
    "md5": hashlib.md5,
}
HMAC_HEADERS = (
    "forter-hmac-algo",
    "forter-hmac-target-header",
    "forter-hmac-secret",
    "forter-hmac-payload-template",
)
HMAC_ENCODINGS = ("base64", "hex")
DEFAULT_HMAC_ENCODING = "base64"
IXOPAY_HEADER = "forter-ixopay-signature"
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_\-]+)\s*\}\}")


def hmac_signature(
    *,
    algorithm: str,
    secret: str,
    template: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    encoding: str = DEFAULT_HMAC_ENCODING,
) -> str:
    """The seed's generic HMAC over the filled-in template.

    Base64 of the raw digest by default: the seed's one example signs for Fiserv, whose
    ``Message-Signature`` is Base64 of the HMAC-SHA256; ``encoding="hex"`` gives lowercase hex.
    """
    digest = HMAC_ALGORITHMS.get(algorithm.strip().lower())
    if digest is None:
        raise ProxyValidationError(
            f"forter-hmac-algo {algorithm[:20]!r} is not supported; use one of "
            f"{', '.join(HMAC_ALGORITHMS)}.",
            field="forter-hmac-algo",
        )
    lower = {k.lower(): v for k, v in headers.items()}
    parts: list[bytes] = []
    position = 0
    for match in _TEMPLATE.finditer(template):
        parts.append(template[position : match.start()].encode("utf-8"))
        parts.append(_template_value(match.group(1), method, path, lower, body))
        position = match.end()
    parts.append(template[position:].encode("utf-8"))
    mac = hmac.new(secret.encode("utf-8"), b"".join(parts), digest)
    return mac.hexdigest() if encoding == "hex" else base64.b64encode(mac.digest()).decode("ascii")


def _template_value(
    name: str, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> bytes:
    if name == "request-body":
        return body
    if name == "http-method":
        return method.encode()
    if name == "http-path":
        return path.encode("utf-8")
    if name.lower() in headers:
        return headers[name.lower()].encode("utf-8")
    raise ProxyValidationError(
        f"forter-hmac-payload-template uses {{{{ {name} }}}}, which is neither "
        "request-body, http-method, http-path nor a header of this request.",
        field="forter-hmac-payload-template",
    )


def ixopay_headers(
    *, key: str, method: str, request_uri: str, content_type: str, body: bytes, now: datetime
) -> dict[str, str]:
    """Ixopay's request signature (documentation.ixopay.com, "Additional security").

    ``X-Signature`` is base64(HMAC-SHA512(shared secret, METHOD \\n hex(SHA-512(body)) \\n
    Content-Type \\n Date \\n request URI)) and ``Date`` the RFC 7231 date that was signed.
    """
    date = format_datetime(now.astimezone(UTC), usegmt=True)
    message = "\n".join(
        [method.upper(), hashlib.sha512(body).hexdigest(), content_type, date, request_uri]
    )
    signature = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).digest()
    return {"Date": date, "X-Signature": base64.b64encode(signature).decode("ascii")}


def set_header(headers: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """`headers` with every `name` header replaced by one with `value`."""
    return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]


def sign_request(
    headers: list[tuple[str, str]],
    inner: Mapping[str, str],
    *,
    method: str,
    request_uri: str,
    body: bytes,
    now: datetime,
    hmac_encoding: str = DEFAULT_HMAC_ENCODING,
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Apply the request's forter-hmac-* and Forter-Ixopay-Signature instructions.

    Returns the headers to forward and notes for the journal (never a secret).
    """
    notes: dict[str, Any] = {}
    signed = _Signed(method, request_uri, body)
    if any(inner.get(name) for name in HMAC_HEADERS):
        headers, notes["hmac"] = _sign_hmac(headers, inner, signed, encoding=hmac_encoding)
    ixopay_key = inner.get(IXOPAY_HEADER)
    if ixopay_key is not None:
        headers, notes["ixopay"] = _sign_ixopay(headers, ixopay_key, signed, now=now)
    return headers, notes


@dataclass(frozen=True)
class _Signed:
    """The parts of the outgoing request a signature covers."""

    method: str
    request_uri: str
    body: bytes


def _sign_hmac(
    headers: list[tuple[str, str]], inner: Mapping[str, str], signed: _Signed, *, encoding: str
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    given = [name for name in HMAC_HEADERS if inner.get(name)]
    missing = [name for name in HMAC_HEADERS if not inner.get(name)]
    if missing:
        raise ProxyValidationError(
            f"HMAC signing needs {', '.join(missing)} too (got {', '.join(given)}).",
            field=missing[0],
        )
    signature = hmac_signature(
        algorithm=inner["forter-hmac-algo"],
        secret=inner["forter-hmac-secret"],
        template=inner["forter-hmac-payload-template"],
        method=signed.method,
        path=signed.request_uri,
        headers=dict(headers),
        body=signed.body,
        encoding=encoding,
    )
    target = inner["forter-hmac-target-header"].strip()
    if not target or any(c in target for c in " :\r\n"):
        raise ProxyValidationError(
            "forter-hmac-target-header must be a header name.",
            field="forter-hmac-target-header",
        )
    note = {"algorithm": inner["forter-hmac-algo"], "header": target, "encoding": encoding}
    return set_header(headers, target, signature), note


def _sign_ixopay(
    headers: list[tuple[str, str]], key: str, signed: _Signed, *, now: datetime
) -> tuple[list[tuple[str, str]], str]:
    if not key.strip():
        raise ProxyValidationError(
            "Forter-Ixopay-Signature must carry the Ixopay shared secret.",
            field=IXOPAY_HEADER,
        )
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    added = ixopay_headers(
        key=key.strip(),
        method=signed.method,
        request_uri=signed.request_uri,
        content_type=content_type,
        body=signed.body,
        now=now,
    )
    # Ixopay reads X-Date before Date when both are present (its PHP SDK sends both):
    # a client's own X-Date would make Ixopay check our signature against another time.
    if any(k.lower() == "x-date" for k, _ in headers):
        added["X-Date"] = added["Date"]
    for name, value in added.items():
        headers = set_header(headers, name, value)
    return headers, f"{', '.join(sorted(added))} added"
