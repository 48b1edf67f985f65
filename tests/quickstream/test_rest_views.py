"""The REST API in the banner, the dashboard and the state view; its settings checked at start."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.cli import banner
from mockbank.config import Config
from mockbank.fixtures import FixtureError, default_dir
from mockbank.providers.quickstream.rest.admin import origin_allowed
from tests.quickstream.helpers import PUBLISHABLE_KEY, SECRET_KEY


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def test_serve_banner_shows_the_rest_api_keys(app: Flask) -> None:
    text = banner(Config(), app, [])
    assert f"REST API secret key (Mockbank secret key): {SECRET_KEY}" in text
    assert f"REST API publishable key (Mockbank publishable key): {PUBLISHABLE_KEY}" in text


def test_dashboard_lists_rest_transactions_and_idempotency_keys(client: FlaskClient) -> None:
    token = client.post(
        "/quickstream/rest/v1/single-use-tokens",
        headers=_basic(PUBLISHABLE_KEY),
        json={
            "supplierBusinessCode": "SUPPLIER1",
            "accountType": "CREDIT_CARD",
            "cardNumber": "4242424242424242",
            "expiryDateMonth": "12",
            "expiryDateYear": "2035",
        },
    ).get_json()["singleUseTokenId"]
    paid = client.post(
        "/quickstream/rest/v1/transactions",
        headers={**_basic(SECRET_KEY), "Idempotency-Key": "dash-key-1"},
        json={
            "transactionType": "PAYMENT",
            "singleUseTokenId": token,
            "supplierBusinessCode": "SUPPLIER1",
            "principalAmount": "7.50",
            "currency": "AUD",
            "eci": "INTERNET",
        },
    ).get_json()
    page = client.get("/_mockbank/console").get_data(as_text=True)
    assert f"REST PAYMENT {paid['receiptNumber']} Approved" in page
    assert "Idempotency-Key dash-key-1" in page
    assert SECRET_KEY in page
    assert "4242424242424242" not in page
    view = client.get("/_mockbank/state/quickstream").get_json()
    assert view["idempotencyKeys"][0]["receiptNumber"] == paid["receiptNumber"]
    assert view["restSingleUseTokens"][0]["status"] == "used"
    assert token not in json.dumps(view)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"keys": [{"facility": "merchant", "type": "SECRET", "key": "bad key"}]},
            "restApi.keys.0.key",
        ),
        (
            {"keys": [{"facility": "nobody", "type": "SECRET", "key": "X_SEC_a"}]},
            "restApi.keys.0.facility",
        ),
        (
            {"keys": [{"facility": "merchant", "type": "PUBLISHABLE", "key": "X_SEC_a"}]},
            "restApi.keys.0.type",
        ),
        ({"trustedFrameOrigins": ["shop.example"]}, "restApi.trustedFrameOrigins.0"),
    ],
    ids=["key-shape", "facility", "type", "origin"],
)
def test_bad_rest_settings_fail_at_start_naming_the_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    for source in default_dir().glob("*.json"):
        (tmp_path / source.name).write_text(source.read_text())
    data = json.loads((tmp_path / "quickstream.json").read_text())
    data["restApi"].update(change)
    (tmp_path / "quickstream.json").write_text(json.dumps(data))
    with pytest.raises(FixtureError, match=message.replace(".", r"\.")):
        create_app({"fixtures_dir": tmp_path, "state_path": None})


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://localhost:80", True),
        ("https://127.0.0.1:5000", False),
        ("http://127.0.0.2:5000", False),
        ("http://127.0.0.1:5000/path", False),
        ("javascript:alert(1)", False),
        ("", False),
    ],
)
def test_frame_origins_match_scheme_host_and_port(origin: str, allowed: bool) -> None:
    assert origin_allowed(origin, ("http://127.0.0.1:*", "http://localhost")) is allowed
