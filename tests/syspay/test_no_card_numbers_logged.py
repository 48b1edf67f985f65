"""After a full run (tokenize, detokenize, views, errors), neither the journal nor the server log
holds a full card number, a CVC or a passphrase."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests

from mockbank.clients.syspay import wsse_header
from tests.syspay.helpers import GOOD_BODY, card_body

SECRETS = (
    "4111111111111111",
    "5555555555554444",
    "4111 1111 1111 1111",
    '"737"',
    "myPartnerPassphrase",
    "myMerchantPassphrase",
)


def test_journal_and_log_hold_no_card_number(
    mockbank: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = mockbank.url("syspay")

    def partner() -> dict[str, str]:
        return {
            "X-Wsse": wsse_header(
                "myPartnerLogin", "myPartnerPassphrase", created=int(mockbank.clock.epoch())
            )
        }

    def merchant() -> dict[str, str]:
        return {
            "X-Wsse": wsse_header(
                "myMerchantLogin",
                "myMerchantPassphrase",
                partner=False,
                created=int(mockbank.clock.epoch()),
            )
        }

    created = requests.post(
        f"{base}/api/v2/merchant/token", headers=merchant(), json=card_body(), timeout=10
    )
    token_id = created.json()["id"]
    requests.get(f"{base}/api/v2/merchant/token/{token_id}", headers=merchant(), timeout=10)
    # A refused tokenization whose body carries a card number and a CVC.
    requests.post(
        f"{base}/api/v2/merchant/token",
        headers=merchant(),
        json=card_body(exp_month="13"),
        timeout=10,
    )
    for token, kind in (("1000001", "TEXT"), ("1000001", "IMAGE"), (token_id, "IMAGE")):
        url = requests.post(
            f"{base}/api/v1/partner/token/{token}/detokenize",
            headers=partner(),
            json={**GOOD_BODY, "type": kind},
            timeout=10,
        ).json()["data"]["redirect_url"]
        assert requests.get(url, timeout=10).status_code == 200
        assert requests.get(url, timeout=10).status_code == 410
    requests.post(
        f"{base}/api/v2/partner/token/1000001/detokenize",
        headers=partner(),
        data="type=TEXT",
        timeout=10,
    )

    entries = mockbank.state.requests(provider="syspay")
    assert len(entries) >= 12
    journal = json.dumps([e.as_dict() for e in entries])
    control = requests.get(mockbank.url("_mockbank", "/requests"), timeout=10).text
    state_view = requests.get(mockbank.url("_mockbank", "/state/syspay"), timeout=10).text
    for text in (journal, control, state_view, caplog.text):
        for secret in SECRETS:
            assert secret not in text
    assert "555555******4444" in journal  # masked, not dropped
