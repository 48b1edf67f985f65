"""Helpers shared by the Centagate tests: signed request bodies, the reference OTP rule and a
small API wrapper (other folders import them from here too)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from typing import Any

from flask.testing import FlaskClient

from mockbank.clients.centagate import sign
from mockbank.state import State

API = "/centagate/v2/CentagateWS/webresources"
REQUEST_QR = f"{API}/req/requestQrCode"
AUTH_QR = f"{API}/auth/authQRCode"
INTEGRATION_KEY = "mockbank-integration-key"
SECRET_KEY = "mockbank-secret-key"
ALICE_DEVICE = "alice-device-1"
ALICE_SECRET = "alice-device-secret"
DETAILS = "Transfer RM 250.00 to Bob (acct 1234)"


def reference_otp(secret: str, otp_challenge: str, plain_text: str) -> str:
    """The OTP rule written independently of mockbank.clients.centagate (struct, not from_bytes)."""
    message = otp_challenge + ":" + hashlib.sha256(plain_text.encode("utf-8")).hexdigest()
    mac = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), "sha1").digest()
    offset = mac[19] & 0xF
    (code,) = struct.unpack(">I", mac[offset : offset + 4])
    return f"{(code & 0x7FFFFFFF) % 1_000_000:06d}"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _client_fields(epoch: float) -> dict[str, Any]:
    """The fields every API reads besides its own: the app, the time and the browser's."""
    return {
        "authToken": "",
        "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": str(int(epoch)),
        "supportFido": "",
        "ipAddress": "203.0.113.7",
        "userAgent": "pytest",
        "browserFp": "",
    }


def _signed(body: dict[str, Any], secret_key: str, order: str, endpoint: str) -> dict[str, Any]:
    body["hmac"] = sign(body, secret_key, order, endpoint=endpoint)
    return body


def qr_body(
    epoch: float,
    *,
    order: str = "samples",
    secret_key: str = SECRET_KEY,
    **fields: Any,
) -> dict[str, Any]:
    """A signed requestQrCode body for alice's device, with `fields` overriding defaults."""
    body = {"username": "alice", "devAccId": ALICE_DEVICE, "details": b64(DETAILS)}
    body = {**body, **_client_fields(epoch), **fields}
    return _signed(body, secret_key, order, "requestQrCode")


def auth_body(
    issued: dict[str, Any],
    epoch: float,
    *,
    order: str = "samples",
    secret_key: str = SECRET_KEY,
    device_secret: str = ALICE_SECRET,
    **fields: Any,
) -> dict[str, Any]:
    """A signed authQRCode body answering `issued` (a requestQrCode object) correctly."""
    body: dict[str, Any] = {
        "username": "alice",
        "devAccId": ALICE_DEVICE,
        "otp": reference_otp(device_secret, issued["otpChallenge"], issued["plainText"]),
        "challenge": issued["otpChallenge"],
        "details": b64(issued["plainText"]),
        **_client_fields(epoch),
        "authToken": issued["authToken"],
        "transactionValue": "250.00",
        "isTransaction": "1",
        **fields,
    }
    return _signed(body, secret_key, order, "authQRCode")


def statecheck_body(
    epoch: float, *, order: str = "samples", secret_key: str = SECRET_KEY, **fields: Any
) -> dict[str, Any]:
    """A signed session/statecheck body for alice, with `fields` overriding defaults."""
    body = {"username": "alice", "authMethod": "QRCODE", **_client_fields(epoch), **fields}
    return _signed(body, secret_key, order, "statecheck")


def answer(response: Any) -> tuple[int, str, Any]:
    """(code, message, decoded object or "") of a Centagate envelope, read the way
    SecureMetric's own CENTAGATE client reads it: Gson into a map whose values it casts to
    String, so ``code``, ``message`` and ``object`` must each be a JSON string (a number would
    throw ClassCastException there); ``object`` is decoded a second time."""
    data = response.get_json() if hasattr(response, "get_json") else response.json()
    assert set(data) == {"code", "message", "object"}, data
    assert all(isinstance(data[key], str) for key in data), data
    code = data["code"]
    assert code == "0" or (code.isascii() and code.isdigit() and not code.startswith("0")), code
    obj = json.loads(data["object"]) if data["object"] else ""
    return int(code), data["message"], obj


class Api:
    """The two APIs through the Flask test client, with the app clock for timestamps."""

    def __init__(self, client: FlaskClient, state: State) -> None:
        self.client = client
        self.state = state

    def epoch(self) -> float:
        return self.state.clock.epoch()

    def post(self, path: str, body: Any) -> Any:
        if isinstance(body, bytes | str):
            return self.client.post(path, data=body, content_type="application/json")
        return self.client.post(path, json=body)

    def request_qr(self, **fields: Any) -> Any:
        return self.post(REQUEST_QR, qr_body(self.epoch(), **fields))

    def issue(self, **fields: Any) -> dict[str, Any]:
        code, message, obj = answer(self.request_qr(**fields))
        assert code == 0, message
        assert isinstance(obj, dict)
        return obj

    def authorize(self, issued: dict[str, Any], **fields: Any) -> Any:
        return self.post(AUTH_QR, auth_body(issued, self.epoch(), **fields))

    def challenges(self) -> list[dict[str, Any]]:
        return list(self.state.provider_state("centagate")["challenges"])

    def devices(self) -> dict[str, dict[str, Any]]:
        return {d["devAccId"]: d for d in self.state.provider_state("centagate")["devices"]}
