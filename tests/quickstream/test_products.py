"""The token request's other products: QuickWeb Recurring (Chromium), QuickVault registration
only and the QuickConnect direct post (requests), XML notifications and receipt-page bypass."""

from __future__ import annotations

import json
import re
import shutil
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clients.quickstream import verify_passback
from mockbank.fixtures import default_dir
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from tests.quickstream.helpers import (
    PAN_VISA,
    SEED_EXAMPLE,
    Receiver,
    card_form,
    csrf_of,
    fill_card,
    inline_errors,
    open_session,
    token_params,
)

PAN_DECLINED = "4000000000000796"  # ends in 96: Not sufficient funds


def _token(mockbank: Mockbank, **params: str | None) -> str:
    response = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=params, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.text.removeprefix("token=")


def _today(html: str) -> str:
    match = re.search(r'name="firstPaymentDate" min="([0-9-]+)"', html)
    assert match, "no first payment date field"
    return match.group(1)


def _schedule(today: str, **overrides: str) -> dict[str, str]:
    return {
        "customerReferenceNumber": "CUST-7",
        "frequency": "MONTHLY",
        "firstPaymentDate": today,
        "scheduleType": "NUMBER_OF_PAYMENTS",
        "numberOfPayments": "12",
        "amount": "25.00",
        **overrides,
    }


# -- QuickWeb Recurring ---------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.slow
def test_seed_recurring_token_sets_up_a_recurring_payment_in_chromium(
    mockbank: Mockbank, receiver: Receiver, page: Any, artifacts: Path
) -> None:
    """The seed's example token request (product=RECURRING), handed off and paid in Chromium."""
    token = _token(
        mockbank,
        **{
            **SEED_EXAMPLE,
            "returnUrl": receiver.url + "/thankyou",
            "serverReturnUrl": receiver.url + "/receiveRequest",
            "cancelUrl": receiver.url + "/cancelled",
        },
    )
    action = mockbank.url("quickstream", "/OnlinePaymentServlet3")
    page.set_content(
        f"""<!doctype html><form action="{escape(action)}" method="POST">
<input type="hidden" name="token" value="{escape(token)}"/>
<input type="hidden" name="communityCode" value="COMMUNITY1"/>
<input type="submit" id="make-payment" value="Make Payment"/></form>"""
    )
    page.click("#make-payment")
    page.wait_for_selector("#schedule-fields")
    assert page.inner_text("#page-title") == "Set up a recurring payment"
    page.fill("#customerReferenceNumber", "CUST-7")
    page.select_option("#frequency", "MONTHLY")
    page.select_option("#scheduleType", "NUMBER_OF_PAYMENTS")
    page.fill("#numberOfPayments", "12")
    page.fill("#amount", "25.00")
    fill_card(page, PAN_VISA)
    page.screenshot(path=str(artifacts / "quickstream-recurring-form.png"), full_page=True)
    page.click("#pay-button")
    page.wait_for_selector("#schedule-id")
    page.screenshot(path=str(artifacts / "quickstream-recurring-receipt.png"), full_page=True)
    assert page.inner_text("#outcome") == "Recurring payment set up"
    schedule_id = page.inner_text("#schedule-id")
    account_token = page.inner_text("#account-token")

    # The arrangement QuickWeb Recurring created, in the state view.
    view = mockbank.state.provider_state("quickstream")
    (arrangement,) = view["recurringPayments"]
    assert arrangement == {
        "scheduleId": schedule_id,
        "customerReferenceNumber": "CUST-7",
        "accountToken": account_token,
        "frequency": "MONTHLY",
        "regularPaymentAmount": "25.00",
        "currencyCode": "AUD",
        "firstPaymentDate": arrangement["firstPaymentDate"],
        "scheduleType": "NUMBER_OF_PAYMENTS",
        "numberOfPayments": 12,
        "facility": "merchant",
        "status": "ACTIVE",
        "paymentsMade": 1,
    }
    # The first instalment is due today: paid at once, with the card's test outcome.
    (payment,) = view["payments"]
    assert (payment["scheduleId"], payment["summaryCode"], payment["paymentAmount"]) == (
        schedule_id,
        "0",
        "25.25",  # VISA surcharge 1.00 %
    )
    assert [a["accountToken"] for a in view["vaultAccounts"]] == [account_token]

    # Its notification, in the outbox and at the merchant's server.
    (message,) = mockbank.state.outbox.messages()
    notified = receiver.wait_for(1)[0]
    assert notified.path == "/receiveRequest"
    fields = notified.form
    assert (fields["scheduleId"], fields["accountToken"], fields["frequency"]) == (
        schedule_id,
        account_token,
        "MONTHLY",
    )
    assert (fields["summaryCode"], fields["successFlag"]) == ("0", "true")
    assert PAN_VISA not in json.dumps(message.as_dict())

    # Back to the merchant with a signed passback.
    page.click("#return-button")
    page.wait_for_selector("#merchant")
    (passback,) = receiver.on("/thankyou")
    assert passback.form["scheduleId"] == schedule_id
    assert verify_passback(passback.form, "passback-secret")


def _recurring_page(client: FlaskClient, **overrides: str | None) -> tuple[str, str, str]:
    """Like the seed's request: no amount and no customer (the payer types both)."""
    overrides = {"customerReferenceNumber": None, **overrides}
    page, csrf = open_session(client, product="RECURRING", principalAmount=None, **overrides)
    return page, csrf, _today(client.get(page).get_data(as_text=True))


def test_a_declined_first_instalment_sets_up_nothing(client: FlaskClient, state: State) -> None:
    page, csrf, today = _recurring_page(client)
    response = client.post(page + "/pay", data=card_form(csrf, PAN_DECLINED, **_schedule(today)))
    assert response.status_code == 303
    receipt = client.get(page + "/receipt").get_data(as_text=True)
    assert "First payment declined: Not sufficient funds" in receipt
    view = state.provider_state("quickstream")
    assert view["recurringPayments"] == []
    assert view["vaultAccounts"] == []
    assert [p["responseCode"] for p in view["payments"]] == ["51"]


def test_a_future_first_payment_takes_nothing_now(client: FlaskClient, state: State) -> None:
    page, csrf, today = _recurring_page(client, customerReferenceNumber="CUST-9")
    later = str(int(today[:4]) + 1) + today[4:]
    form = card_form(
        csrf,
        **_schedule(today, firstPaymentDate=later, scheduleType="CONTINUE_UNTIL_FURTHER_NOTICE"),
    )
    form.pop("customerReferenceNumber")  # the token named the customer
    assert client.post(page + "/pay", data=form).status_code == 303
    view = state.provider_state("quickstream")
    (arrangement,) = view["recurringPayments"]
    assert (arrangement["paymentsMade"], arrangement["customerReferenceNumber"]) == (0, "CUST-9")
    assert arrangement["firstPaymentDate"] == later
    assert view["payments"] == []
    assert 'id="receipt-number"' not in client.get(page + "/receipt").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"frequency": "DAILY"}, "frequency", id="unknown-frequency"),
        pytest.param({"firstPaymentDate": "2001-01-01"}, "firstPaymentDate", id="in-the-past"),
        pytest.param({"numberOfPayments": "0"}, "numberOfPayments", id="zero-payments"),
        pytest.param({"customerReferenceNumber": ""}, "customerReferenceNumber", id="no-customer"),
        pytest.param(
            {"scheduleType": "REPEAT_UNTIL_DATE", "finalPaymentDate": "2001-01-01"},
            "finalPaymentDate",
            id="ends-before-it-starts",
        ),
        pytest.param({"amount": ""}, "amount", id="no-amount"),
    ],
)
def test_bad_schedules_are_inline_errors_and_create_nothing(
    client: FlaskClient, state: State, overrides: dict[str, str], field: str
) -> None:
    page, csrf, today = _recurring_page(client)
    response = client.post(page + "/pay", data=card_form(csrf, **_schedule(today, **overrides)))
    assert response.status_code == 400
    assert field in inline_errors(response.get_data(as_text=True))
    view = state.provider_state("quickstream")
    assert (view["recurringPayments"], view["vaultAccounts"], view["payments"]) == ([], [], [])
    good = client.post(page + "/pay", data=card_form(csrf, **_schedule(today)))
    assert good.status_code == 303  # the session stayed open


# -- QuickVault registration only -----------------------------------------------------------
def test_quickvault_registration_only_end_to_end(mockbank: Mockbank, receiver: Receiver) -> None:
    token = _token(
        mockbank,
        **token_params(
            product="QUICKVAULT",
            principalAmount=None,
            paymentReference=None,
            returnUrl=receiver.url + "/registered",
            serverReturnUrl=receiver.url + "/notify",
        ),
    )
    browser = requests.Session()
    page = browser.post(
        mockbank.url("quickstream", "/OnlinePaymentServlet3"),
        data={"token": token, "communityCode": "COMMUNITY1"},
        timeout=10,
    )
    assert page.status_code == 200
    assert "Register your payment details" in page.text
    assert 'id="amount"' not in page.text
    receipt = browser.post(page.url + "/pay", data=card_form(csrf_of(page.text)), timeout=10)
    assert receipt.status_code == 200
    assert "Payment details registered" in receipt.text
    account_token = re.search(r'id="account-token">([0-9a-f]+)<', receipt.text)
    assert account_token is not None
    view = mockbank.state.provider_state("quickstream")
    assert view["payments"] == []  # no money moved
    (account,) = view["vaultAccounts"]
    assert (account["accountToken"], account["customerReferenceNumber"]) == (
        account_token.group(1),
        "CUST-42",
    )
    assert account["maskedCardNumber"] == "424242...242"
    notified = receiver.wait_for(1)[0].form
    assert notified["accountToken"] == account_token.group(1)
    assert "receiptNumber" not in notified
    # The passback carries the account token too, signed.
    back = browser.post(page.url + "/return", data={"csrf": csrf_of(receipt.text)}, timeout=10)
    assert back.status_code == 200
    posted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', back.text))
    assert posted["accountToken"] == account_token.group(1)
    assert verify_passback(posted, "passback-secret")


def test_registration_with_a_bad_card_is_inline_and_registers_nothing(
    client: FlaskClient, state: State
) -> None:
    page, csrf = open_session(client, product="QUICKVAULT", principalAmount=None)
    response = client.post(page + "/pay", data=card_form(csrf, "4242424242424241"))
    assert response.status_code == 400
    assert "cardNumber" in inline_errors(response.get_data(as_text=True))
    assert state.provider_state("quickstream")["vaultAccounts"] == []


# -- QuickConnect ---------------------------------------------------------------------------
def _direct_post(mockbank: Mockbank, token: str, **card: str) -> requests.Response:
    fields = {"token": token, "communityCode": "COMMUNITY1", **card_form("", **card)}
    fields.pop("csrf")
    return requests.post(
        mockbank.url("quickstream", "/OnlinePaymentServlet3"),
        data=fields,
        allow_redirects=False,
        timeout=10,
    )


def test_quickconnect_direct_post_pays_and_redirects_back_signed(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    token = _token(
        mockbank,
        **token_params(
            connectionType="QUICKCONNECT",
            returnUrl=receiver.url + "/receipt?order=77",
            serverReturnUrl=receiver.url + "/notify",
        ),
    )
    # A mistyped card: back to the merchant's page with the fields to fix; the token survives.
    refused = _direct_post(mockbank, token, cardNumber="4242424242424241")
    assert refused.status_code == 303
    query = dict(parse_qsl(urlsplit(refused.headers["Location"]).query))
    assert (query["summaryCode"], query["errorFields"], query["order"]) == ("3", "cardNumber", "77")
    assert mockbank.state.provider_state("quickstream")["payments"] == []

    paid = _direct_post(mockbank, token)
    assert paid.status_code == 303
    location = urlsplit(paid.headers["Location"])
    assert (location.netloc, location.path) == (urlsplit(receiver.url).netloc, "/receipt")
    fields = dict(parse_qsl(location.query))
    assert fields.pop("order") == "77"
    assert verify_passback(fields, "passback-secret")
    assert (fields["summaryCode"], fields["responseCode"], fields["paymentAmount"]) == (
        "0",
        "08",
        "101.00",
    )
    assert receiver.wait_for(1)[0].form["receiptNumber"] == fields["receiptNumber"]
    # Followed by the browser, the redirect lands on the merchant's receipt page.
    assert requests.get(paid.headers["Location"], timeout=10).status_code == 200
    # The token was used once: a second post pays nothing.
    again = _direct_post(mockbank, token)
    assert again.status_code == 410
    assert len(mockbank.state.provider_state("quickstream")["payments"]) == 1


def test_quickconnect_decline_is_a_processed_payment(
    mockbank: Mockbank, receiver: Receiver
) -> None:
    token = _token(
        mockbank,
        **token_params(connectionType="QUICKCONNECT", returnUrl=receiver.url + "/back"),
    )
    declined = _direct_post(mockbank, token, cardNumber=PAN_DECLINED)
    fields = dict(parse_qsl(urlsplit(declined.headers["Location"]).query))
    assert (fields["summaryCode"], fields["responseCode"]) == ("1", "51")
    assert verify_passback(fields, "passback-secret")


# -- per-facility settings: XML notifications, no receipt page ------------------------------
def _fixtures_with(tmp_path: Path, change: dict[str, Any]) -> Path:
    for source in default_dir().glob("*.json"):
        shutil.copy(source, tmp_path / source.name)
    data = json.loads((tmp_path / "quickstream.json").read_text())
    facility = data["facilities"][0]
    for key, value in change.items():
        if isinstance(value, dict):
            facility[key] = {**facility.get(key, {}), **value}
        else:
            facility[key] = value
    (tmp_path / "quickstream.json").write_text(json.dumps(data))
    return tmp_path


def test_xml_notification_reaches_a_real_receiver(tmp_path: Path, receiver: Receiver) -> None:
    app = create_app(
        {"fixtures_dir": _fixtures_with(tmp_path, {"notification": {"format": "XML"}})}
    )
    try:
        client = app.test_client()
        page, csrf = open_session(client, serverReturnUrl=receiver.url + "/notify")
        assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303
        (received,) = receiver.wait_for(1)
        assert received.headers["Content-Type"] == "application/xml; charset=utf-8"
        assert received.headers["Authorization"] == "Basic bm90aWZ5Om5vdGlmeS1zZWNyZXQ="
        root = ElementTree.fromstring(received.body)
        assert root.tag == "PaymentResponse"
        values = {child.tag: child.text or "" for child in root}
        assert (values["sourceCode"], values["summaryCode"], values["maskedCardNumber"]) == (
            "QUICKWEB",
            "0",
            "424242...242",
        )
        assert values["receiptNumber"].isdigit()
        assert PAN_VISA.encode() not in received.body
    finally:
        app.extensions["mockbank"].close()


def test_a_bad_notification_format_names_the_field(tmp_path: Path) -> None:
    fixtures = _fixtures_with(tmp_path, {"notification": {"format": "JSON"}})
    with pytest.raises(Exception, match=r"notification\.format"):
        create_app({"fixtures_dir": fixtures})


def test_without_a_receipt_page_the_payer_goes_straight_back(tmp_path: Path) -> None:
    app = create_app({"fixtures_dir": _fixtures_with(tmp_path, {"receiptPage": False})})
    try:
        client = app.test_client()
        page, csrf = open_session(client, returnUrl="https://yoursite.com.au/thankyou")
        response = client.post(page + "/pay", data=card_form(csrf))
        assert response.status_code == 200  # the auto-submitted passback form, not the receipt
        html = response.get_data(as_text=True)
        assert 'action="https://yoursite.com.au/thankyou"' in html
        posted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        assert verify_passback(posted, "passback-secret")
        # No returnUrl: the receipt page is the only way to show the outcome, so it stays.
        page, csrf = open_session(client)
        assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303
    finally:
        app.extensions["mockbank"].close()
