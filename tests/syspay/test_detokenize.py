"""POST /api/{v1|v2}/partner/token/<id>/detokenize: permissions, validation, envelopes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.syspay.helpers import (
    DETOKENIZE,
    GOOD_BODY,
    IMAGE_ONLY,
    PARTNER,
    SEED_TOKEN,
    partner_header,
    redirects,
)


def test_detokenize_answers_class_and_absolute_redirect_url(client: Any, state: Any) -> None:
    response = client.post(
        DETOKENIZE.format(SEED_TOKEN),
        headers=partner_header(state),
        json=GOOD_BODY,
        base_url="https://app-sandbox.syspay.com",
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["class"] == "detokenize"
    # On SysPay's own host the URL has SysPay's own path (no /syspay prefix).
    assert body["redirect_url"].startswith("https://app-sandbox.syspay.com/redirect/detokenize/")
    assert response.headers["X-Syspay-Request-Uuid"]
    (view,) = redirects(state)
    assert view["status"] == "PENDING"
    assert (view["viewer"], view["company_reference"], view["partner"]) == (
        "John Doe",
        "4242",
        "myPartnerLogin",
    )


def test_v1_path_detokenizes_with_the_answer_in_data(client: Any, state: Any) -> None:
    """SysPay's v1 SDK (Syspay_Merchant_Client) only accepts a success wrapped in ``data``."""
    response = client.post(
        f"/syspay/api/v1/partner/token/{SEED_TOKEN}/detokenize",
        headers=partner_header(state),
        json={**GOOD_BODY, "type": "IMAGE"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["data"]
    assert body["data"]["class"] == "detokenize"
    assert client.get(body["data"]["redirect_url"]).mimetype == "image/png"


VIEWER_101 = {**GOOD_BODY, "viewer": "v" * 101}


@pytest.mark.parametrize(
    ("token", "who", "body", "status", "code", "words"),
    [
        pytest.param(
            "1000001",
            IMAGE_ONLY,
            {**GOOD_BODY, "type": "IMAGE"},
            403,
            60005,
            "not in the list",
            id="partner-not-on-list",
        ),
        pytest.param(
            "TOKEN",
            IMAGE_ONLY,
            GOOD_BODY,
            403,
            30033,
            "allowed IMAGE only",
            id="type-not-allowed-for-partner-account",
        ),
        pytest.param(
            "TOKEN",
            PARTNER,
            GOOD_BODY,
            403,
            30033,
            "allows partner",
            id="type-not-allowed-by-token",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            VIEWER_101,
            400,
            20035,
            "maximum length of 100",
            id="viewer-101-characters",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "company_reference": "c" * 101},
            400,
            20035,
            "maximum length of 100",
            id="company-reference-101-characters",
        ),
        pytest.param("9999999", PARTNER, GOOD_BODY, 404, 20019, "no token", id="unknown-token"),
        pytest.param(
            "1000001",
            PARTNER,
            {"viewer": "a", "company_reference": "b"},
            400,
            10003,
            "missing required parameters: type",
            id="type-missing",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "type": "text"},
            400,
            10001,
            "TEXT or IMAGE",
            id="type-lowercase",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "type": "PDF"},
            400,
            10001,
            "TEXT or IMAGE",
            id="type-unknown",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {"type": "TEXT", "company_reference": "b"},
            400,
            10003,
            "missing required parameters: viewer",
            id="viewer-missing",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "viewer": "   "},
            400,
            10003,
            "missing required parameters: viewer",
            id="viewer-blank",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "company_reference": 4242},
            400,
            10009,
            "is not of type string",
            id="company-reference-number",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {"type": "TEXT", "viewer": "a"},
            400,
            10003,
            "missing required parameters: company_reference",
            id="company-reference-missing",
        ),
        pytest.param(
            "1000001",
            PARTNER,
            {**GOOD_BODY, "amount": 1},
            400,
            10004,
            "extra parameters not allowed: amount",
            id="unknown-field",
        ),
        pytest.param("1000001", PARTNER, ["TEXT"], 400, 10001, "JSON object", id="json-list"),
    ],
)
def test_refused_detokenization_creates_no_url(
    client: Any,
    state: Any,
    syspay_token: str,
    token: str,
    who: tuple[str, str],
    body: Any,
    status: int,
    code: int,
    words: str,
) -> None:
    token_id = syspay_token if token == "TOKEN" else token
    response = client.post(
        DETOKENIZE.format(token_id), headers=partner_header(state, who), json=body
    )
    assert response.status_code == status
    payload = response.get_json()
    assert payload["error_code"] == code
    assert words.lower() in payload["errors"][0]["message"].lower()
    assert redirects(state) == []
    # The refused request spent nothing: only the fixture's merchant nonce is live.
    assert state.provider_state("syspay")["live_nonces"] == 1


def test_validation_lists_every_wrong_field_in_v2(client: Any, state: Any) -> None:
    response = client.post(
        DETOKENIZE.format(SEED_TOKEN),
        headers=partner_header(state),
        json={"type": "X", "viewer": "v" * 101},
    )
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == ["type", "viewer", "company_reference"]
    assert [e["code"] for e in errors] == [10001, 20035, 10003]


def test_v1_errors_use_the_v1_envelope(client: Any, state: Any) -> None:
    response = client.post(
        "/syspay/api/v1/partner/token/9999999/detokenize",
        headers=partner_header(state),
        json=GOOD_BODY,
    )
    assert response.status_code == 404
    expected = {
        "error": {"code": 20019, "message": "Resource not found (no token with id '9999999')."}
    }
    assert response.get_json() == expected
    assert response.headers["X-Syspay-Request-Uuid"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        pytest.param('{"type": "TEXT",', "application/json", 400, 10001, id="truncated-json"),
        pytest.param(b"\xff\xfe", "application/json", 400, 10001, id="not-utf8"),
        pytest.param("", "application/json", 400, 10001, id="empty-body"),
        pytest.param(
            "type=TEXT&viewer=a",
            "application/x-www-form-urlencoded",
            415,
            994151,
            id="form-encoded",
        ),
        pytest.param('{"type": "TEXT"}', None, 415, 994151, id="no-content-type"),
    ],
)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_malformed_bodies_get_syspay_errors(
    client: Any,
    state: Any,
    version: str,
    data: Any,
    content_type: str | None,
    status: int,
    code: int,
) -> None:
    headers = partner_header(state)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post(
        f"/syspay/api/{version}/partner/token/{SEED_TOKEN}/detokenize", headers=headers, data=data
    )
    assert response.status_code == status
    body = response.get_json()
    assert (body["error"]["code"] if version == "v1" else body["error_code"]) == code
    assert redirects(state) == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        pytest.param(
            "POST",
            "/syspay/api/v3/partner/token/1000001/detokenize",
            404,
            994042,
            id="unknown-version",
        ),
        pytest.param(
            "GET", "/syspay/api/v2/partner/token/1000001/detokenize", 405, 994051, id="wrong-method"
        ),
        pytest.param("POST", "/syspay/api/v2/partner/tokens", 404, 994041, id="unknown-path"),
    ],
)
def test_routing_errors_use_the_v2_envelope(
    client: Any, state: Any, method: str, path: str, status: int, code: int
) -> None:
    response = client.open(path, method=method, headers=partner_header(state), json=GOOD_BODY)
    assert response.status_code == status
    assert response.get_json()["error_code"] == code
    assert response.headers["X-Syspay-Request-Uuid"]


def test_oversized_body_is_413_in_syspay_format(client: Any, state: Any) -> None:
    response = client.post(
        DETOKENIZE.format(SEED_TOKEN),
        headers={**partner_header(state), "Content-Type": "application/json"},
        data=b'{"viewer": "' + b"x" * (1024 * 1024 + 10) + b'"}',
    )
    assert response.status_code == 413
    assert response.get_json()["error_code"] == 994131


def test_injected_fault_answers_in_syspay_format_and_creates_nothing(
    client: Any, state: Any
) -> None:
    state.add_fault({"provider": "syspay", "endpoint": "detokenize", "status": 503})
    response = client.post(
        DETOKENIZE.format(SEED_TOKEN), headers=partner_header(state), json=GOOD_BODY
    )
    assert response.status_code == 503
    assert response.get_json()["error_code"] == 995039
    assert response.headers["X-Syspay-Request-Uuid"]
    assert redirects(state) == []
    # The fault fired once; the next request goes through.
    ok = client.post(DETOKENIZE.format(SEED_TOKEN), headers=partner_header(state), json=GOOD_BODY)
    assert ok.status_code == 200


def test_faults_know_the_syspay_endpoints(state: Any) -> None:
    state.provider("syspay")  # its views, and so their names, are added on first use
    assert {"merchant-token", "detokenize", "redirect"} <= state.endpoints["syspay"]
