"""``Idempotency-Key``: one transaction per key, the same answer to every retry, in one process
or in several sharing a store."""

from __future__ import annotations

import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from mockbank.pytest_plugin import Mockbank
from tests.processes import serve_on_free_ports
from tests.quickstream.helpers import Rest, assert_envelope, payment

CLIENTS = 50


@pytest.fixture
def rest(mockbank: Mockbank) -> Rest:
    return Rest(mockbank.url("quickstream", "/rest/v1"))


def _race(bases: list[str], body: dict[str, object], key: str) -> list[requests.Response]:
    """CLIENTS concurrent POST /transactions with one key, spread over `bases`."""
    clients = [Rest(bases[i % len(bases)]) for i in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(lambda client: client.transact(body, key), clients))


def test_fifty_concurrent_posts_with_one_key_make_one_transaction(
    rest: Rest, mockbank: Mockbank
) -> None:
    body = payment(25.00, singleUseTokenId=rest.token())
    answers = _race([rest.base], body, "order-1001-attempt")
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1  # 50 identical answers
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1
    keys = mockbank.state.provider_state("quickstream")["idempotencyKeys"]
    assert [(k["key"], k["state"], k["responseStatus"]) for k in keys] == [
        ("order-1001-attempt", "answered", 201)
    ]


def test_a_retry_with_the_same_key_and_body_gets_the_same_answer(rest: Rest) -> None:
    body = payment(25.00, singleUseTokenId=rest.token())
    first = rest.transact(body, "retry-key")
    again = rest.transact(body, "retry-key")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1


def test_the_same_key_with_another_body_is_refused(rest: Rest) -> None:
    token = rest.token()
    assert rest.transact(payment(25.00, singleUseTokenId=token), "shared-key").status_code == 201
    other = rest.transact(payment(26.00, singleUseTokenId=rest.token()), "shared-key")
    body = assert_envelope(other, 422)
    assert body["errors"][0]["fieldName"] == "Idempotency-Key"
    assert "different request" in body["errors"][0]["messages"][0]
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1


def test_a_refused_request_does_not_burn_its_key(rest: Rest) -> None:
    bad = rest.transact(payment(25.00, singleUseTokenId="no-such-token"), "fix-and-retry")
    assert_envelope(bad, 422)
    good = rest.transact(payment(25.00, singleUseTokenId=rest.token()), "fix-and-retry")
    assert good.status_code == 201


def test_a_declined_answer_is_kept_for_its_key(rest: Rest) -> None:
    body = payment(25.00, singleUseTokenId=rest.token("4000000000000796"))
    first = rest.transact(body, "declined-key")
    assert first.json()["status"] == "Declined"
    assert rest.transact(body, "declined-key").json() == first.json()
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "has space", "caf\u00e9"], ids=["empty", "long", "space", "non-ascii"]
)
def test_a_malformed_key_is_refused(rest: Rest, key: str) -> None:
    headers = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
    answer = rest.call(
        "POST", "/transactions", json=payment(singleUseTokenId=rest.token()), headers=headers
    )
    assert assert_envelope(answer, 422)["errors"][0]["fieldName"] == "Idempotency-Key"


@pytest.mark.slow
def test_one_key_raced_across_two_processes_sharing_a_store(tmp_path: Path) -> None:
    processes: list[subprocess.Popen[str]] = []
    bases = []
    try:
        for _ in range(2):
            base, process = serve_on_free_ports("--state", str(tmp_path))
            processes.append(process)
            bases.append(f"{base}/quickstream/rest/v1")
        token = Rest(bases[0]).token()
        answers = _race(bases, payment(30.00, singleUseTokenId=token), "cluster-key")
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["receiptNumber"] for a in answers}) == 1
        for base in bases:
            assert len(Rest(base).call("GET", "/transactions").json()["data"]) == 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=15)


def test_fifty_payments_racing_for_one_single_use_token_charge_once(rest: Rest) -> None:
    body = payment(25.00, singleUseTokenId=rest.token())
    clients = [Rest(rest.base) for _ in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(lambda client: client.transact(body), clients))  # new key each
    assert sorted(a.status_code for a in answers) == [201] + [422] * (CLIENTS - 1)
    for refused in (a for a in answers if a.status_code == 422):
        assert assert_envelope(refused, 422)["errors"][0]["fieldName"] == "singleUseTokenId"
    assert len(rest.call("GET", "/transactions").json()["data"]) == 1


def test_concurrent_refunds_never_exceed_the_payment(rest: Rest) -> None:
    paid = rest.transact(payment(10.00, singleUseTokenId=rest.token())).json()
    body = {
        "transactionType": "REFUND",
        "parentReceiptNumber": paid["receiptNumber"],
        "principalAmount": 1.00,
    }
    clients = [Rest(rest.base) for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda client: client.transact(body), clients))
    assert sorted(a.status_code for a in answers) == [201] * 10 + [422] * 10
    refunds = rest.call("GET", f"/transactions/{paid['receiptNumber']}/refunds?pageSize=100").json()
    assert len(refunds["data"]) == 10
    assert {r["parentReceiptNumber"] for r in refunds["data"]} == {paid["receiptNumber"]}
    assert rest.call("GET", f"/transactions/{paid['receiptNumber']}").json()["refundable"] is False
