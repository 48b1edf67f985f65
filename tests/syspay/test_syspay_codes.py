"""SysPay's own error codes, messages and statuses where SysPay documents the condition.

The expected codes and messages below were read from SysPay's v2 PHP SDK code table
(``ErrorCodes::getCodeMessage``, which cites app.syspay.com/docs/api/v2/merchant/reference/
codes.html) and written here independently of mockbank's own table.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.syspay.helpers import (
    DETOKENIZE,
    GOOD_BODY,
    IMAGE_ONLY,
    PARTNER,
    SEED_TOKEN,
    card_body,
    merchant_header,
    partner_header,
    redirects,
)

# A slice of SysPay's table: every code mockbank attributes to SysPay must be one of these.
SYSPAY_TABLE = {
    10001: "Invalid data format",
    10003: "Missing required parameters: {{ parameters }}",
    10004: "Extra parameters not allowed: {{ parameters }}",
    10009: "The value {{ value }} is not of type {{ type }}",
    20019: "Resource not found",
    20035: "This parameter has a maximum length of {{ limit }} characters",
    30020: "Invalid cardholder parameter",
    30021: "Invalid cardnumber",
    30022: "Invalid cvc parameter",
    30023: "Invalid exp_month parameter",
    30024: "Invalid exp_year parameter",
    30025: "Invalid expire date",
    30033: "No permission to detokenize as: {{ type }}",
    30048: "Invalid check digit for provided card number",
    60005: "Invalid Detokenizer ID",
    60006: "Invalid authorized_detokenizers IDs",
    60007: "Company Reference does not match expected value",
}
# SysPay's ranges run from 10001 to 180000; mockbank's own codes sit in the 99xxxx block.
SYSPAY_RANGE = range(10000, 190000)


def _prefix(template: str) -> str:
    """The part of SysPay's message before its first placeholder."""
    return template.split("{{")[0]


def test_every_code_is_syspays_or_outside_syspays_ranges(client: Any) -> None:
    table = client.get("/_mockbank/magic-values/syspay").get_json()["errors"]
    for row in table:
        code = row["code"]
        if row["source"] == "SysPay code table":
            assert code in SYSPAY_TABLE, row
            assert row["message"].startswith(_prefix(SYSPAY_TABLE[code])), row
        else:
            assert not isinstance(code, int) or code not in SYSPAY_RANGE, row
            assert isinstance(code, str) or 990000 <= code < 1000000, row


def test_old_invented_numbers_that_collide_with_syspays_are_gone(client: Any) -> None:
    """40001, 40002 and 50001 mean payment_id, refund reference and preauth in SysPay's table."""
    codes = {
        row["code"] for row in client.get("/_mockbank/magic-values/syspay").get_json()["errors"]
    }
    assert not codes & {40001, 40002, 50001, 40401, 40301}


@pytest.mark.parametrize(
    ("who", "body", "token", "status", "code"),
    [
        pytest.param(PARTNER, {"type": "TEXT"}, SEED_TOKEN, 400, 10003, id="missing-viewer"),
        pytest.param(PARTNER, {**GOOD_BODY, "x": 1}, SEED_TOKEN, 400, 10004, id="extra-field"),
        pytest.param(PARTNER, {**GOOD_BODY, "type": "PNG"}, SEED_TOKEN, 400, 10001, id="bad-type"),
        pytest.param(IMAGE_ONLY, GOOD_BODY, SEED_TOKEN, 403, 60005, id="not-a-detokenizer"),
        pytest.param(PARTNER, GOOD_BODY, "424242", 404, 20019, id="unknown-token"),
        pytest.param(
            PARTNER,
            {**GOOD_BODY, "company_reference": "HOTEL-7"},
            SEED_TOKEN,
            403,
            60007,
            id="company-reference-mismatch",
        ),
    ],
)
def test_refusals_carry_syspays_code_and_message_in_v1_and_v2(
    client: Any,
    state: Any,
    who: tuple[str, str],
    body: dict[str, Any],
    token: str,
    status: int,
    code: int,
) -> None:
    for version in ("v1", "v2"):
        response = client.post(
            f"/syspay/api/{version}/partner/token/{token}/detokenize",
            headers=partner_header(state, who),
            json=body,
        )
        assert response.status_code == status
        payload = response.get_json()
        if version == "v1":
            number, message = payload["error"]["code"], payload["error"]["message"]
        else:
            number, message = payload["error_code"], payload["errors"][0]["message"]
            assert payload["errors"][0]["code"] == number
        assert number == code
        assert message.startswith(_prefix(SYSPAY_TABLE[code]))
    assert redirects(state) == []


def test_type_refusal_names_the_type_as_syspays_message_does(
    client: Any, state: Any, syspay_token: str
) -> None:
    response = client.post(
        DETOKENIZE.format(syspay_token), headers=partner_header(state, IMAGE_ONLY), json=GOOD_BODY
    )
    assert response.status_code == 403
    assert response.get_json()["errors"][0]["code"] == 30033
    assert response.get_json()["errors"][0]["message"].startswith(
        "No permission to detokenize as: TEXT"
    )


def test_company_reference_is_checked_for_the_partner_that_registered_one(
    client: Any, state: Any, syspay_token: str
) -> None:
    """myPartnerLogin knows myMerchantLogin as 4242; imageOnlyPartner registered no reference."""
    wrong = client.post(
        DETOKENIZE.format(syspay_token),
        headers=partner_header(state),
        json={**GOOD_BODY, "type": "IMAGE", "company_reference": "4243"},
    )
    assert (wrong.status_code, wrong.get_json()["error_code"]) == (403, 60007)
    assert state.provider_state("syspay")["live_nonces"] == 1  # the merchant's, from the fixture
    right = client.post(
        DETOKENIZE.format(syspay_token),
        headers=partner_header(state),
        json={**GOOD_BODY, "type": "IMAGE"},
    )
    assert right.status_code == 200
    unregistered = client.post(
        DETOKENIZE.format(syspay_token),
        headers=partner_header(state, IMAGE_ONLY),
        json={**GOOD_BODY, "type": "IMAGE", "company_reference": "anything"},
    )
    assert unregistered.status_code == 200
    assert [r["company_reference"] for r in redirects(state)] == ["4242", "anything"]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_bad_login_is_403_as_syspays_merchant_api_answers_it(
    client: Any, state: Any, version: str
) -> None:
    response = client.post(
        f"/syspay/api/{version}/partner/token/{SEED_TOKEN}/detokenize",
        headers=partner_header(state, ("myPartnerLogin", "not-the-passphrase")),
        json=GOOD_BODY,
    )
    assert response.status_code == 403
    body = response.get_json()
    assert (body["error"]["code"] if version == "v1" else body["error_code"]) == 994034


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (f"/syspay/api/v1/merchant/token/{SEED_TOKEN}", "GET"),
        ("/syspay/api/v1/merchant/token", "POST"),
    ],
)
def test_v1_merchant_successes_are_wrapped_in_data(
    client: Any, state: Any, path: str, method: str
) -> None:
    response = client.open(
        path,
        method=method,
        headers=merchant_header(state),
        json=card_body() if method == "POST" else None,
    )
    assert response.status_code in (200, 201)
    body = response.get_json()
    assert list(body) == ["data"]
    assert body["data"]["class"] == "token"
    v2 = client.get(
        f"/syspay/api/v2/merchant/token/{body['data']['id']}", headers=merchant_header(state)
    )
    assert v2.get_json()["class"] == "token"  # v2 answers the object itself
