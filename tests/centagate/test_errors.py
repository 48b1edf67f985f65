"""Bad input of every shape gets Centagate's envelope, never a 500, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.centagate.helpers import API, AUTH_QR, REQUEST_QR, Api, answer, auth_body, qr_body


@pytest.mark.parametrize("path", [REQUEST_QR, AUTH_QR], ids=["request-qr", "auth-qr"])
@pytest.mark.parametrize(
    ("body", "hint"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"alice"', "JSON object"),
        (b"null", "JSON object"),
        (b'{"username": "\xff\xfe"}', "UTF-8"),
        (b"{}", "is required"),
    ],
    ids=["empty", "broken", "array", "string", "null", "latin1", "empty-object"],
)
def test_malformed_bodies_are_10002_with_http_200(
    api: Api, snapshot: Any, path: str, body: bytes, hint: str
) -> None:
    before = snapshot()
    response = api.post(path, body)
    assert response.status_code == 200
    code, message, obj = answer(response)
    assert (code, obj) == (10002, "")
    assert hint in message
    assert snapshot() == before


@pytest.mark.parametrize("path", [REQUEST_QR, AUTH_QR], ids=["request-qr", "auth-qr"])
@pytest.mark.parametrize(
    "field", ["username", "details", "unixTimestamp", "userAgent", "hmac", "HMAC"]
)
def test_lone_surrogate_escape_in_a_field_is_10002_naming_it(
    api: Api, snapshot: Any, path: str, field: str
) -> None:
    # "\ud800" is valid JSON but no text: it used to reach the HMAC and answer 500.
    issued = api.issue()
    before = snapshot()
    body = auth_body(issued, api.epoch()) if path == AUTH_QR else qr_body(api.epoch())
    raw = json.dumps(body)[:-1] + f', "{field}": "a\\ud800b"}}'
    response = api.post(path, raw)
    assert response.status_code == 200
    code, message, obj = answer(response)
    assert (code, obj) == (10002, "")
    assert f"{field} contains an unpaired UTF-16 surrogate" in message
    assert snapshot() == before


def test_lone_surrogate_in_a_field_name_is_10002(api: Api) -> None:
    raw = json.dumps(qr_body(api.epoch()))[:-1] + ', "\\udc00": "x"}'
    code, message, _ = answer(api.post(REQUEST_QR, raw))
    assert code == 10002
    assert "a field name contains an unpaired UTF-16 surrogate" in message


@pytest.mark.parametrize("path", [REQUEST_QR, AUTH_QR], ids=["request-qr", "auth-qr"])
def test_deeply_nested_json_is_10002_not_a_crash(api: Api, path: str) -> None:
    raw = '{"username": ' + '{"a": ' * 50_000 + "1" + "}" * 50_001
    response = api.post(path, raw)
    assert response.status_code == 200
    code, message, _ = answer(response)
    assert code == 10002
    assert "nested too deeply" in message


def test_a_utf8_byte_order_mark_before_the_json_is_skipped(api: Api) -> None:
    # .NET's default UTF8Encoding writes a BOM; Java JSON readers skip it, so does mockbank.
    raw = b"\xef\xbb\xbf" + json.dumps(qr_body(api.epoch())).encode()
    code, message, obj = answer(api.post(REQUEST_QR, raw))
    assert code == 0, message
    assert obj["otpChallenge"]


def test_form_encoded_body_is_10002(api: Api) -> None:
    response = api.client.post(REQUEST_QR, data={"username": "alice"})
    assert answer(response)[0] == 10002


def test_unknown_path_is_404_in_the_envelope(api: Api) -> None:
    response = api.client.post(f"{API}/auth/authSomethingElse", json={})
    assert response.status_code == 404
    code, message, _ = answer(response)
    assert code == 23025  # the current table's Web API Error
    assert "authSomethingElse" in message


def test_wrong_method_is_405_in_the_envelope(api: Api) -> None:
    response = api.client.get(REQUEST_QR)
    assert response.status_code == 405
    assert answer(response)[0] == 23025


def test_oversized_body_is_413_in_the_envelope(api: Api) -> None:
    response = api.post(REQUEST_QR, b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert response.status_code == 413
    assert answer(response)[0] == 10002


@pytest.mark.parametrize(("endpoint", "path"), [("request-qr", REQUEST_QR), ("auth-qr", AUTH_QR)])
def test_injected_fault_is_rendered_in_the_envelope(api: Api, endpoint: str, path: str) -> None:
    api.state.add_fault({"provider": "centagate", "endpoint": endpoint, "status": 503})
    response = api.post(path, {})
    assert response.status_code == 503
    code, _, obj = answer(response)
    assert (code, obj) == (23025, "")
    assert answer(api.post(path, {}))[0] == 10002  # the fault fired once


def test_fault_on_auth_qr_does_not_burn_the_challenge(api: Api) -> None:
    issued = api.issue()
    api.state.add_fault({"provider": "centagate", "endpoint": "auth-qr", "status": 500})
    assert api.authorize(issued).status_code == 500
    assert answer(api.authorize(issued))[0] == 0
