"""Every consent step has a way back; banks that cannot serve a request are shown disabled."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from mockbank import create_app
from mockbank.clients.tokenos import Member, TokenClient
from mockbank.fixtures import default_dir
from mockbank.testing import LiveServer
from tests.tokenos.helpers import CALLBACK, access_payload, catch_callback, transfer_payload
from tests.tokenos.helpers import consent as post_consent

SOLO = "solo@example.com"


def consent(live: LiveServer, request_id: str, **form: str) -> Any:
    """POST a consent step; only an explicit decision approves or denies."""
    form.setdefault("decision", "")
    return post_consent(live, request_id, **form)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The shipped fixtures plus a payer whose only account is at Iron Bank."""
    directory = tmp_path / "fixtures"
    shutil.copytree(default_dir(), directory)
    path = directory / "tokenos.json"
    data = json.loads(path.read_text())
    data["payers"].append(
        {
            "email": SOLO,
            "name": "Sol Only",
            "keySeed": "mockbank-tokenos-solo",
            "accounts": [
                {
                    "id": "a:solo-iron",
                    "bank": "iron",
                    "name": "Solo Checking",
                    "number": "DE44500105175407324931",
                    "balance": "700.00",
                }
            ],
        }
    )
    path.write_text(json.dumps(data))
    app = create_app({"state_path": None, "fixtures_dir": directory})
    yield app
    app.extensions["mockbank"].close()


def test_a_eur_payment_offers_only_eur_banks_and_says_why(
    live: LiveServer, merchant: Member
) -> None:
    stored = merchant.store_token_request(transfer_payload("25.00"), {})
    page = consent(live, stored["id"]).text
    assert 'value="iron"' in page
    assert (
        'data-unavailable="wood"><input type="radio" name="bankId" value="wood" disabled>' in page
    )
    assert "holds GBP accounts; this payment is in EUR" in page
    assert "does not offer payments through Token" in page
    refused = consent(live, stored["id"], bankId="wood")
    assert refused.status_code == 400
    assert "Choose your bank" in refused.text


def test_account_labels_say_what_the_number_is(live: LiveServer, merchant: Member) -> None:
    stored = merchant.store_token_request(transfer_payload("25.00"), {})
    page = consent(live, stored["id"], bankId="iron", email="payer@example.com").text
    assert "Iron Checking (EUR), account number ending 3000" in page
    german = consent(live, stored["id"], bankId="iron", email="payer@example.com", lang="de")
    assert "Iron Checking (EUR), Kontonummer endet auf 3000" in german.text


def test_back_buttons_return_to_the_bank_and_email_steps(
    live: LiveServer, merchant: Member
) -> None:
    stored = merchant.store_token_request(access_payload(), {})
    email_step = consent(live, stored["id"], bankId="wood")
    assert "Enter the email address" in email_step.text
    assert 'name="back" value="bank"' in email_step.text
    back = consent(live, stored["id"], bankId="wood", back="bank")
    assert "Choose your bank" in back.text
    accounts = consent(live, stored["id"], bankId="wood", email=SOLO)
    assert 'id="no-accounts"' in accounts.text
    assert 'id="approve" disabled' in accounts.text
    to_email = consent(live, stored["id"], bankId="wood", email=SOLO, back="email")
    assert "Enter the email address" in to_email.text
    # Going back to the bank keeps the email: the next bank leads straight to the accounts.
    to_bank = consent(live, stored["id"], bankId="wood", email=SOLO, back="bank")
    assert f'name="email" value="{SOLO}"' in to_bank.text
    approved = consent(live, stored["id"], bankId="wood", email=SOLO, decision="approve")
    assert approved.status_code == 400  # no account there: nothing to approve


@pytest.mark.slow
@pytest.mark.browser
def test_consent_walks_back_from_a_bank_without_accounts_in_chromium(
    page: Any, live: LiveServer, merchant: Member, token_client: TokenClient, artifacts: Path
) -> None:
    stored = merchant.store_token_request(access_payload(), {})
    seen = catch_callback(page)
    page.goto(token_client.generate_token_request_url(stored["id"]))
    page.check("input[value=wood]")
    page.click("#continue")
    page.fill("#email", SOLO)
    page.click("#continue")
    page.locator("#no-accounts").wait_for()
    assert "no account at Wood Bank" in page.locator("#no-accounts").inner_text()
    assert page.locator("#approve").is_disabled()
    page.screenshot(path=str(artifacts / "tokenos-consent-no-accounts.png"))
    page.click("#back")
    assert page.locator("#step-title").inner_text() == "Choose your bank"
    page.check("input[value=iron]")
    page.click("#continue")
    label = page.locator("label.choice").first.inner_text()
    assert "Solo Checking (EUR), account number ending 4931" in label
    page.screenshot(path=str(artifacts / "tokenos-consent-back-to-iron.png"))
    page.click("#approve")
    page.wait_for_url(f"{CALLBACK}**")
    query = parse_qs(urlsplit(seen[-1]).query)
    assert query["tokenId"][0].startswith("ta:")
