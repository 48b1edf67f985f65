"""``mockbank quickstream-token``, the dashboard credentials and the magic-values table."""

from __future__ import annotations

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.cli import main
from mockbank.masking import luhn_valid
from mockbank.pytest_plugin import Mockbank
from tests.quickstream.helpers import card_form, open_session


def test_token_command_prints_a_token_and_a_handoff_url_that_works(
    mockbank: Mockbank, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "quickstream-token",
            "--base-url",
            mockbank.server.url,
            "--amount",
            "12.34",
            "--param",
            "customTitle=Rates",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("token=")
    handoff = out.splitlines()[1].removeprefix("handoff: ")
    page = requests.get(handoff, timeout=10)
    assert page.status_code == 200
    assert "12.34" in page.text
    assert "Rates" in page.text


def test_token_command_reports_a_refusal(
    mockbank: Mockbank, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["quickstream-token", "--base-url", mockbank.server.url, "--password", "bad"])
    assert code == 1
    assert "HTTP 401: error=username or password is incorrect." in capsys.readouterr().err


def test_magic_values_are_published_and_consistent(client: FlaskClient) -> None:
    table = client.get("/_mockbank/magic-values/quickstream").get_json()
    endings = {row["lastTwoDigits"]: row for row in table["outcomes"]}
    assert endings["96"]["responseCode"] == "51"
    assert endings["96"]["summaryCode"] == "1"
    assert endings["00-89"]["responseCode"] == "08"
    for row in table["outcomes"][1:]:
        assert luhn_valid(row["example"])
        assert row["example"].endswith(row["lastTwoDigits"])
    assert all(luhn_valid(card["number"]) for card in table["cards"])


def test_dashboard_lists_the_seeded_credentials(client: FlaskClient) -> None:
    html = client.get("/_mockbank/console").get_data(as_text=True)
    for value in ("merchant / merchant-secret", "SUPPLIER1", "COMMUNITY1", "passback-secret"):
        assert value in html


def test_dashboard_shows_live_tokens_and_payments(client: FlaskClient) -> None:
    page, csrf = open_session(client)
    client.post(page + "/pay", data=card_form(csrf))
    html = client.get("/_mockbank/console").get_data(as_text=True)
    assert "used" in html
    assert "approved" in html
    assert "AUD 101.00 08 Honour with identification" in html
