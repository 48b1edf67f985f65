"""End to end through the live server: curl with the seed's header, requests, threads, and the
in-process mode for app.syspay.com."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from mockbank.clients.syspay import wsse_header
from tests.syspay.helpers import GOOD_BODY, PARTNER, SEED_TOKEN, card_body

SEED_VALUE = (
    'AuthToken PartnerAPILogin="myPartnerLogin", PasswordDigest="yxag0yx38DPpCDx1Pl8UZnmXANE=", '
    'Nonce="bXkgcmFuZG9tIG5vbmNl", Created="1400000000"'
)


def _curl(*args: str) -> tuple[int, str]:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    result = subprocess.run(
        [curl, "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_seed_example_header_authenticates_through_curl_once(mockbank_clock: Any, mockbank: Any):
    mockbank_clock.freeze(datetime.fromtimestamp(1400000000, UTC))
    url = mockbank.url("syspay", f"/api/v2/partner/token/{SEED_TOKEN}/detokenize")
    args = [
        "-H",
        f"X-Wsse: {SEED_VALUE}",
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(GOOD_BODY),
        url,
    ]
    status, body = _curl(*args)
    assert status == 200, body
    assert json.loads(body)["class"] == "detokenize"
    status, body = _curl(*args)
    assert status == 403
    assert json.loads(body)["error_code"] == 994036


def _partner(mockbank: Any, who: tuple[str, str] = PARTNER) -> dict[str, str]:
    return {"X-Wsse": wsse_header(*who, created=int(mockbank.clock.epoch()))}


def _detokenize(mockbank: Any, kind: str, base: str | None = None) -> str:
    url = (base or mockbank.url("syspay")) + f"/api/v2/partner/token/{SEED_TOKEN}/detokenize"
    response = requests.post(
        url, headers=_partner(mockbank), json={**GOOD_BODY, "type": kind}, timeout=10
    )
    assert response.status_code == 200, response.text
    redirect_url: str = response.json()["redirect_url"]
    return redirect_url


def test_text_and_image_urls_work_once_over_http(mockbank: Any) -> None:
    text_url = _detokenize(mockbank, "TEXT")
    assert text_url.startswith(mockbank.server.url + "/syspay/redirect/detokenize/")
    page = requests.get(text_url, timeout=10)
    assert page.status_code == 200
    assert "4111 1111 1111 1111" in page.text
    assert requests.get(text_url, timeout=10).status_code == 410
    image_url = _detokenize(mockbank, "IMAGE")
    png = requests.get(image_url, timeout=10)
    assert png.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (640, 400)
    assert requests.get(image_url, timeout=10).status_code == 410


def test_redirect_url_is_built_from_the_server_address_not_the_host_header(
    mockbank: Any,
) -> None:
    # Called as localhost, the link still names the address the server is bound to: a Host
    # header never decides where a one-time card link points.
    base = f"http://localhost:{mockbank.server.port}/syspay"
    url = _detokenize(mockbank, "TEXT", base)
    assert url.startswith(f"{mockbank.server.url}/syspay/redirect/")


def test_fifty_concurrent_visits_give_exactly_one_200(mockbank: Any) -> None:
    url = _detokenize(mockbank, "TEXT")

    def visit(_: int) -> int:
        with requests.Session() as session:
            return session.get(url, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(visit, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(410) == 49
    assert not [s for s in statuses if s >= 500]


def test_fifty_concurrent_replays_of_one_header_give_exactly_one_url(mockbank: Any) -> None:
    url = mockbank.url("syspay", f"/api/v2/partner/token/{SEED_TOKEN}/detokenize")
    header = _partner(mockbank)

    def post(_: int) -> int:
        with requests.Session() as session:
            return session.post(url, headers=header, json=GOOD_BODY, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(post, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(403) == 49
    assert len(mockbank.state.provider_state("syspay")["redirects"]) == 1


def test_inprocess_mode_routes_app_syspay_com(mockbank_inprocess: Any, mockbank: Any) -> None:
    merchant = {
        "X-Wsse": wsse_header(
            "myMerchantLogin",
            "myMerchantPassphrase",
            partner=False,
            created=int(mockbank.clock.epoch()),
        )
    }
    created = requests.post(
        "https://app.syspay.com/api/v2/merchant/token",
        headers=merchant,
        json=card_body(),
        timeout=10,
    )
    assert created.status_code == 201
    token_id = created.json()["id"]
    response = requests.post(
        f"https://app-sandbox.syspay.com/api/v1/partner/token/{token_id}/detokenize",
        headers=_partner(mockbank),
        json={**GOOD_BODY, "type": "IMAGE"},
        timeout=10,
    )
    assert response.status_code == 200
    redirect_url = response.json()["data"]["redirect_url"]
    assert redirect_url.startswith("https://app-sandbox.syspay.com/redirect/detokenize/")
    png = requests.get(redirect_url, timeout=10)
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert requests.get(redirect_url, timeout=10).status_code == 410


@pytest.mark.parametrize(("kind", "content_type"), [("TEXT", "text/html"), ("IMAGE", "image/png")])
def test_seed_php_with_php_curl_detokenizes_and_follows_the_url(
    mockbank: Any, kind: str, content_type: str
) -> None:
    php = shutil.which("php")
    if php is None:
        pytest.skip("php-cli is not installed")
    script = Path(__file__).parent / "php" / "detokenize.php"
    result = subprocess.run(
        [
            php,
            str(script),
            mockbank.url("syspay"),
            SEED_TOKEN,
            kind,
            str(int(mockbank.clock.epoch())),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "curl_init" in result.stderr:
        pytest.skip("php-curl is not installed")
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["class"] == "detokenize"
    assert seen["status"] == 200
    assert seen["content_type"].startswith(content_type)
    assert seen["shows_holder"] is (kind == "TEXT")
    views = mockbank.state.provider_state("syspay")["redirects"]
    assert [v["status"] for v in views] == ["VIEWED"]


def test_concurrent_merchants_get_distinct_token_ids(mockbank: Any) -> None:
    url = mockbank.url("syspay", "/api/v2/merchant/token")

    def create(_: int) -> tuple[int, str]:
        header = wsse_header(
            "myMerchantLogin",
            "myMerchantPassphrase",
            partner=False,
            created=int(mockbank.clock.epoch()),
        )
        with requests.Session() as session:
            response = session.post(url, headers={"X-Wsse": header}, json=card_body(), timeout=30)
        return response.status_code, response.headers["X-Syspay-Request-Uuid"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    assert {status for status, _ in results} == {201}
    ids = sorted(int(t["id"]) for t in mockbank.state.provider_state("syspay")["tokens"])
    assert ids == list(range(1000001, 1000022))
    assert len({uuid for _, uuid in results}) == 20
