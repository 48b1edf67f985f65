"""The Python v2 client (`mockbank.clients.tokenos_v2.TokenRestClient`) reads like real code."""

from __future__ import annotations

import pytest

from mockbank.clients.tokenos import Member
from mockbank.clients.tokenos_v2 import TokenApiError, TokenRestClient
from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import callback_params, consent_initiation, decide, sepa_initiation


@pytest.fixture
def client(live: LiveServer) -> TokenRestClient:
    return TokenRestClient(live.url_for("tokenos"), api_key="sandbox-api-key")


def test_payment_embedded_auth_and_refund_with_an_api_key(
    live: LiveServer, client: TokenRestClient
) -> None:
    payment = client.initiate_payment(sepa_initiation("201.00"), request_timeout=10)
    assert payment["status"] == "INITIATION_PENDING_EMBEDDED_AUTH"
    field = payment["authentication"]["fields"][0]["id"]
    payment = client.provide_embedded_fields(payment["id"], {field: "246810"})
    assert payment["status"] == "INITIATION_PENDING_EMBEDDED_AUTH_VERIFICATION"
    live.state.clock.advance(5)
    assert client.get_payment(payment["id"])["status"] == "INITIATION_COMPLETED"
    listed = client.get_payments(limit=5, statuses=["INITIATION_COMPLETED"])
    assert [p["id"] for p in listed["payments"]] == [payment["id"]]

    refund = client.initiate_refund(
        {
            "refId": "client-refund",
            "amount": {"value": "1.00", "currency": "EUR"},
            "originalPaymentId": payment["id"],
            "localInstrument": "SEPA",
            "description": "Goodwill",
        }
    )
    assert client.get_refund(refund["id"])["status"] == "INITIATION_PENDING"
    assert [r["id"] for r in client.get_refunds(limit=5)["refunds"]] == [refund["id"]]


def test_errors_raise_token_api_error_with_the_envelope(client: TokenRestClient) -> None:
    with pytest.raises(TokenApiError) as caught:
        client.get_payment("pm2:missing:x")
    assert caught.value.status == 404
    assert caught.value.error_code == "NOT_FOUND"
    assert caught.value.error["paymentId"] == "pm2:missing:x"
    with pytest.raises(TokenApiError) as refused:
        client.initiate_payment({**sepa_initiation(), "refId": "x" * 19})
    assert refused.value.error["paths"] == ["initiation.refId"]


def test_vrp_with_a_signed_member(live: LiveServer, merchant: Member) -> None:
    client = TokenRestClient("", member=merchant)
    consent = client.create_vrp_consent(consent_initiation())
    callback_params(decide(consent["authentication"]["redirectUrl"]))
    live.state.clock.advance(1)
    assert client.get_vrp_consent(consent["id"])["status"] == "AUTHORIZED"
    assert client.confirm_funds(consent["id"], "25.00") is True
    made = client.initiate_vrp(consent["id"], "25.00", "GBP", "vrp-1", "Sweep")
    assert made["initiation"]["consentId"] == consent["id"]
    with pytest.raises(TokenApiError) as over:
        client.initiate_vrp(consent["id"], "60.00", "GBP", "vrp-2", "Sweep")
    assert over.value.error_code == "Rules.VrpConsentViolation"
    assert [v["id"] for v in client.get_vrp_consent_payments(consent["id"])["vrps"]] == [made["id"]]
    assert client.get_vrp_consents(limit=5)["vrpConsents"][0]["id"] == consent["id"]
    assert client.revoke_vrp_consent(consent["id"])["status"] == "REVOKED"
