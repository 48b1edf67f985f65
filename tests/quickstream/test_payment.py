"""The QuickWeb payment page: inline validation, outcomes by card digits, CSRF, single payment."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from flask.testing import FlaskClient

from mockbank.clock import Clock
from mockbank.masking import luhn_valid
from mockbank.providers.quickstream import records
from mockbank.providers.quickstream.admin import magic_values
from mockbank.providers.quickstream.models import common, payment_form
from mockbank.state import State
from tests.quickstream.helpers import card_form, inline_errors, open_session

DECLINED_96 = next(c["number"] for c in magic_values()["cards"] if "declined 51" in c["outcome"])


def _transaction(state: State) -> dict[str, object]:
    payments = state.store.records(records.NS_PAYMENT)
    assert len(payments) == 1
    return payments[0].value


def test_approved_card_payment_adds_the_surcharge_and_shows_a_receipt(
    client: FlaskClient, state: State
) -> None:
    page, csrf = open_session(client)
    response = client.post(page + "/pay", data=card_form(csrf))
    assert response.status_code == 303
    assert response.headers["Location"] == page + "/receipt"
    receipt = client.get(page + "/receipt").get_data(as_text=True)
    transaction = _transaction(state)
    assert transaction["summaryCode"] == "0"
    assert transaction["responseCode"] == "08"
    assert transaction["surchargeAmount"] == "1.00"  # VISA 1.00% of 100.00
    assert transaction["paymentAmount"] == "101.00"
    assert transaction["maskedCardNumber"] == "424242...242"
    assert str(transaction["receiptNumber"]) in receipt
    assert "Payment successful" in receipt
    assert "4242424242424242" not in receipt


def test_amex_surcharge_and_four_digit_cvn(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, principalAmount="80.00")
    three = client.post(page + "/pay", data=card_form(csrf, "378282246310005", cvn="123"))
    assert three.status_code == 400
    assert "4-digit" in inline_errors(three.get_data(as_text=True))["cvn"]
    response = client.post(page + "/pay", data=card_form(csrf, "378282246310005", cvn="1234"))
    assert response.status_code == 303
    assert _transaction(state)["surchargeAmount"] == "2.00"  # AMEX 2.50% of 80.00
    assert _transaction(state)["cardScheme"] == "AMEX"


@pytest.mark.parametrize(
    ("ending", "code", "description"),
    [(ending, *outcome) for ending, outcome in common.DECLINES.items()],
    ids=[f"ends-{ending}" for ending in common.DECLINES],
)
def test_declining_card_endings(
    client: FlaskClient, state: State, ending: str, code: str, description: str
) -> None:
    number = next(o["example"] for o in magic_values()["outcomes"] if o["lastTwoDigits"] == ending)
    assert luhn_valid(number)
    assert number.endswith(ending)
    page, csrf = open_session(client)
    assert client.post(page + "/pay", data=card_form(csrf, number)).status_code == 303
    transaction = _transaction(state)
    assert transaction["summaryCode"] == "1"
    assert transaction["responseCode"] == code
    assert transaction["responseDescription"] == description
    assert transaction["successFlag"] is False
    assert "Payment declined" in client.get(page + "/receipt").get_data(as_text=True)


@pytest.mark.parametrize(
    "number", ["4111111111111111", "5555555555554444", "4000056655665556"], ids=str
)
def test_endings_below_90_approve_with_code_08(
    client: FlaskClient, state: State, number: str
) -> None:
    page, csrf = open_session(client)
    client.post(page + "/pay", data=card_form(csrf, number))
    assert _transaction(state)["responseCode"] == "08"


INVALID_FORMS = [
    ("luhn", {"cardNumber": "4242424242424241"}, "cardNumber", "check digit"),
    ("letters", {"cardNumber": "4242abcd42424242"}, "cardNumber", "not a valid card number"),
    ("short", {"cardNumber": "424242"}, "cardNumber", "not a valid card number"),
    ("empty-number", {"cardNumber": ""}, "cardNumber", "Enter the card number"),
    ("diners-not-accepted", {"cardNumber": "36006666333344"}, "cardNumber", "not accepted"),
    ("expired", {"expiryDateYear": "2020"}, "expiryDateYear", "expired"),
    ("bad-month", {"expiryDateMonth": "13"}, "expiryDateMonth", "expiry month"),
    ("no-year", {"expiryDateYear": ""}, "expiryDateYear", "expiry year"),
    ("cvn-short", {"cvn": "12"}, "cvn", "3-digit"),
    ("cvn-letters", {"cvn": "abc"}, "cvn", "3-digit"),
    ("no-name", {"cardholderName": " "}, "cardholderName", "name on the card"),
    ("name-nul", {"cardholderName": "Jane\x00"}, "cardholderName", "one line"),
    ("name-newline", {"cardholderName": "Jane\nCitizen"}, "cardholderName", "one line"),
    (
        "fullwidth-digits",
        {"cardNumber": "\uff14\uff12" * 8},
        "cardNumber",
        "not a valid",
    ),
    (
        "arabic-indic-year",
        {"expiryDateYear": "\u0662\u0660\u0663\u0660"},
        "expiryDateYear",
        "expiry year",
    ),
    ("bank-not-allowed", {"paymentMethod": "cheque"}, "paymentMethod", "not available"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [case[1:] for case in INVALID_FORMS],
    ids=[case[0] for case in INVALID_FORMS],
)
def test_invalid_card_form_shows_inline_errors_and_keeps_the_session_open(
    client: FlaskClient, state: State, overrides: dict[str, str], field: str, message: str
) -> None:
    page, csrf = open_session(client)
    response = client.post(page + "/pay", data=card_form(csrf, **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in inline_errors(html)[field]
    assert "Please correct the highlighted fields" in html
    assert state.store.records(records.NS_PAYMENT) == []
    # Nothing was consumed: the same session still takes a good payment.
    assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303


def test_invalid_form_never_echoes_the_card_number_or_cvn(client: FlaskClient) -> None:
    page, csrf = open_session(client)
    response = client.post(
        page + "/pay", data=card_form(csrf, "4242424242424242", cvn="98", cardholderName="Jo")
    )
    html = response.get_data(as_text=True)
    assert "4242424242424242" not in html
    assert 'value="98"' not in html
    assert 'value="Jo"' in html  # the name is kept so the payer need not retype it


def test_blank_principal_amount_lets_the_payer_enter_it(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, principalAmount=None)
    html = client.get(page).get_data(as_text=True)
    assert 'id="amount"' in html
    missing = client.post(page + "/pay", data=card_form(csrf))
    assert "amount" in inline_errors(missing.get_data(as_text=True))
    client.post(page + "/pay", data=card_form(csrf, amount="250.50"))
    transaction = _transaction(state)
    assert transaction["principalAmount"] == "250.50"
    assert transaction["surchargeAmount"] == "2.51"  # 1% of 250.50, rounded half up
    assert transaction["paymentAmount"] == "253.01"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the amount to pay"),
        ("ten dollars", "digits only"),
        ("12.345", "at most 2 decimal places"),
        ("1000000000", "too large"),
        ("0.00", "greater than zero"),
        ("-5", "digits only"),
    ],
    ids=["blank", "words", "three-decimals", "ten-digits", "zero", "negative"],
)
def test_a_typed_amount_that_cannot_be_paid_says_why(
    client: FlaskClient, state: State, typed: str, message: str
) -> None:
    page, csrf = open_session(client, principalAmount=None)
    response = client.post(page + "/pay", data=card_form(csrf, amount=typed))
    assert response.status_code == 400
    assert message in inline_errors(response.get_data(as_text=True))["amount"]
    assert state.store.records(records.NS_PAYMENT) == []


def test_typed_amount_may_carry_a_dollar_sign_and_spaces(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, principalAmount=None)
    assert client.post(page + "/pay", data=card_form(csrf, amount=" $12.5 ")).status_code == 303
    assert _transaction(state)["principalAmount"] == "12.50"


def test_bank_account_payment(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, accountType="DIRECT_DEBIT")
    html = client.get(page).get_data(as_text=True)
    assert 'id="bsb"' in html
    assert 'id="cardNumber"' not in html
    form = {
        "csrf": csrf,
        "paymentMethod": "bank",
        "accountName": "J Citizen",
        "bsb": "032000",
        "accountNumber": "123456789",
    }
    assert client.post(page + "/pay", data=form).status_code == 303
    transaction = _transaction(state)
    assert transaction["bsb"] == "032-000"
    assert transaction["maskedAccountNumber"] == "******789"
    assert transaction["surchargeAmount"] == "0.00"
    assert transaction["summaryCode"] == "0"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bsb": "03200"}, "bsb"),
        ({"bsb": "032/000"}, "bsb"),
        ({"accountNumber": "12"}, "accountNumber"),
        ({"accountNumber": "12345678901"}, "accountNumber"),
        ({"accountName": ""}, "accountName"),
        ({"accountName": "J\x00Citizen"}, "accountName"),
        ({"accountName": "J\r\nCitizen"}, "accountName"),
    ],
    ids=[
        "bsb-five-digits",
        "bsb-slash",
        "account-too-short",
        "account-too-long",
        "no-name",
        "name-nul",
        "name-line-break",
    ],
)
def test_invalid_bank_account_form(
    client: FlaskClient, state: State, overrides: dict[str, str], field: str
) -> None:
    page, csrf = open_session(client)
    form = {
        "csrf": csrf,
        "paymentMethod": "bank",
        "accountName": "J Citizen",
        "bsb": "032-000",
        "accountNumber": "123456",
        **overrides,
    }
    response = client.post(page + "/pay", data=form)
    assert response.status_code == 400
    assert field in inline_errors(response.get_data(as_text=True))
    assert state.store.records(records.NS_PAYMENT) == []


def test_credit_card_only_token_refuses_a_bank_payment(client: FlaskClient) -> None:
    page, csrf = open_session(client, accountType="CREDIT_CARD")
    assert 'id="bsb"' not in client.get(page).get_data(as_text=True)
    form = {"csrf": csrf, "paymentMethod": "bank", "accountName": "J", "bsb": "032000"}
    response = client.post(page + "/pay", data=form)
    assert response.status_code == 400
    assert "paymentMethod" in inline_errors(response.get_data(as_text=True))


@pytest.mark.parametrize("csrf", ["", "forged"], ids=["missing-csrf", "wrong-csrf"])
def test_payment_without_the_session_csrf_token_is_refused(
    client: FlaskClient, state: State, csrf: str
) -> None:
    page, real = open_session(client)
    response = client.post(page + "/pay", data=card_form(csrf))
    assert response.status_code == 403
    assert "Session check failed" in response.get_data(as_text=True)
    assert state.store.records(records.NS_PAYMENT) == []
    assert client.post(page + "/pay", data=card_form(real)).status_code == 303


def test_payment_from_another_browser_is_refused(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client)
    stranger = client.application.test_client()  # no session cookie
    assert stranger.get(page).status_code == 403
    assert stranger.post(page + "/pay", data=card_form(csrf)).status_code == 403
    assert state.store.records(records.NS_PAYMENT) == []


def test_second_submit_is_refused(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client)
    assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303
    again = client.post(page + "/pay", data=card_form(csrf, "5555555555554444"))
    assert again.status_code == 409
    assert len(state.store.records(records.NS_PAYMENT)) == 1
    # After payment the page itself leads to the receipt.
    assert client.get(page).headers["Location"] == page + "/receipt"


def test_fifty_concurrent_submits_make_one_payment(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client)
    cookie = client.get_cookie("QWSESSION", path=page)
    assert cookie is not None
    barrier = threading.Barrier(50)

    def submit(_: int) -> int:
        own = client.application.test_client()
        own.set_cookie("QWSESSION", cookie.value, path=page)
        barrier.wait(timeout=10)
        return own.post(page + "/pay", data=card_form(csrf)).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = Counter(pool.map(submit, range(50)))
    assert statuses == {303: 1, 409: 49}
    assert len(state.store.records(records.NS_PAYMENT)) == 1


def test_unknown_and_expired_sessions(client: FlaskClient, clock: Clock) -> None:
    assert client.get("/quickstream/quickweb/nope").status_code == 404
    clock.freeze()
    page, csrf = open_session(client)
    clock.advance(3601)
    response = client.post(page + "/pay", data=card_form(csrf))
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("utc", "accepted"),
    [("2026-11-30T12:59:59Z", True), ("2026-11-30T14:00:00Z", False)],
    ids=["last-second-of-november-in-sydney", "december-in-sydney-still-november-in-utc"],
)
def test_card_expiry_is_judged_by_the_sydney_calendar(
    client: FlaskClient, clock: Clock, utc: str, accepted: bool
) -> None:
    clock.freeze(datetime.fromisoformat(utc))
    page, csrf = open_session(client)
    form = card_form(csrf, expiryDateMonth="11", expiryDateYear="2026")
    response = client.post(page + "/pay", data=form)
    if accepted:
        assert response.status_code == 303
    else:
        assert response.status_code == 400
        assert "expired" in inline_errors(response.get_data(as_text=True))["expiryDateYear"]


def test_expiry_years_offered_start_at_the_current_sydney_year(
    client: FlaskClient, clock: Clock
) -> None:
    clock.freeze(datetime.fromisoformat("2026-12-31T14:00:00Z"))  # New Year's Day in Sydney
    page, _ = open_session(client)
    html = client.get(page).get_data(as_text=True)
    years = re.findall(r'<option value="(\d{4})"', html)
    assert years[0] == "2027"
    assert len(years) == 16


def test_cancel_goes_to_cancel_url_and_closes_the_session(
    client: FlaskClient, state: State
) -> None:
    page, csrf = open_session(client, cancelUrl="https://yoursite.com.au/cancelled")
    response = client.post(page + "/cancel", data={"csrf": csrf})
    assert response.status_code == 303
    assert response.headers["Location"] == "https://yoursite.com.au/cancelled"
    assert client.post(page + "/pay", data=card_form(csrf)).status_code == 409
    assert client.get(page).status_code == 409
    assert state.store.records(records.NS_PAYMENT) == []


def test_cancel_without_cancel_url_shows_a_cancelled_page(client: FlaskClient) -> None:
    page, csrf = open_session(client)
    assert client.post(page + "/cancel", data={"csrf": "forged"}).status_code == 403
    response = client.post(page + "/cancel", data={"csrf": csrf})
    assert response.status_code == 200
    assert "Payment cancelled" in response.get_data(as_text=True)


def test_receipt_before_payment_is_refused(client: FlaskClient) -> None:
    page, _ = open_session(client)
    response = client.get(page + "/receipt")
    assert response.status_code == 409


def test_custom_values_are_shown_on_the_payment_page(client: FlaskClient) -> None:
    page, _ = open_session(client, customPayeeName="Acme <Pty> Ltd")
    html = client.get(page).get_data(as_text=True)
    assert "<dt>Payee name</dt>" in html  # the name's words, not the raw parameter name
    assert "Acme &lt;Pty&gt; Ltd" in html  # escaped, never injected


def test_custom_values_are_shown_on_the_receipt_too(client: FlaskClient) -> None:
    page, csrf = open_session(client, customPayeeName="Acme <Pty> Ltd")
    client.post(page + "/pay", data=card_form(csrf))
    html = client.get(page + "/receipt").get_data(as_text=True)
    assert "<dt>Payee name</dt>" in html
    assert "Acme &lt;Pty&gt; Ltd" in html


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("customPayeeName", "Payee name"),
        ("customTitle", "Title"),
        ("customABNNumber", "ABN number"),
        ("customInvoice2Ref", "Invoice2 ref"),
        ("customX", "X"),
    ],
)
def test_custom_parameter_labels_read_as_words(name: str, label: str) -> None:
    assert payment_form.custom_label(name) == label


def test_inline_errors_are_linked_to_their_fields_and_focus_the_first(
    client: FlaskClient,
) -> None:
    page, csrf = open_session(client)
    form = card_form(csrf, "4242424242424241", cvn="1", cardholderName="")
    html = client.post(page + "/pay", data=form).get_data(as_text=True)
    for name in ("cardholderName", "cardNumber", "cvn"):
        tag = re.search(rf'<input[^>]* id="{name}"[^>]*>', html)
        assert tag, name
        assert f'aria-describedby="error-{name}"' in tag.group(0)
        assert ("autofocus" in tag.group(0)) == (name == "cardholderName")
    # The banner lists every problem in page order, each a link to its field.
    links = re.findall(r'<li><a href="#(\w+)">', html)
    assert links == ["cardholderName", "cardNumber", "cvn"]


@pytest.mark.parametrize(
    ("method", "form", "focus"),
    [
        ("card", {"cvn": "1"}, "cardNumber"),  # retyped first: never echoed back
        ("card", {"cardholderName": ""}, "cardholderName"),
        ("bank", {"bsb": "12"}, "bsb"),
    ],
    ids=["cvn-wrong", "name-missing", "bsb-wrong"],
)
def test_after_inline_errors_the_focus_goes_to_the_first_field_to_fix_or_retype(
    client: FlaskClient, method: str, form: dict[str, str], focus: str
) -> None:
    page, csrf = open_session(client)
    if method == "card":
        data = card_form(csrf, **form)
    else:
        data = {"csrf": csrf, "paymentMethod": "bank", "accountName": "J Citizen"}
        data.update({"bsb": "032-000", "accountNumber": "12345678", **form})
    html = client.post(page + "/pay", data=data).get_data(as_text=True)
    assert re.findall(r'id="(\w+)"[^>]* autofocus', html) == [focus]
    assert ('id="retype-card"' in html) == (method == "card")


def test_pay_fault_renders_an_error_page_and_charges_nothing(
    client: FlaskClient, state: State
) -> None:
    page, csrf = open_session(client)
    state.add_fault({"provider": "quickstream", "endpoint": "pay", "status": 502})
    response = client.post(page + "/pay", data=card_form(csrf))
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert state.store.records(records.NS_PAYMENT) == []
    assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303


def test_quickvault_registers_the_card(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, registerPaymentAccount="true")
    client.post(page + "/pay", data=card_form(csrf))
    transaction = _transaction(state)
    token = transaction["accountToken"]
    view = client.get("/_mockbank/state/quickstream").get_json()
    [account] = view["vaultAccounts"]
    assert account["accountToken"] == token
    assert account["maskedCardNumber"] == "424242...242"
    assert account["customerReferenceNumber"] == "CUST-42"
    assert "4242424242424242" not in str(view)


def test_quickvault_product_registers_a_bank_account(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, product="QUICKVAULT", accountType="DIRECT_DEBIT")
    form = {
        "csrf": csrf,
        "paymentMethod": "bank",
        "accountName": "J Citizen",
        "bsb": "032-000",
        "accountNumber": "12345678",
    }
    client.post(page + "/pay", data=form)
    [account] = [r.value for r in state.store.records(records.NS_VAULT)]
    assert account["accountType"] == "DIRECT_DEBIT"
    assert account["maskedAccountNumber"] == "*****678"


def test_declined_card_is_not_registered(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, registerPaymentAccount="true")
    client.post(page + "/pay", data=card_form(csrf, DECLINED_96))
    assert "accountToken" not in _transaction(state)
    assert state.store.records(records.NS_VAULT) == []


def test_state_view_masks_tokens(client: FlaskClient) -> None:
    _page, _ = open_session(client)
    view = client.get("/_mockbank/state/quickstream").get_json()
    [token] = view["tokens"]
    assert token["status"] == "used"
    assert token["token"].endswith("…")
    assert len(token["token"]) == 7
    [session] = view["sessions"]
    assert "csrf" not in session
    assert "binding" not in session


def test_a_card_number_typed_into_another_field_is_masked_in_journal_and_state_view(
    client: FlaskClient, state: State
) -> None:
    page, csrf = open_session(client, principalAmount=None, customNote="4111 1111 1111 1111")
    form = card_form(csrf, cardholderName="4242424242424242", amount="5555555555554444")
    assert client.post(page + "/pay", data=form).status_code == 400
    journal = json.dumps([e.as_dict() for e in state.journal.entries()])
    view = client.get("/_mockbank/state/quickstream").get_data(as_text=True)
    for pan in ("4242424242424242", "5555555555554444", "4111111111111111"):
        assert pan not in journal
        assert pan not in view.replace(" ", "")
    [entry] = state.journal.entries(endpoint="pay")
    assert entry.notes["form"]["cardholderName"] == "424242******4242"


def test_unexpected_failure_is_a_500_page_with_a_correlation_id(
    client: FlaskClient, state: State, monkeypatch: pytest.MonkeyPatch
) -> None:
    page, csrf = open_session(client)

    def broken(_: str) -> None:
        raise RuntimeError("simulated bug")

    # pay() looks the outcome up in its own module of the models package.
    from mockbank.providers.quickstream.models import paying

    monkeypatch.setattr(paying, "card_outcome", broken)
    response = client.post(page + "/pay", data=card_form(csrf))
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.get_data(as_text=True)
    assert response.headers["X-Request-Id"] in html
    assert "Traceback" not in html
    assert "simulated bug" not in html
    assert [type(e) for e in state.take_server_errors()] == [RuntimeError]
    monkeypatch.undo()
    assert client.post(page + "/pay", data=card_form(csrf)).status_code == 303
