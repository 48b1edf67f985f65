"""The envelope as the real server sends it, and the two return-code tables.

SecureMetric's own CENTAGATE client parses every answer with Gson into a map and casts
``code`` to String; ``answer`` in helpers.py does the same check on every answer of every
Centagate test. The current table is CentagateDocs' ReturnCode.mdx; an app (or the option
``centagate.return_codes``) may ask for the 2018 document's codes.
"""

from __future__ import annotations

from typing import Any

import pytest

from mockbank import create_app
from tests.centagate.helpers import AUTH_QR, REQUEST_QR, Api, answer, auth_body, qr_body

OLD_KEY, OLD_SECRET = "mockbank-2018-integration-key", "mockbank-2018-secret-key"
# ReturnCode.mdx, written here independently of mockbank's table.
CURRENT_TABLE = {
    "0": "Success",
    "10001": "Permission Not Allowed",
    "10002": "Invalid Input",
    "22002": "User Not Found",
    "22004": "User Is Not Active",
    "23001": "Invalid Credentials",
    "23025": "Web API Error",
    "29002": "Token Not Active",
    "29003": "Token Is Not Bound to the User",
    "29017": "Invalid Token Status",
    "36000": "Device Not Found",
    "55000": "Invalid Signature",
}


def raw_codes_of_a_whole_flow(api: Api, **keys: Any) -> list[Any]:
    """Every answer of a flow with refusals along the way, exactly as sent (no parsing)."""
    epoch = api.epoch()
    issued_answer = api.post(REQUEST_QR, qr_body(epoch, **keys)).get_json()
    replies = [issued_answer]
    issued = answer(api.post(REQUEST_QR, qr_body(epoch, **keys)))[2]
    replies += [
        api.post(AUTH_QR, auth_body(issued, epoch, otp="000000", **keys)).get_json(),
        api.post(AUTH_QR, auth_body(issued, epoch, **keys)).get_json(),
        api.post(AUTH_QR, auth_body(issued, epoch, **keys)).get_json(),  # replay
        api.post(REQUEST_QR, qr_body(epoch, username="mallory", **keys)).get_json(),
        api.post(REQUEST_QR, qr_body(epoch, **{**keys, "secret_key": "wrong"})).get_json(),
        api.post(REQUEST_QR, b"{not json").get_json(),
        api.client.get("/centagate/v2/CentagateWS/webresources/nowhere").get_json(),
    ]
    return replies


def test_every_answer_parses_as_securemetrics_client_reads_it(api: Api) -> None:
    """code, message and object are all JSON strings: (String) map.get("code") never throws,
    and "0".equals(code) is how success reads."""
    replies = raw_codes_of_a_whole_flow(api)
    for reply in replies:
        assert set(reply) == {"code", "message", "object"}
        assert all(type(reply[key]) is str for key in reply), reply
    assert [r["code"] for r in replies] == [
        "0", "23001", "0", "23001", "22002", "55000", "10002", "23025",
    ]  # fmt: skip
    # The current table's codes, with its messages at the front.
    for reply in replies:
        assert reply["message"].startswith(CURRENT_TABLE[reply["code"]]), reply


def test_an_app_set_to_the_2018_table_answers_the_2018_codes(api: Api) -> None:
    keys = {"integrationKey": OLD_KEY, "secret_key": OLD_SECRET}
    replies = raw_codes_of_a_whole_flow(api, **keys)
    assert [r["code"] for r in replies][:6] == [
        "0", "23001", "0", "23016", "22002", "23022",
    ]  # fmt: skip
    assert replies[3]["message"].startswith("Authentication data does not exist")
    assert replies[5]["message"].startswith("Authentication request rejected. Invalid API")


@pytest.mark.parametrize(
    ("fields", "current", "old"),
    [
        pytest.param({"username": "carol"}, 29003, 23013, id="no-device"),
        pytest.param({"devAccId": "alice-device-old"}, 29002, 36004, id="inactive-device"),
        pytest.param({"devAccId": "ghost"}, 36000, 36000, id="unknown-device"),
        pytest.param({"unixTimestamp": "1"}, 10002, 23023, id="stale-timestamp"),
    ],
)
def test_each_table_for_the_same_refusal(
    api: Api, fields: dict[str, Any], current: int, old: int
) -> None:
    assert answer(api.request_qr(**fields))[0] == current
    assert answer(api.request_qr(integrationKey=OLD_KEY, secret_key=OLD_SECRET, **fields))[0] == old


def test_the_option_makes_2018_the_default_and_apps_can_still_choose() -> None:
    app = create_app({"centagate.return_codes": "2018"})
    try:
        state = app.extensions["mockbank"]
        api = Api(app.test_client(), state)
        assert answer(api.request_qr(username="carol"))[0] == 23013
        assert answer(api.request_qr(unixTimestamp="1"))[0] == 23023
        unknown_path = api.client.post("/centagate/CentagateWS/webresources/nowhere", json={})
        assert answer(unknown_path)[0] == 23024
    finally:
        app.extensions["mockbank"].close()


@pytest.mark.parametrize("value", ["2019", "CURRENT", 2018])
def test_a_bad_return_codes_option_stops_create_app_naming_it(value: Any) -> None:
    with pytest.raises(ValueError, match=r"centagate\.return_codes"):
        create_app({"centagate.return_codes": value})
