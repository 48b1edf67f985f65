"""Real `mockbank serve` processes on one ``--state``, and the calls that make ids in each provider.

Every helper talks HTTP the way an integrator does (requests, Basic auth, WSSE, HMAC), so the
hardening tests see exactly what a team sharing one sandbox would see.
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from mockbank.clients.syspay import wsse_header
from tests.centagate.helpers import auth_body, b64, qr_body
from tests.processes import free_port, start_serve, wait_for_health
from tests.quickstream.helpers import Rest, payment, token_params

FORTER_AUTH = ("SITE_ID", "SITE_SECRET")
FORTER_TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
FORTER_CVC_TOKEN = "ftr1c0ffee00000000000000000000000001"
COMMUNITY = "COMMUNITY1"
# Centagate return codes (the current table): a wrong OTP, and a device locked by five of them.
CENTAGATE_WRONG_OTP = 23001
CENTAGATE_LOCKED = 29017


@dataclass
class Server:
    """One `mockbank serve` process."""

    process: subprocess.Popen[str]
    url: str
    proxy_url: str

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.communicate(timeout=20)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=20, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=20, **kwargs)

    def epoch(self) -> int:
        return int(self.get("/_mockbank/clock").json()["epoch"])


def serve(state_dir: Path) -> Server:
    """Start `mockbank serve` on free ports with this state directory; wait for health."""
    port, proxy_port = free_port(), free_port()
    process = start_serve(
        "--state",
        str(state_dir),
        "--port",
        str(port),
        "--proxy-port",
        str(proxy_port),
        "--upstream",
        "api.forter-secure.com=echo",
        "--quiet",
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_health(url, process)
    return Server(process, url, f"http://127.0.0.1:{proxy_port}")


# -- QuickStream ---------------------------------------------------------------------------------
def quickstream_token(server: Server, n: int) -> str:
    form = token_params(
        principalAmount="10.00",
        paymentReference=f"ref{n}",
        customerReferenceNumber=f"c{n}",
        returnUrl="http://127.0.0.1:9/back",
        cancelUrl="http://127.0.0.1:9/cancel",
    )
    answer = server.post("/quickstream/CommunityTokenRequestServlet", data=form)
    assert answer.status_code == 200, answer.text
    return answer.text.removeprefix("token=").strip()


def quickstream_handoff(server: Server, token: str) -> int:
    form = {"token": token, "communityCode": COMMUNITY}
    return server.post("/quickstream/OnlinePaymentServlet3", data=form).status_code


def quickstream_receipt(server: Server) -> str:
    rest = Rest(server.url + "/quickstream/rest/v1")
    answer = rest.transact(payment(singleUseTokenId=rest.token()))
    assert answer.status_code == 201, answer.text
    receipt: str = answer.json()["receiptNumber"]
    return receipt


# -- SysPay --------------------------------------------------------------------------------------
def syspay_token(server: Server, last4: str) -> str:
    number = _luhn("555555555555" + last4[:3])
    header = wsse_header(
        "myMerchantLogin", "myMerchantPassphrase", partner=False, created=server.epoch()
    )
    body = {
        "creditcard": {
            "number": number,
            "cardholder": "Jane Roe",
            "exp_month": "11",
            "exp_year": "2031",
            "cvc": "737",
        },
        "detokenizers": [{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}],
    }
    answer = server.post("/syspay/api/v2/merchant/token", json=body, headers={"X-Wsse": header})
    assert answer.status_code in (200, 201), answer.text
    return str(_find(answer.json(), "id"))


def syspay_redirect(server: Server, token_id: str = "1000001") -> str:
    header = wsse_header("myPartnerLogin", "myPartnerPassphrase", created=server.epoch())
    body = {"type": "TEXT", "viewer": "hardening", "company_reference": "4242"}
    answer = server.post(
        f"/syspay/api/v2/partner/token/{token_id}/detokenize", json=body, headers={"X-Wsse": header}
    )
    assert answer.status_code == 200, answer.text
    return str(_find(answer.json(), "redirect_url"))


def _find(data: Any, name: str) -> Any:
    """A field of a SysPay answer, wherever its envelope puts it."""
    if isinstance(data, dict):
        if name in data:
            return data[name]
        for value in data.values():
            found = _find(value, name)
            if found is not None:
                return found
    return None


def _luhn(head: str) -> str:
    from mockbank.masking import luhn_complete

    return luhn_complete(head)


# -- Centagate -----------------------------------------------------------------------------------
def _centagate_api(server: Server) -> str:
    return server.url + "/centagate/v2/CentagateWS/webresources"


def centagate_request(server: Server, device: str = "alice-device-1") -> dict[str, Any]:
    """requestQrCode for alice: the signed request and Centagate's envelope, as sent."""
    body = qr_body(server.epoch(), devAccId=device, details=b64("Pay RM 250 to Bob"))
    answer = requests.post(_centagate_api(server) + "/req/requestQrCode", json=body, timeout=20)
    return {"request": body, "envelope": answer.json()}


def centagate_challenge(server: Server, device: str = "alice-device-1") -> dict[str, Any]:
    sent = centagate_request(server, device)
    envelope = sent["envelope"]
    assert int(envelope["code"]) == 0, envelope
    return {"request": sent["request"], "qr": json.loads(envelope["object"])}


def centagate_authorize(server: Server, issued: dict[str, Any], *, wrong: bool = False) -> int:
    device = issued["request"]["devAccId"]
    body = auth_body(issued["qr"], server.epoch(), devAccId=device)
    if wrong:
        otp = "000000" if body["otp"] != "000000" else "111111"
        body = auth_body(issued["qr"], server.epoch(), devAccId=device, otp=otp)
    answer = requests.post(_centagate_api(server) + "/auth/authQRCode", json=body, timeout=20)
    code = int(answer.json()["code"])
    return code


# -- Forter --------------------------------------------------------------------------------------
def forter_tokenize(server: Server, *, single_use: bool = False) -> str:
    kind = "tokenize-single-use" if single_use else "tokenize"
    card = {
        "cardNumber": "4111111111111111",
        "expirationMonth": "12",
        "expirationYear": "2030",
        "cardHolderName": "Team Sandbox",
    }
    if single_use:
        card["cvc"] = "123"
    answer = server.post(f"/forter/v1/tokenization/{kind}", json=card, auth=FORTER_AUTH)
    assert answer.status_code in (200, 201), answer.text
    token: str = answer.json()["token"]
    return token


def forter_detokenize(
    server: Server, token: str, cvc_token: str | None = None
) -> requests.Response:
    """Send ``{{ card_last_four }}`` (and ``{{ cvc }}``) through the proxy to the echo target."""
    headers = {"forter-token": token, "Content-Type": "application/json"}
    body = '{"last4": "{{ card_last_four }}"'
    if cvc_token:
        headers["forter-cvc-token"] = cvc_token
        body += ', "cvc": "{{ cvc }}"'
    proxy = server.proxy_url.replace("http://", "http://SITE_ID:SITE_SECRET@")
    return requests.post(
        "http://api.forter-secure.com/v3/check",
        data=body + "}",
        headers=headers,
        proxies={"http": proxy},
        timeout=20,
    )


# -- TokenOS -------------------------------------------------------------------------------------
def tokenos_member(server: Server) -> str:
    answer = server.post("/tokenos/members", json={"memberType": "BUSINESS"})
    assert answer.status_code == 200, answer.text
    member: str = answer.json()["memberId"]
    return member
