"""Bytes per live token of each kind, measured through the app on the memory store.

For each kind, `--count` tokens are created through the app (the Flask test client: every
request runs the whole app, views, hooks and store), with the journal kept to one entry and
the clock held, so every token stays live. tracemalloc measures what the Python heap grew by;
the figure is that growth over the count, store records and their indexes included. The goal
is under 2 KiB each.

    python scripts/bench/memory.py [--count 2000]
"""

from __future__ import annotations

import argparse
import base64
import gc
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mockbank import create_app  # noqa: E402
from mockbank.clients.centagate import sign as centagate_sign  # noqa: E402
from mockbank.clients.syspay import wsse_header  # noqa: E402
from mockbank.clients.tokenos import encode_callback_state  # noqa: E402

GOAL = 2048
FORTER_AUTH = "Basic " + base64.b64encode(b"SITE_ID:SITE_SECRET").decode()
TOKENOS_TPP = b"m:2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq"
TOKENOS_AUTH = "Basic " + base64.b64encode(TOKENOS_TPP + b":sandbox-api-key").decode()
Make = Callable[[Any, Any, int], Any]


def _ok(response: Any, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise RuntimeError(f"{response.status_code}: {response.get_data(as_text=True)[:300]}")
    return response


def quickstream_token(client: Any, state: Any, n: int) -> None:
    form = {
        "username": "merchant", "password": "merchant-secret",
        "supplierBusinessCode": "SUPPLIER1", "connectionType": "QUICKWEB",
        "product": "QUICKWEB", "currencyCode": "AUD", "principalAmount": "100.00",
        "paymentReference": f"INV-{n}", "customerReferenceNumber": f"C{n}",
        "returnUrl": "https://yoursite.com.au/thankyou",
    }  # fmt: skip
    path = "/quickstream/CommunityTokenRequestServlet"
    _ok(client.post(path, data=form, environ_base={"REMOTE_ADDR": "127.0.0.1"}), 200)


def syspay_token(client: Any, state: Any, n: int) -> None:
    created = int(state.now().timestamp())
    header = wsse_header("myMerchantLogin", "myMerchantPassphrase", partner=False, created=created)
    body = {
        "creditcard": {
            "number": "5555555555554444", "cardholder": "Jane Roe",
            "exp_month": "11", "exp_year": "2031", "cvc": "737",
        },
        "detokenizers": [{"login": "myPartnerLogin", "types": ["IMAGE"]}],
    }  # fmt: skip
    _ok(client.post("/syspay/api/v2/merchant/token", headers={"X-Wsse": header}, json=body), 201)


def centagate_challenge(client: Any, state: Any, n: int) -> None:
    body = {
        "username": "alice",
        "devAccId": "alice-device-1",
        "integrationKey": "mockbank-integration-key",
        "details": base64.b64encode(f"Pay RM {n} to Bob".encode()).decode(),
        "unixTimestamp": str(int(state.now().timestamp())),
    }
    body["hmac"] = centagate_sign(body, "mockbank-secret-key")
    path = "/centagate/v2/CentagateWS/webresources/req/requestQrCode"
    _ok(client.post(path, json=body), 200)


def forter_token(client: Any, state: Any, n: int) -> None:
    card = {"cardNumber": "4111111111111111", "expirationMonth": "12", "expirationYear": "2030"}
    path = "/forter/v1/tokenization/tokenize"
    _ok(client.post(path, json=card, headers={"Authorization": FORTER_AUTH}), 200)


def _store_request(client: Any, n: int) -> str:
    payload = {
        "refId": f"order-{n}",
        "to": {},
        "transferBody": {"currency": "EUR", "lifetimeAmount": "10.00"},
        "description": "Book purchase",
        "redirectUrl": "https://tpp.example.com/callback",
        "callbackState": encode_callback_state("csrf-1", f"cart-{n}"),
    }
    options = {"from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}}, "bankId": "iron"}
    body = {"requestPayload": payload, "requestOptions": options}
    answer = _ok(
        client.post("/tokenos/token-requests", json=body, headers={"Authorization": TOKENOS_AUTH}),
        200,
    )
    request_id: str = answer.get_json()["tokenRequest"]["id"]
    return request_id


def tokenos_request(client: Any, state: Any, n: int) -> None:
    _store_request(client, n)


class TokenosApproval:
    """The payer approving stored requests: the token and the request's result it adds.

    The requests are stored first (`prepare`, outside the measurement)."""

    def __init__(self) -> None:
        self.pending: list[str] = []

    def prepare(self, client: Any, state: Any, n: int) -> None:
        self.pending.append(_store_request(client, n))

    def __call__(self, client: Any, state: Any, n: int) -> None:
        path = f"/tokenos/app/request-token/{self.pending.pop()}"
        answer = _ok(client.post(path, data={"decision": "approve"}), 302)
        if "tokenId" not in parse_qs(urlsplit(answer.headers["Location"]).query):
            raise RuntimeError(f"no token in {answer.headers['Location']}")


KINDS: dict[str, Make] = {
    "QuickStream token": quickstream_token,
    "SysPay token": syspay_token,
    "Centagate challenge": centagate_challenge,
    "Forter token": forter_token,
    "Token.io token request": tokenos_request,
    "Token.io token (its approval)": TokenosApproval(),
}


def _records(state: Any) -> int:
    return sum(len(r) for r in getattr(state.store, "_data", {}).values())


def bytes_per_token(make: Make, count: int) -> tuple[float, float]:
    """(bytes per live token, store records per token) over `count` made through the app."""
    app = create_app({"journal_capacity": 1})
    state = app.extensions["mockbank"]
    state.clock.freeze()
    client = app.test_client()
    try:
        prepare = getattr(make, "prepare", None)
        for n in range(20):  # warm-up: caches, lazily built objects, the first journal entry
            if prepare is not None:
                prepare(client, state, -1 - n)
            make(client, state, -1 - n)
        for n in range(count if prepare is not None else 0):
            prepare(client, state, n)  # type: ignore[misc]
        gc.collect()
        records = _records(state)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for n in range(count):
            make(client, state, n)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return (after - before) / count, (_records(state) - records) / count
    finally:
        state.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="tokens of each kind")
    args = parser.parse_args(argv)
    if not 10 <= args.count <= 100_000:
        parser.error("--count must be between 10 and 100000")
    print(f"bytes per live token ({args.count} of each, memory store, clock held):")
    for name, make in KINDS.items():
        size, records = bytes_per_token(make, args.count)
        verdict = "under" if size < GOAL else "OVER"
        print(
            f"  {name + ':':38} {size:7.0f} B  ({records:.1f} records each; "
            f"{verdict} the {GOAL} B goal)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
