"""Token.io HTTP client: unauthenticated calls, member creation, and a signed member."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from mockbank.clients.tokenos._crypto import (
    DEFAULT_DEV_KEY,
    KEY_LEVELS,
    SDK_NAME,
    SDK_VERSION,
    KeyPair,
    auth_header,
    canonical_json,
    generate_keys,
    generate_nonce,
    generate_token_request_url,
    hash_alias,
    jwt_bearer,
    parse_token_request_callback_url,
    signing_payload,
    verify_webhook,
)
from mockbank.clock import wall_epoch


# -- HTTP ------------------------------------------------------------------------------------
class TokenError(Exception):
    """A TokenOS error answer: HTTP status, the ``token-error`` code name and the message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def encode_body(body: Any) -> bytes | None:
    """The bytes `_http` sends for a JSON body (what a JWT signs)."""
    return None if body is None else json.dumps(body).encode("utf-8")


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = encode_body(body)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("token-sdk", SDK_NAME)
    request.add_header("token-sdk-version", SDK_VERSION)
    request.add_header("token-dev-key", DEFAULT_DEV_KEY)
    if data is not None:
        request.add_header("Content-Type", "application/json;charset=utf-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        code = error.headers.get("token-error", "UNKNOWN")
        raise TokenError(error.code, code, text) from None


class TokenClient:
    """Unauthenticated calls and member creation (`TokenClient` in the SDK)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    @property
    def uri_host(self) -> str:
        """The base URL without its scheme: what `uriHost` signs."""
        return self.base_url.split("://", 1)[-1]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """An unauthenticated call; answers the decoded JSON or raises `TokenError`."""
        return _http(method, self.base_url + path, body)

    def create_member(
        self, alias: dict[str, str] | None = None, member_type: str = "BUSINESS"
    ) -> Member:
        """`createMember`: a member id, three self-signed keys, then the alias."""
        member_id = self.call("POST", "/members", {"memberType": member_type})["memberId"]
        keys = [generate_keys(level) for level in KEY_LEVELS]
        update = {
            "memberId": member_id,
            "operations": [{"addKey": {"key": key.to_proto()}} for key in keys],
        }
        self.call(
            "POST",
            f"/members/{member_id}/updates",
            {
                "update": update,
                "updateSignature": {
                    "memberId": member_id,
                    "keyId": keys[0].id,
                    "signature": keys[0].sign_json(update),
                },
            },
        )
        member = Member(self, member_id, {key.level: key for key in keys})
        if alias:
            member.add_alias(alias)
        return member

    def get_banks(self, query: str = "") -> Any:
        """``GET /banks`` with an optional query string."""
        return self.call("GET", "/banks" + (f"?{query}" if query else ""))

    def get_token_member(self) -> dict[str, Any]:
        """The member whose key signs callbacks (resolved as the SDK does)."""
        found = self.call(
            "GET", "/resolve-alias?alias.value=token.io&alias.type=DOMAIN&alias.realm=token"
        )
        member: dict[str, Any] = self.call("GET", f"/members/{found['member']['id']}")["member"]
        return member

    def generate_token_request_url(self, request_id: str) -> str:
        """The consent URL for a stored request."""
        return generate_token_request_url(self.base_url, request_id)

    def parse_token_request_callback_url(
        self, callback_url: str, csrf_token: str | None = None
    ) -> dict[str, str | None]:
        """Verify a callback URL with Token's published key."""
        keys = self.get_token_member()["keys"]
        return parse_token_request_callback_url(callback_url, csrf_token, keys)

    def verify_webhook(self, body: bytes, headers: Any) -> dict[str, Any]:
        """Check a delivery's ``token-signature`` with Token's published keys; the parsed body.

        `headers` is any mapping with case-insensitive ``get`` (a ``requests`` or ``http.server``
        headers object). Raises `WebhookError` on a missing or invalid signature.
        """
        keys = self.get_token_member()["keys"]
        if not verify_webhook(body, headers.get("token-signature"), keys):
            raise WebhookError("token-signature does not verify over the body")
        event: dict[str, Any] = json.loads(body)
        if headers.get("token-event") not in (None, event.get("eventType")):
            raise WebhookError("the token-event header differs from the body's eventType")
        return event


class WebhookError(ValueError):
    """A webhook delivery whose signature does not verify."""


class Member:
    """A member with its keys; every call is signed (`Member` in the SDK)."""

    def __init__(self, client: TokenClient, member_id: str, keys: dict[str, KeyPair]) -> None:
        self.client = client
        self.member_id = member_id
        self.keys = keys

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        on_behalf_of: str | None = None,
        customer_initiated: bool = False,
        key_level: str = "LOW",
        jwt: bool = False,
    ) -> Any:
        """A signed call; `path` may carry a query string. `jwt` signs with a bearer JWT."""
        if jwt:
            return self._call_jwt(method, path, body, on_behalf_of, key_level)
        bare, _, query = path.partition("?")
        # Wall time is right here: this runs in the client, which has no app clock.
        created = str(int(wall_epoch() * 1000))
        payload = signing_payload(method, self.client.uri_host, bare, created, body, query)
        key = self.keys[key_level]
        headers = {"Authorization": auth_header(self.member_id, key, payload, on_behalf_of)}
        if customer_initiated:
            headers["customer-initiated"] = "true"
        return _http(method, self.client.base_url + path, body, headers)

    def _call_jwt(
        self, method: str, path: str, body: Any, on_behalf_of: str | None, key_level: str
    ) -> Any:
        parts = urlsplit(self.client.base_url + path)
        full_path = parts.path + (f"?{parts.query}" if parts.query else "")
        authorization = jwt_bearer(
            self.member_id,
            self.keys[key_level],
            method=method,
            host=parts.netloc,
            path=full_path,
            body=encode_body(body) or b"",
        )
        headers = {"Authorization": authorization}
        if on_behalf_of:
            headers["on-behalf-of"] = on_behalf_of
        return _http(method, self.client.base_url + path, body, headers)

    def last_hash(self) -> str:
        """The member's current lastHash (for the next update's prevHash)."""
        member = self.client.call("GET", f"/members/{self.member_id}")["member"]
        return str(member.get("lastHash", ""))

    def add_alias(self, alias: dict[str, str]) -> None:
        """Normalise, hash and add an alias in a signed member update."""
        path = f"/aliases/normalize/{alias['type']}/{alias['value']}/{alias.get('realm', 'token')}"
        normalized = self.client.call("GET", path)["alias"]
        normalized.pop("realm", None)
        alias_hash = hash_alias(normalized)
        update = {
            "memberId": self.member_id,
            "operations": [{"addAlias": {"aliasHash": alias_hash}}],
            "prevHash": self.last_hash(),
        }
        key = self.keys["PRIVILEGED"]
        body = {
            "update": update,
            "updateSignature": {
                "memberId": self.member_id,
                "keyId": key.id,
                "signature": key.sign_json(update),
            },
            "metadata": [{"addAliasMetadata": {"aliasHash": alias_hash, "alias": normalized}}],
        }
        self.call("POST", f"/members/{self.member_id}/updates", body)

    def set_profile(self, profile: dict[str, str]) -> Any:
        """``PUT /profile``."""
        return self.call("PUT", "/profile", {"profile": profile})["profile"]

    def store_token_request(
        self, payload: dict[str, Any], options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """`storeTokenRequest`: `payload` is the requestPayload (callbackState already encoded)."""
        body = {"requestPayload": payload, "requestOptions": options or {}}
        result: dict[str, Any] = self.call("POST", "/token-requests", body)["tokenRequest"]
        return result

    def get_token(self, token_id: str) -> dict[str, Any]:
        """``GET /tokens/<id>``."""
        token: dict[str, Any] = self.call("GET", f"/tokens/{token_id}")["token"]
        return token

    def redeem_token(
        self,
        token: dict[str, Any],
        amount: str | None = None,
        currency: str | None = None,
        description: str | None = None,
        ref_id: str | None = None,
    ) -> dict[str, Any]:
        """`redeemToken`: a signed transfer payload."""
        transfer = token["payload"]["transfer"]
        payload: dict[str, Any] = {
            "refId": ref_id or generate_nonce(),
            "tokenId": token["id"],
            "amount": {
                "value": str(amount or transfer["lifetimeAmount"]),
                "currency": currency or transfer["currency"],
            },
        }
        if description:
            payload["description"] = description
        key = self.keys["LOW"]
        body = {
            "payload": payload,
            "payloadSignature": {
                "memberId": self.member_id,
                "keyId": key.id,
                "signature": key.sign_json(payload),
            },
        }
        result: dict[str, Any] = self.call("POST", "/transfers", body)["transfer"]
        return result

    def cancel_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """`cancelToken`: a STANDARD-key signature over the payload plus ``.cancelled``."""
        key = self.keys["STANDARD"]
        signature = {
            "memberId": self.member_id,
            "keyId": key.id,
            "signature": key.sign(canonical_json(token["payload"]) + ".cancelled"),
        }
        body = {"tokenId": token["id"], "signature": signature}
        result: dict[str, Any] = self.call("PUT", f"/tokens/{token['id']}/cancel", body)["result"]
        return result

    def set_webhook_config(self, url: str, types: list[str]) -> None:
        """``PUT /webhook/config``: where Token.io posts status changes, and which ones."""
        self.call("PUT", "/webhook/config", {"config": {"type": types, "url": url}})

    def get_webhook_config(self) -> dict[str, Any]:
        """``GET /webhook/config``: ``{type, url}``."""
        config: dict[str, Any] = self.call("GET", "/webhook/config")["config"]
        return config

    def delete_webhook_config(self) -> None:
        """``DELETE /webhook/config``."""
        self.call("DELETE", "/webhook/config")

    def get_transfer(self, transfer_id: str) -> dict[str, Any]:
        """``GET /transfers/<id>``."""
        transfer: dict[str, Any] = self.call("GET", f"/transfers/{transfer_id}")["transfer"]
        return transfer
