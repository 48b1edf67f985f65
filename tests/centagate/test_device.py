"""The simulated CENTAGATE app: the device page, its QR images and the OTP it shows."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.centagate.conftest import DETAILS, Api, answer, reference_otp

DEVICE_PAGE = "/centagate/device/alice-device-1"


def test_device_page_lists_pending_challenges_with_qr_images(api: Api) -> None:
    issued = api.issue()
    page = api.client.get(DEVICE_PAGE).get_data(as_text=True)
    assert issued["otpChallenge"] in page
    assert DETAILS in page
    assert 'src="data:image/png;base64,' in page
    assert issued["qrCode"].replace("&", "&amp;") in page


def test_device_page_hides_used_and_expired_challenges(api: Api) -> None:
    api.state.clock.freeze()
    used, expired = api.issue(), api.issue()
    answer(api.authorize(used))
    api.state.clock.advance(181)
    live = api.issue()
    page = api.client.get(DEVICE_PAGE).get_data(as_text=True)
    assert live["otpChallenge"] in page
    assert used["otpChallenge"] not in page
    assert expired["otpChallenge"] not in page


def test_approving_shows_the_otp_of_the_design_rule_and_it_signs(api: Api) -> None:
    issued = api.issue()
    response = api.client.post(DEVICE_PAGE, data={"challenge": issued["otpChallenge"]})
    assert response.status_code == 200
    shown = re.search(r"data-otp>(\d{6})<", response.get_data(as_text=True))
    assert shown is not None
    otp = shown.group(1)
    assert otp == reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"])
    assert answer(api.authorize(issued, otp=otp))[0] == 0
    journal = api.state.journal.entries(endpoint="device-page")[-1]
    assert otp not in journal.response_body  # the OTP page is kept out of the journal


def test_approving_a_challenge_that_is_gone_is_410(api: Api) -> None:
    issued = api.issue()
    answer(api.authorize(issued))
    response = api.client.post(DEVICE_PAGE, data={"challenge": issued["otpChallenge"]})
    assert response.status_code == 410
    assert "not pending" in response.get_data(as_text=True)


def test_unknown_device_page_is_404_listing_known_devices(api: Api) -> None:
    response = api.client.get("/centagate/device/nobody")
    assert response.status_code == 404
    assert "alice-device-1" in response.get_data(as_text=True)


def test_qr_png_is_a_readable_image(api: Api) -> None:
    issued = api.issue()
    response = api.client.get(f"{DEVICE_PAGE}/qr/{issued['otpChallenge']}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.width == image.height
    assert image.width > 100
    missing = api.client.get(f"{DEVICE_PAGE}/qr/00000000.png")
    assert missing.status_code == 404


@pytest.mark.browser
def test_device_page_in_chromium_shows_a_qr_and_an_otp(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    import requests

    from tests.centagate.conftest import REQUEST_QR, qr_body

    state = mockbank.state
    base = mockbank.url("centagate")
    body = qr_body(state.clock.epoch())
    reply = requests.post(base + REQUEST_QR.removeprefix("/centagate"), json=body, timeout=10)
    code, _, issued = answer(reply)
    assert code == 0
    page.goto(base + "/device/alice-device-1")
    qr = page.locator(f'[data-challenge="{issued["otpChallenge"]}"] img.qr')
    qr.wait_for(state="visible")
    size = qr.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] is True
    assert size[1] > 50
    assert size[1] == size[2]
    assert DETAILS in page.locator(".details").first.inner_text()
    page.screenshot(path=str(artifacts / "centagate-device-page.png"), full_page=True)
    page.get_by_role("button", name="Approve").first.click()
    otp = page.locator("[data-otp]").inner_text()
    page.screenshot(path=str(artifacts / "centagate-device-otp.png"), full_page=True)
    assert otp == reference_otp("alice-device-secret", issued["otpChallenge"], issued["plainText"])
