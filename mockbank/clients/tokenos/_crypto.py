"""Token.io wire helpers: canonical JSON, base58, Ed25519 keys, request signatures, callbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mockbank.clock import wall_epoch

SIGNATURE_SCHEME = "Token-Ed25519-SHA512"
KEY_LEVELS = ("PRIVILEGED", "STANDARD", "LOW")
# The SDK's default developer key (config.json `devKey.default`); any value is accepted.
DEFAULT_DEV_KEY = "f3982819-5d8d-4123-9601-886df2780f42"
SDK_NAME = "py-mockbank"
SDK_VERSION = "1.0.57"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# -- encodings -------------------------------------------------------------------------------
class RawNumber(str):
    """A JSON number kept as the text it arrived in, so re-serialising never changes it."""


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping numbers verbatim (what JavaScript sent is what gets signed)."""
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber)


def _js_number(value: float) -> str:
    # JavaScript's Number#toString for the values a client could send.
    if not math.isfinite(value):
        raise ValueError("JSON cannot carry NaN or Infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{'+' if int(exponent) > 0 else '-'}{abs(int(exponent))}"
    return text


def canonical_json(value: Any) -> str:
    """fast-json-stable-stringify: sorted keys, no spaces (None is null, as JSON.parse gives)."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, dict):
        parts = [
            f"{json.dumps(str(k), ensure_ascii=False)}:{canonical_json(v)}"
            for k, v in sorted(value.items())
        ]
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def base64url(data: bytes) -> str:
    """base64url without padding, as the SDK's `base64Url`."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    """Inverse of `base64url`; raises ValueError on anything else."""
    if not isinstance(text, str) or not text or any(c in text for c in "+/= \n"):
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error


def base58(data: bytes) -> str:
    """Bitcoin-alphabet base58 (the SDK's `bs58.encode`)."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def hash_string(value: str) -> str:
    """`Util.hashString`: base58(SHA-256(UTF-8)); how a CSRF token travels in callbackState."""
    return base58(hashlib.sha256(value.encode("utf-8")).digest())


def hash_alias(alias: dict[str, Any]) -> str:
    """`Util.hashAndSerializeAlias`: the realm is cleared before hashing."""
    cleared = {k: v for k, v in alias.items() if k != "realm"}
    return base58(hashlib.sha256(canonical_json(cleared).encode("utf-8")).digest())


# -- keys and signatures ---------------------------------------------------------------------
@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 member key as the SDK's `Crypto.generateKeys` makes it."""

    private_key: Ed25519PrivateKey = field(repr=False)
    level: str = "PRIVILEGED"
    expires_at_ms: str | None = None

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def id(self) -> str:
        """The key id: base64url(SHA-256(public key))[:16]."""
        return key_id(self.public_key)

    def sign(self, message: str) -> str:
        """base64url Ed25519 signature of the UTF-8 message."""
        return base64url(self.private_key.sign(message.encode("utf-8")))

    def sign_json(self, value: Any) -> str:
        """Sign the canonical JSON of `value`."""
        return self.sign(canonical_json(value))

    def to_proto(self) -> dict[str, Any]:
        """The `Key` message sent in member updates."""
        key = {
            "id": self.id,
            "publicKey": base64url(self.public_key),
            "level": self.level,
            "algorithm": "ED25519",
        }
        if self.expires_at_ms:
            key["expiresAtMs"] = self.expires_at_ms
        return key


def key_id(public_key: bytes) -> str:
    """First 16 characters of base64url(SHA-256(public key))."""
    return base64url(hashlib.sha256(public_key).digest())[:16]


def generate_keys(level: str, seed: bytes | None = None) -> KeyPair:
    """A new key pair (or a deterministic one from a 32-byte seed)."""
    if level not in KEY_LEVELS:
        raise ValueError(f"key level must be one of {', '.join(KEY_LEVELS)}")
    private = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
    return KeyPair(private, level)


def verify(message: str, signature: str, public_key: str | bytes) -> bool:
    """True when `signature` (base64url) is a valid Ed25519 signature of `message`."""
    try:
        raw = public_key if isinstance(public_key, bytes) else base64url_decode(public_key)
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64url_decode(signature), message.encode("utf-8")
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_json(value: Any, signature: str, public_key: str | bytes) -> bool:
    """True when `signature` is valid over the canonical JSON of `value`."""
    return verify(canonical_json(value), signature, public_key)


def verify_webhook(
    body: bytes, signature: str | None, token_member_keys: list[dict[str, Any]]
) -> bool:
    """True when `signature` (the ``token-signature`` header) signs the raw webhook body.

    mockbank signs deliveries with Ed25519 by one of the Token member's keys (the ``keys`` of
    ``GET /members/<id>`` for the member ``/resolve-alias`` names for token.io), base64url
    without padding, over the body bytes exactly as received: verify before parsing.
    """
    if not signature:
        return False
    try:
        raw_signature = base64url_decode(signature)
    except ValueError:
        return False
    for key in token_member_keys:
        try:
            public = Ed25519PublicKey.from_public_bytes(base64url_decode(str(key["publicKey"])))
            public.verify(raw_signature, body)
        except (InvalidSignature, ValueError, KeyError):
            continue
        return True
    return False


def signing_payload(
    method: str,
    uri_host: str,
    path: str,
    created_at_ms: str,
    body: Any = None,
    query: str = "",
) -> dict[str, str]:
    """What `AuthHeader.addAuthorizationHeader` signs; `uri_host` includes any base path."""
    uri_path = path if path.startswith("/") else "/" + path
    if uri_path.endswith("/"):
        uri_path = uri_path[:-1]
    payload = {
        "method": method.upper(),
        "uriHost": uri_host,
        "uriPath": uri_path,
        "createdAtMs": created_at_ms,
    }
    if body is not None and body != "":
        payload["requestBody"] = canonical_json(body)
    if query:
        payload["queryString"] = query
    return payload


def auth_header(
    member_id: str,
    key: KeyPair,
    payload: dict[str, str],
    on_behalf_of: str | None = None,
) -> str:
    """The ``Authorization`` header value for a signed call."""
    header = (
        f"{SIGNATURE_SCHEME} member-id={member_id},key-id={key.id},"
        f"signature={key.sign_json(payload)},created-at-ms={payload['createdAtMs']}"
    )
    if on_behalf_of:
        header += f",on-behalf-of={on_behalf_of}"
    return header


def jwt_bearer(
    member_id: str,
    key: KeyPair,
    *,
    method: str,
    host: str,
    path: str,
    body: bytes = b"",
    expires_at_ms: int | None = None,
    lifetime_s: int = 60,
) -> str:
    """``Authorization: Bearer …`` for one call, as Token.io's JWT authentication specifies it.

    The claims go in the JOSE header (``alg`` EdDSA, ``kid``, ``mid``, ``host``, ``method``,
    ``path``, ``exp`` in epoch milliseconds); the payload is detached: the signature covers
    ``base64url(header) + "." + base64url(body)`` and the token is sent as ``header..signature``.
    `host` is the authority (``127.0.0.1:8787``), `path` the path as sent (query included if
    any). `expires_at_ms` defaults to now + `lifetime_s` by this machine's clock.
    """
    if expires_at_ms is None:
        # Wall time is right here: the client signs with its own clock.
        expires_at_ms = int((wall_epoch() + lifetime_s) * 1000)
    header = {
        "alg": "EdDSA",
        "kid": key.id,
        "mid": member_id,
        "host": host,
        "method": method.upper(),
        "path": path,
        "exp": expires_at_ms,
    }
    encoded = base64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    signature = key.private_key.sign(f"{encoded}.{base64url(body)}".encode("ascii"))
    return f"Bearer {encoded}..{base64url(signature)}"


# -- the token request flow ------------------------------------------------------------------
def generate_nonce() -> str:
    """An 18-character nonce (the SDK's default refId length, the longest a refId may be)."""
    return secrets.token_hex(9)


def encode_callback_state(csrf_token: str | None = None, inner_state: str | None = None) -> str:
    """`storeTokenRequest`'s `callbackState`: URL-encoded JSON {csrfTokenHash, innerState}."""
    state: dict[str, str] = {}
    if inner_state is not None:
        state["innerState"] = inner_state
    if csrf_token is not None:
        state["csrfTokenHash"] = hash_string(csrf_token)
    return encode_uri_component(json.dumps(state, separators=(",", ":")))


def encode_uri_component(value: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(value, safe="-_.!~*'()")


def generate_token_request_url(base_url: str, request_id: str) -> str:
    """`generateTokenRequestUrl`: ``{customSdkUrl}/app/request-token/{requestId}``."""
    return f"{base_url.rstrip('/')}/app/request-token/{request_id}"


class CallbackError(ValueError):
    """The callback URL is a denial, or fails the CSRF or signature check."""


def parse_params_from_url(url: str) -> dict[str, str]:
    """`Util.parseParamsFromUrl`: split on & and =, decodeURIComponent each value once."""
    query = url.split("?", 1)[1] if "?" in url else ""
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        params[name] = unquote(value.split("=")[0])
    return params


def parse_token_request_callback_url(
    callback_url: str, csrf_token: str | None, token_member_keys: list[dict[str, Any]]
) -> dict[str, str | None]:
    """`parseTokenRequestCallbackUrl`: check the CSRF hash and Token's signature.

    Returns ``{"tokenId", "innerState"}``; `token_member_keys` is the ``keys`` list of the Token
    member (``GET /members/<id>`` of the member ``/resolve-alias`` names for token.io).
    """
    params = parse_params_from_url(callback_url)
    if params.get("error"):
        raise CallbackError(f"Error at bank: {params['error']}")
    try:
        state = json.loads(unquote(params["state"]))
        signature = json.loads(params["signature"])
        token_id = params["tokenId"]
    except (KeyError, ValueError) as error:
        raise CallbackError(f"not a token request callback: {error}") from None
    if csrf_token and not hmac.compare_digest(
        str(state.get("csrfTokenHash", "")).encode(), hash_string(csrf_token).encode()
    ):
        raise CallbackError("Invalid CSRF token")
    key_id = signature.get("keyId")  # public: which key signed, not a secret
    key = next((k for k in token_member_keys if k.get("id") == key_id), None)
    if key is None:
        raise CallbackError("Invalid signature")
    signed = {"state": params["state"], "tokenId": token_id}
    if not verify_json(signed, str(signature.get("signature", "")), key["publicKey"]):
        raise CallbackError("Invalid signature")
    return {"tokenId": token_id, "innerState": state.get("innerState")}
