"""QuickWeb Invoicing: a customer's open invoices, paid in full or in part on the hosted page."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clients.quickstream import verify_passback
from mockbank.fixtures import FixtureError, default_dir
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from tests.quickstream.helpers import (
    PAN_VISA,
    Receiver,
    card_form,
    csrf_of,
    fill_card,
    open_session,
    token_params,
)

PAN_DECLINED = "4000000000000796"  # ends in 96: Not sufficient funds
INVOICING = {"connectionType": "INVOICING", "product": "INVOICING", "principalAmount": None}


def _outstanding(view: dict[str, Any]) -> dict[str, str]:
    return {i["invoiceNumber"]: i["outstandingAmount"] for i in view["invoices"]}


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<div class="err" id="error-([\w-]+)">([^<]+)</div>', html))


SEEDED = {"INV-5001": "120.00", "INV-5002": "250.00", "INV-5003": "45.50", "INV-6001": "60.00"}


@pytest.mark.slow
def test_invoicing_token_pays_two_invoices_in_chromium(
    mockbank: Mockbank, receiver: Receiver, page: Any, artifacts: Path
) -> None:
    """One invoice in full, one underpaid with a comment; receipt, notification, passback."""
    params = token_params(
        **INVOICING,
        returnUrl=receiver.url + "/thankyou",
        serverReturnUrl=receiver.url + "/notify",
    )
    response = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=params, timeout=10
    )
    assert response.status_code == 200, response.text
    token = response.text.removeprefix("token=")
    action = mockbank.url("quickstream", "/OnlinePaymentServlet3")
    page.set_content(
        f"""<!doctype html><form action="{escape(action)}" method="POST">
<input type="hidden" name="token" value="{escape(token)}"/>
<input type="hidden" name="communityCode" value="COMMUNITY1"/>
<input type="submit" id="go" value="Pay invoices"/></form>"""
    )
    page.click("#go")
    page.wait_for_selector("#invoices")
    assert page.inner_text("#page-title") == "Pay your invoices"
    # CUST-42's open invoices only, earliest due first, with their line items.
    shown = page.eval_on_selector_all(".invoice", "els => els.map(e => e.id)")
    assert shown == ["invoice-INV-5001", "invoice-INV-5002", "invoice-INV-5003"]
    assert "Water usage, October" in page.inner_text("#invoice-INV-5001")
    page.check("#pay-INV-5001")
    page.check("#pay-INV-5002")
    page.fill("#amount-INV-5002", "200.00")
    page.fill("#comment-INV-5002", "Disputed: 50.00 charged twice")
    fill_card(page, PAN_VISA)
    page.screenshot(path=str(artifacts / "quickstream-invoicing-form.png"), full_page=True)
    page.click("#pay-button")
    page.wait_for_selector("#allocations")
    page.screenshot(path=str(artifacts / "quickstream-invoicing-receipt.png"), full_page=True)
    assert page.inner_text("#outcome") == "Payment successful"
    rows = page.eval_on_selector_all(
        ".allocation", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    assert rows == [
        ["INV-5001", "120.00", "0.00", ""],
        ["INV-5002", "200.00", "50.00", "Disputed: 50.00 charged twice"],
    ]

    view = mockbank.state.provider_state("quickstream")
    assert _outstanding(view) == {**SEEDED, "INV-5001": "0.00", "INV-5002": "50.00"}
    statuses = {i["invoiceNumber"]: i["status"] for i in view["invoices"]}
    assert statuses["INV-5001"] == "CLOSED"
    assert statuses["INV-5002"] == "OPEN"
    (payment,) = view["payments"]
    assert (payment["principalAmount"], payment["paymentAmount"]) == ("320.00", "323.20")
    assert [a["invoiceNumber"] for a in payment["allocations"]] == ["INV-5001", "INV-5002"]

    notified = receiver.wait_for(1)[0]
    assert notified.path == "/notify"
    fields = notified.form
    assert fields["allocationCount"] == "2"
    assert (fields["allocation1InvoiceNumber"], fields["allocation1Amount"]) == (
        "INV-5001",
        "120.00",
    )
    assert "allocation1Comment" not in fields
    assert (fields["allocation2InvoiceNumber"], fields["allocation2Amount"]) == (
        "INV-5002",
        "200.00",
    )
    assert fields["allocation2Comment"] == "Disputed: 50.00 charged twice"
    assert fields["principalAmount"] == "320.00"
    assert PAN_VISA not in json.dumps(view)

    page.click("#return-button")
    page.wait_for_url(re.compile(".*/thankyou.*"))
    (passback,) = receiver.on("/thankyou")
    assert passback.form["allocation2Amount"] == "200.00"
    assert verify_passback(passback.form, "passback-secret")

    # The closed invoice is no longer offered to the customer.
    again = requests.Session()
    params.pop("returnUrl")
    token = requests.post(
        mockbank.url("quickstream", "/CommunityTokenRequestServlet"), data=params, timeout=10
    ).text.removeprefix("token=")
    html = again.post(action, data={"token": token, "communityCode": "COMMUNITY1"}).text
    assert 'id="invoice-INV-5001"' not in html
    assert 'id="outstanding-INV-5002">50.00<' in html


def test_a_declined_card_changes_no_outstanding_amount(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, **INVOICING)
    form = card_form(csrf, PAN_DECLINED, **{"pay-INV-5001": "on", "amount-INV-5001": "120.00"})
    response = client.post(page + "/pay", data=form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Payment declined" in html
    assert 'id="no-allocations"' in html
    view = state.provider_state("quickstream")
    assert _outstanding(view) == SEEDED
    (payment,) = view["payments"]
    assert payment["summaryCode"] == "1"
    assert payment["allocations"] == []


@pytest.mark.parametrize(
    ("fields", "error_field", "words"),
    [
        pytest.param({}, "invoices", "at least one invoice", id="none-chosen"),
        pytest.param(
            {"pay-INV-5001": "on", "amount-INV-5001": "120.01"},
            "amount-INV-5001",
            "120.00 outstanding",
            id="over-outstanding",
        ),
        pytest.param(
            {"pay-INV-5001": "on", "amount-INV-5001": "-5.00"},
            "amount-INV-5001",
            "digits only",
            id="negative",
        ),
        pytest.param(
            {"pay-INV-5001": "on", "amount-INV-5001": "10.001"},
            "amount-INV-5001",
            "2 decimal places",
            id="too-many-decimals",
        ),
        pytest.param(
            {"pay-INV-5001": "on", "amount-INV-5001": "0.00"},
            "amount-INV-5001",
            "greater than zero",
            id="zero",
        ),
        pytest.param(
            {"pay-INV-6001": "on", "amount-INV-6001": "60.00"},
            "invoices",
            "at least one invoice",
            id="another-customers-invoice",
        ),
    ],
)
def test_bad_invoice_input_is_inline_and_consumes_nothing(
    client: FlaskClient, state: State, fields: dict[str, str], error_field: str, words: str
) -> None:
    page, csrf = open_session(client, **INVOICING)
    response = client.post(page + "/pay", data=card_form(csrf, **fields))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = _errors(html)
    assert words in errors[error_field]
    assert 'id="invoices"' in html  # the invoices are shown again
    view = state.provider_state("quickstream")
    assert _outstanding(view) == SEEDED
    assert view["payments"] == []
    # The session is still open: a good submit now pays.
    good = card_form(csrf_of(html), **{"pay-INV-5003": "on", "amount-INV-5003": "45.50"})
    assert client.post(page + "/pay", data=good).status_code == 303
    assert _outstanding(state.provider_state("quickstream"))["INV-5003"] == "0.00"


def test_invoice_errors_and_card_errors_show_together(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, **INVOICING)
    form = card_form(csrf, "4242424242424241", **{"pay-INV-5002": "on", "amount-INV-5002": "x"})
    response = client.post(page + "/pay", data=form)
    assert response.status_code == 400
    errors = _errors(response.get_data(as_text=True))
    assert {"amount-INV-5002", "cardNumber"} <= set(errors)
    assert state.provider_state("quickstream")["payments"] == []


def test_an_invoicing_token_ignores_a_principal_amount(client: FlaskClient, state: State) -> None:
    page, csrf = open_session(client, connectionType="INVOICING", product="INVOICING")
    form = card_form(csrf, **{"pay-INV-5003": "on", "amount-INV-5003": "20.00"})
    assert client.post(page + "/pay", data=form).status_code == 303
    (payment,) = state.provider_state("quickstream")["payments"]
    assert payment["principalAmount"] == "20.00"


def test_a_customer_without_invoices_sees_none(client: FlaskClient) -> None:
    page, _ = open_session(client, **INVOICING, customerReferenceNumber="CUST-NONE")
    html = client.get(page).get_data(as_text=True)
    assert 'id="no-invoices"' in html


def test_a_bad_seeded_invoice_names_the_field(tmp_path: Path) -> None:
    source = json.loads((default_dir() / "quickstream.json").read_text())
    source["invoices"][1]["outstandingAmount"] = "999.00"
    for name in default_dir().iterdir():
        (tmp_path / name.name).write_bytes(name.read_bytes())
    (tmp_path / "quickstream.json").write_text(json.dumps(source))
    with pytest.raises(FixtureError, match=r"invoices\.1\.outstandingAmount"):
        create_app({"fixtures_dir": tmp_path})
