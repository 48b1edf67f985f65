"""fixtures/centagate.json: seeded identities, validation errors naming file and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mockbank.fixtures import FixtureError, FixtureReader
from mockbank.providers.centagate.admin import load_fixtures
from mockbank.state import State

FIXTURE = json.loads(Path("fixtures/centagate.json").read_text())


def test_seeded_identities_match_the_design(state: State) -> None:
    fixtures = state.fixtures["centagate"]
    app = fixtures.apps["mockbank-integration-key"]
    assert app.secret_key == "mockbank-secret-key"
    assert fixtures.users["alice"].status == "active"
    assert fixtures.users["bob"].status == "inactive"
    assert fixtures.devices["alice-device-1"].secret == "alice-device-secret"
    assert fixtures.devices["bob-device-1"].username == "bob"


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(FIXTURE)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("apps"), "apps"),
        (lambda d: d["apps"][0].pop("secretKey"), "apps.0.secretKey"),
        (lambda d: d["apps"][1].update(hmacOrder="alphabetical"), "apps.1.hmacOrder"),
        (lambda d: d["apps"][1].update(integrationKey="mockbank-integration-key"),
         "apps.1.integrationKey"),
        (lambda d: d["users"][1].update(status="sleeping"), "users.1.status"),
        (lambda d: d["users"][0]["devices"][0].update(secret=""), "users.0.devices.0.secret"),
        (lambda d: d["users"][1]["devices"][0].update(devAccId="alice-device-1"),
         "users.1.devices.0.devAccId"),
        (lambda d: d["users"][2].update(username="alice"), "users.2.username"),
        (lambda d: d["users"][0].update(userId=7), "users.0.userId"),
    ],
    ids=["no-apps", "no-secret", "bad-order", "duplicate-key", "bad-status", "empty-secret",
         "duplicate-device", "duplicate-user", "numeric-user-id"],
)  # fmt: skip
def test_invalid_fixtures_name_the_file_and_field(change: Any, where: str) -> None:
    with pytest.raises(FixtureError) as raised:
        load_fixtures(FixtureReader("fixtures/centagate.json", _broken(change)))
    assert str(raised.value).startswith("fixtures/centagate.json: ")
    assert where in str(raised.value)


def test_state_view_masks_secrets_and_reset_restores_the_seed(state: State) -> None:
    view = state.provider_state("centagate")
    assert {a["secretKey"] for a in view["apps"]} == {"***"}
    text = json.dumps(view)
    assert "mockbank-secret-key" not in text
    assert "alice-device-secret" not in text
    state.store.update(
        "centagate.device", "alice-device-1", lambda v: {**v, "locked": True}, now=state.now()
    )
    state.reset("centagate")
    devices = {d["devAccId"]: d for d in state.provider_state("centagate")["devices"]}
    assert devices["alice-device-1"]["locked"] is False


def test_magic_values_list_the_return_codes(state: State) -> None:
    magic = state.magic_values()["centagate"]
    assert magic["return_codes"]["23036"] == "OTP token locked"  # the 2018 table
    assert magic["return_codes_current"]["23036"] == {
        "code": "29017",
        "message": "Invalid Token Status",
    }
    assert magic["challenge_ttl_s"] == 180
    assert set(magic["hmac_orders"]["authQRCode"]) == {"samples", "table", "legacy", "python"}


def test_dashboard_lists_the_seeded_credentials_and_device_pages(client: Any) -> None:
    page = client.get("/_mockbank/console").get_data(as_text=True)
    assert "mockbank-integration-key" in page
    assert "mockbank-secret-key" in page
    assert "/centagate/device/alice-device-1" in page


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("centagate.hmac_order", "Samples"),
        ("centagate.hmac_order", "signing"),
        ("centagate.challenge_ttl_s", "abc"),
        ("centagate.challenge_ttl_s", 0),
        ("centagate.challenge_ttl_s", -5),
        ("centagate.challenge_ttl_s", float("inf")),
        ("centagate.challenge_ttl_s", 1e20),
        ("centagate.challenge_ttl_s", True),
    ],
    ids=["order-case", "order-signing", "ttl-text", "ttl-zero", "ttl-negative", "ttl-inf",
         "ttl-huge", "ttl-bool"],
)  # fmt: skip
def test_a_bad_option_stops_create_app_naming_it(option: str, value: Any) -> None:
    # These used to start fine and then answer every request with a 500.
    from mockbank import create_app

    with pytest.raises(ValueError, match=option.replace(".", r"\.")):
        create_app({option: value})


@pytest.mark.parametrize(
    ("options", "order", "ttl"),
    [({}, None, 180.0), ({"centagate.hmac_order": "legacy", "centagate.challenge_ttl_s": "30"},
     "legacy", 30.0), ({"centagate.hmac_order": "any", "centagate.challenge_ttl_s": 0.5}, "any",
     0.5)],
    ids=["defaults", "strict-legacy", "any"],
)  # fmt: skip
def test_good_options_are_read(options: dict[str, Any], order: str | None, ttl: float) -> None:
    from mockbank.providers.centagate.settings import read_settings

    settings = read_settings(options)
    assert (settings.hmac_order, settings.challenge_ttl_s) == (order, ttl)
