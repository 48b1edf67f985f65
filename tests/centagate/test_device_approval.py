"""The device page moves an approved challenge out of Pending and refreshes by itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.centagate.helpers import (
    AUTH_QR,
    REQUEST_QR,
    Api,
    answer,
    auth_body,
    qr_body,
    reference_otp,
)

DEVICE_PAGE = "/centagate/device/alice-device-1"


def test_an_approved_challenge_leaves_pending_until_its_otp_is_used(api: Api) -> None:
    issued = api.issue()
    challenge = issued["otpChallenge"]
    api.client.post(DEVICE_PAGE, data={"challenge": challenge})
    page = api.client.get(DEVICE_PAGE).get_data(as_text=True)
    pending = page.split("<h2>Pending transactions</h2>", 1)[1]
    assert f'data-challenge="{challenge}"' not in pending
    assert f'data-approved="{challenge}"' in page
    otp = reference_otp("alice-device-secret", challenge, issued["plainText"])
    assert f'<dd class="approved-otp">{otp}</dd>' in page
    assert re.search(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC \(in \d+ min \d+ s\)", page)
    assert answer(api.authorize(issued, otp=otp))[0] == 0
    after = api.client.get(DEVICE_PAGE).get_data(as_text=True)
    assert challenge not in after
    assert 'id="empty"' in after
    journal = api.state.journal.entries(endpoint="device-page")
    assert all(otp not in entry.response_body for entry in journal)


@pytest.mark.slow
@pytest.mark.browser
def test_device_page_refreshes_itself_and_moves_an_approval(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    state = mockbank.state
    base = mockbank.url("centagate")
    page.goto(base + "/device/alice-device-1")
    page.locator("#empty").wait_for()
    reply = requests.post(
        base + REQUEST_QR.removeprefix("/centagate"), json=qr_body(state.clock.epoch()), timeout=10
    )
    issued = answer(reply)[2]
    challenge = issued["otpChallenge"]
    pending = page.locator(f'section.challenge[data-challenge="{challenge}"]')
    pending.wait_for(timeout=15_000)  # no reload by hand: the page noticed the new challenge
    pending.get_by_role("button", name="Approve").click()
    otp = page.locator("[data-otp]").inner_text()
    assert page.locator(f'section.challenge[data-challenge="{challenge}"]').count() == 0
    page.goto(base + "/device/alice-device-1")
    assert page.locator(f'[data-approved="{challenge}"] .approved-otp').inner_text() == otp
    assert page.get_by_role("button", name="Approve").count() == 0
    page.screenshot(path=str(artifacts / "centagate-device-approved.png"), full_page=True)
    body = auth_body(issued, state.clock.epoch(), otp=otp)
    assert answer(requests.post(base + AUTH_QR.removeprefix("/centagate"), json=body))[0] == 0
    # Used: it leaves the page by itself.
    page.locator(f'[data-approved="{challenge}"]').wait_for(state="detached", timeout=15_000)
    assert page.locator("#empty").is_visible()
