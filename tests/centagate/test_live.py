"""Over real HTTP: concurrency on the live server, and the in-process mode for real hosts."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from mockbank import create_app
from mockbank.testing import InProcess
from tests.centagate.helpers import AUTH_QR, REQUEST_QR, answer, auth_body, qr_body

THREADS = 50


def _post(session: requests.Session, url: str, body: dict[str, Any]) -> tuple[int, int]:
    reply = session.post(url, json=body, timeout=30)
    return reply.status_code, int(answer(reply)[0])


def test_fifty_concurrent_redemptions_sign_exactly_once(mockbank: Any) -> None:
    state = mockbank.state
    request_url = mockbank.url("centagate", REQUEST_QR.removeprefix("/centagate"))
    auth_url = mockbank.url("centagate", AUTH_QR.removeprefix("/centagate"))
    issued = json.loads(
        requests.post(request_url, json=qr_body(state.clock.epoch()), timeout=10).json()["object"]
    )
    body = auth_body(issued, state.clock.epoch())
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: _post(requests.Session(), auth_url, body), range(50)))
    assert {status for status, _ in results} == {200}
    codes = sorted(code for _, code in results)
    assert codes.count(0) == 1
    assert codes[1:] == [23001] * (THREADS - 1)
    assert len(state.provider_state("centagate")["transactions"]) == 1


def test_fifty_concurrent_wrong_otps_lock_the_device_exactly_at_five(mockbank: Any) -> None:
    state = mockbank.state
    request_url = mockbank.url("centagate", REQUEST_QR.removeprefix("/centagate"))
    auth_url = mockbank.url("centagate", AUTH_QR.removeprefix("/centagate"))
    issued = json.loads(
        requests.post(request_url, json=qr_body(state.clock.epoch()), timeout=10).json()["object"]
    )
    bodies = [auth_body(issued, state.clock.epoch(), otp=f"{i:06d}") for i in range(THREADS)]
    bodies = [b for b in bodies if b["otp"] != auth_body(issued, 0)["otp"]]
    with ThreadPoolExecutor(THREADS) as pool:
        codes = list(pool.map(lambda b: _post(requests.Session(), auth_url, b)[1], bodies))
    assert codes.count(23001) == 4
    assert codes.count(29017) == len(bodies) - 4
    devices = {d["devAccId"]: d for d in state.provider_state("centagate")["devices"]}
    assert devices["alice-device-1"]["locked"] is True
    assert devices["alice-device-1"]["failedAttempts"] == 5


def test_in_process_mode_routes_the_default_and_a_configured_host() -> None:
    app = create_app({"centagate.hosts": ["auth.bank.example", "cloud.centagate.com"]})
    state = app.extensions["mockbank"]
    try:
        with InProcess(app):
            for host in ("centagate.example", "auth.bank.example", "cloud.centagate.com"):
                url = f"https://{host}/v2/CentagateWS/webresources/req/requestQrCode"
                reply = requests.post(url, json=qr_body(state.clock.epoch()), timeout=10)
                assert reply.status_code == 200
                assert answer(reply)[0] == 0, host
                assert reply.headers["X-Mockbank-Hmac-Order"]
    finally:
        state.close()


def test_in_process_mode_reads_hosts_from_a_comma_separated_option() -> None:
    app = create_app({"centagate.hosts": "a.example, b.example"})
    try:
        with InProcess(app) as router:
            assert router.routes["a.example"] == "centagate"
            assert router.routes["b.example"] == "centagate"
            reply = requests.post(
                "https://b.example/v2/CentagateWS/webresources/auth/authQRCode", json={}, timeout=10
            )
            assert answer(reply)[0] == 10002
    finally:
        app.extensions["mockbank"].close()


def test_mockbank_inprocess_fixture_routes_centagate_example(mockbank_inprocess: Any) -> None:
    state = mockbank_inprocess.state
    reply = requests.post(
        "https://centagate.example/v2/CentagateWS/webresources/req/requestQrCode",
        json=qr_body(state.clock.epoch()),
        timeout=10,
    )
    assert answer(reply)[0] == 0
