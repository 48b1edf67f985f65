"""The simulated CENTAGATE app: the device page, its QR images and the OTP it shows."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.centagate.helpers import DETAILS, Api, answer, reference_otp

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


@pytest.mark.slow
@pytest.mark.browser
def test_device_page_in_chromium_shows_a_qr_and_an_otp(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    import requests

    from tests.centagate.helpers import REQUEST_QR, qr_body

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


def test_qr_images_are_full_qr_with_whole_pixels_per_module(api: Api) -> None:
    import base64

    import segno

    long_details = "Pay RM 9,999.99 to " + "Merchant Sdn. Bhd. " * 25
    issued = api.issue(details=base64.b64encode(long_details.encode()).decode())
    modules = segno.make_qr(issued["qrCode"], error="m").symbol_size(scale=1, border=2)[0]
    png = api.client.get(f"{DEVICE_PAGE}/qr/{issued['otpChallenge']}.png").data
    width, height = Image.open(io.BytesIO(png)).size
    # A dense code used to be squeezed into 180 CSS px (under 2 px a module): unscannable.
    assert width == height
    assert width % modules == 0
    assert width // modules >= 3
    assert not segno.make_qr(issued["qrCode"][:10]).is_micro  # ...make_qr never does


@pytest.mark.slow
@pytest.mark.browser
def test_device_page_shows_dense_qr_at_natural_size_and_stacks_on_a_phone(
    mockbank: Any, page: Any, artifacts: Path
) -> None:
    import base64

    import requests
    import segno

    from tests.centagate.helpers import REQUEST_QR, qr_body

    long_details = "Pay RM 9,999.99 to " + "Merchant Sdn. Bhd. " * 25
    body = qr_body(
        mockbank.state.clock.epoch(), details=base64.b64encode(long_details.encode()).decode()
    )
    base = mockbank.url("centagate")
    reply = requests.post(base + REQUEST_QR.removeprefix("/centagate"), json=body, timeout=10)
    code, _, issued = answer(reply)
    assert code == 0
    modules = segno.make_qr(issued["qrCode"], error="m").symbol_size(scale=1, border=2)[0]
    card = f'[data-challenge="{issued["otpChallenge"]}"]'
    for width in (800, 390):  # a desktop window, then a phone (the app is a phone app)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(base + "/device/alice-device-1")
        qr = page.locator(f"{card} img.qr")
        qr.wait_for(state="visible")
        shown, natural = qr.evaluate("img => [img.getBoundingClientRect().width, img.naturalWidth]")
        assert natural % modules == 0
        assert shown / modules >= 3, (width, shown, modules)
        box = qr.bounding_box()
        meta = page.locator(f"{card} .meta").bounding_box()
        assert box is not None
        assert meta is not None
        if width == 390:
            assert meta["y"] >= box["y"] + box["height"], "details should wrap below the QR"
            assert meta["width"] > 250
        page.screenshot(path=str(artifacts / f"centagate-device-dense-{width}.png"), full_page=True)


def test_pending_challenge_is_found_only_for_its_own_device_while_usable(api: Api) -> None:
    from mockbank.providers.centagate import models

    api.state.clock.freeze()
    issued = api.issue()
    store, now = api.state.store, api.state.now()
    found = models.pending_challenge(store, "alice-device-1", issued["otpChallenge"], now=now)
    assert found is not None
    assert found.plain_text == issued["plainText"]
    assert models.pending_challenge(store, "bob-device-1", issued["otpChallenge"], now=now) is None
    assert models.pending_challenge(store, "alice-device-1", "\x00", now=now) is None
    # Another device's challenge is not shown or approvable on this device's page.
    other = api.client.post(
        "/centagate/device/bob-device-1", data={"challenge": issued["otpChallenge"]}
    )
    assert other.status_code == 410
    api.state.clock.advance(181)
    later = api.state.now()
    assert (
        models.pending_challenge(store, "alice-device-1", issued["otpChallenge"], now=later) is None
    )
