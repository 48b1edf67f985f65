"""Refunds over real HTTP: partial refunds up to the original amount, the one beyond refused,
the status machine and magic amounts, and no over-refunding under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import (
    advance,
    api,
    approved,
    create,
    get,
    next_ref,
    sepa_initiation,
    url,
)


def completed(live: LiveServer, amount: str = "100.00") -> dict[str, Any]:
    payment = approved(live, sepa_initiation(amount, returnRefundAccount=True))
    advance(live, 5)
    assert get(live, payment["id"])["status"] == "INITIATION_COMPLETED"
    return payment


def refund(live: LiveServer, payment_id: str, amount: str, **extra: Any) -> requests.Response:
    init = {
        "refId": next_ref(),
        "amount": {"value": amount, "currency": "EUR"},
        "originalPaymentId": payment_id,
        "localInstrument": "SEPA",
        "description": "Returned goods",
        **extra,
    }
    return api(live).post(url(live, "/refunds"), json={"initiation": init})


def test_partial_refunds_up_to_the_original_amount_and_not_beyond(live: LiveServer) -> None:
    payment = completed(live)
    first = refund(live, payment["id"], "30.00")
    assert first.status_code == 200, first.text
    made = first.json()["refund"]
    assert made["id"].startswith("rf:")
    assert made["status"] == "INITIATION_PENDING"
    assert made["initiation"]["creditor"]["iban"] == "DE89370400440532013000"  # the payer's account
    assert refund(live, payment["id"], "50.00").status_code == 200
    beyond = refund(live, payment["id"], "20.01")
    assert beyond.status_code == 400
    assert beyond.json()["error"]["paths"] == ["initiation.amount.value"]
    assert "20.00 EUR left" in beyond.json()["error"]["message"]
    assert refund(live, payment["id"], "20.00").status_code == 200
    assert refund(live, payment["id"], "0.01").status_code == 400

    details = get(live, payment["id"])["refundDetails"]
    assert details["paymentRefundStatus"] == "NONE"
    assert details["remainingRefundAmount"] == {"value": "0.00", "currency": "EUR"}
    advance(live, 1)
    got = api(live).get(url(live, f"/refunds/{made['id']}")).json()["refund"]
    assert got["status"] == "INITIATION_PROCESSING"
    advance(live, 4)
    assert (
        api(live).get(url(live, f"/refunds/{made['id']}")).json()["refund"]["status"]
        == "INITIATION_COMPLETED"
    )
    details = get(live, payment["id"])["refundDetails"]
    assert details["paymentRefundStatus"] == "FULL"
    assert details["settledRefundAmount"] == {"value": "100.00", "currency": "EUR"}


def test_rejected_refund_gives_its_amount_back(live: LiveServer) -> None:
    payment = completed(live, "150.00")
    rejected = refund(live, payment["id"], "103.00").json()["refund"]
    assert refund(live, payment["id"], "50.00").status_code == 400  # 103 is still held
    advance(live, 5)
    assert (
        api(live).get(url(live, f"/refunds/{rejected['id']}")).json()["refund"]["status"]
        == "INITIATION_REJECTED"
    )
    assert refund(live, payment["id"], "50.00").status_code == 200
    assert get(live, payment["id"])["refundDetails"]["paymentRefundStatus"] == "NONE"
    advance(live, 5)
    assert get(live, payment["id"])["refundDetails"]["paymentRefundStatus"] == "PARTIAL"


@pytest.mark.parametrize(
    ("amount", "final"),
    [("107.00", "INITIATION_FAILED"), ("105.00", "INITIATION_NO_FINAL_STATUS_AVAILABLE")],
)
def test_refund_magic_amounts(live: LiveServer, amount: str, final: str) -> None:
    payment = completed(live, "500.00")
    made = refund(live, payment["id"], amount).json()["refund"]
    advance(live, 31 * 24 * 3600)
    assert api(live).get(url(live, f"/refunds/{made['id']}")).json()["refund"]["status"] == final


def test_a_payment_that_is_not_completed_cannot_be_refunded(live: LiveServer) -> None:
    payment = create(live, sepa_initiation("100.00"))
    answer = refund(live, payment["id"], "1.00")
    assert answer.status_code == 400
    assert answer.json()["error"]["paths"] == ["initiation.originalPaymentId"]
    missing = refund(live, "pm2:none:x", "1.00")
    assert missing.status_code == 404
    assert missing.json()["error"]["paymentId"] == "pm2:none:x"


def test_duplicate_refund_ref_id_is_refused(live: LiveServer) -> None:
    payment = completed(live)
    first = refund(live, payment["id"], "1.00", refId="refund-1")
    assert first.status_code == 200
    again = refund(live, payment["id"], "1.00", refId="refund-1")
    assert again.json()["error"]["errorCode"] == "Field.NotUnique"


def test_concurrent_refunds_never_exceed_the_payment(live: LiveServer) -> None:
    payment = completed(live)
    with ThreadPoolExecutor(10) as pool:
        codes = list(
            pool.map(lambda _: refund(live, payment["id"], "10.00").status_code, range(25))
        )
    assert codes.count(200) == 10
    listed = api(live).get(url(live, f"/transfers/{payment['id']}/refunds"), params={"limit": 200})
    assert len(listed.json()["refunds"]) == 10


def test_refunds_list_with_filters_and_paging(live: LiveServer) -> None:
    payment = completed(live)
    made = [refund(live, payment["id"], "5.00").json()["refund"] for _ in range(3)]
    page = api(live).get(url(live, "/refunds"), params={"limit": 2}).json()
    assert [r["id"] for r in page["refunds"]] == [made[2]["id"], made[1]["id"]]
    rest = api(live).get(
        url(live, "/refunds"), params={"limit": 2, "offset": page["paging"]["offset"]}
    )
    assert [r["id"] for r in rest.json()["refunds"]] == [made[0]["id"]]
    picked = api(live).get(
        url(live, "/refunds"), params={"limit": 5, "ids": made[0]["id"], "invertIds": "true"}
    )
    assert len(picked.json()["refunds"]) == 2
    bad = api(live).get(url(live, "/refunds"), params={"limit": 5, "statuses": "DONE"})
    assert bad.status_code == 400
    unknown = api(live).get(url(live, "/refunds/rf:none:x"))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["errorCode"] == "Resource.NotFound"
