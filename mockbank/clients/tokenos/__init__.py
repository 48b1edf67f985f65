"""A small Python client for TokenOS (Token.io), mirroring the names of ``@token-io/tpp``.

It speaks the same wire format as the JavaScript SDK 1.0.57: Ed25519 member keys, the
``Token-Ed25519-SHA512`` request signature over canonical JSON, token request URLs and callback
parsing with a CSRF token. mockbank's TokenOS emulation uses the same helpers to verify what
clients send, so both sides agree by construction and the Node test keeps them honest.

    client = TokenClient("http://127.0.0.1:8787/tokenos")
    member = client.create_member({"type": "DOMAIN", "value": "shop.example.com"})
    request = member.store_token_request(client.create_transfer_token_request("10.00", "EUR")...)
"""

from __future__ import annotations

from mockbank.clients.tokenos._client import (
    Member,
    TokenClient,
    TokenError,
    WebhookError,
    encode_body,
)
from mockbank.clients.tokenos._crypto import (
    DEFAULT_DEV_KEY,
    KEY_LEVELS,
    SDK_NAME,
    SDK_VERSION,
    SIGNATURE_SCHEME,
    CallbackError,
    KeyPair,
    RawNumber,
    auth_header,
    base58,
    base64url,
    base64url_decode,
    canonical_json,
    encode_callback_state,
    encode_uri_component,
    generate_keys,
    generate_nonce,
    generate_token_request_url,
    hash_alias,
    hash_string,
    jwt_bearer,
    key_id,
    loads,
    parse_params_from_url,
    parse_token_request_callback_url,
    signing_payload,
    verify,
    verify_json,
    verify_webhook,
)

__all__ = [
    "DEFAULT_DEV_KEY",
    "KEY_LEVELS",
    "SDK_NAME",
    "SDK_VERSION",
    "SIGNATURE_SCHEME",
    "CallbackError",
    "KeyPair",
    "Member",
    "RawNumber",
    "TokenClient",
    "TokenError",
    "WebhookError",
    "auth_header",
    "base58",
    "base64url",
    "base64url_decode",
    "canonical_json",
    "encode_body",
    "encode_callback_state",
    "encode_uri_component",
    "generate_keys",
    "generate_nonce",
    "generate_token_request_url",
    "hash_alias",
    "hash_string",
    "jwt_bearer",
    "key_id",
    "loads",
    "parse_params_from_url",
    "parse_token_request_callback_url",
    "signing_payload",
    "verify",
    "verify_json",
    "verify_webhook",
]
