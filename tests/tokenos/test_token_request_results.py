"""``GET /token-requests/{id}/result``: PENDING, PROCESSED, REJECTED, EXPIRED (by requests)."""

from __future__ import annotations

import requests

from mockbank.clients.tokenos import Member, TokenClient
from mockbank.testing import LiveServer
from tests.tokenos.helpers import consent, transfer_payload
from tests.tokenos.rest import call, store_request


def _result(live: LiveServer, request_id: str) -> requests.Response:
    return call(live, "GET", f"/token-requests/{request_id}/result")


def test_a_request_is_pending_until_the_payer_answers(live: LiveServer) -> None:
    request_id = store_request(live)
    answer = _result(live, request_id)
    assert answer.status_code == 200
    assert answer.json()["status"] == "PENDING"
    assert answer.json()["bankId"] == "iron"
    assert "tokenId" not in answer.json()


def test_an_approved_request_is_processed_with_the_token_and_tokens_signature(
    live: LiveServer, token_client: TokenClient
) -> None:
    request_id = store_request(live)
    location = consent(live, request_id).headers["Location"]
    body = _result(live, request_id).json()
    assert body["status"] == "PROCESSED"
    assert body["tokenId"].startswith("tt:")
    assert body["bankId"] == "iron"
    assert body["signature"]["memberId"] == token_client.get_token_member()["id"]
    # The same token the callback carried, verified with Token's published key.
    parsed = token_client.parse_token_request_callback_url(location, "csrf-1")
    assert parsed["tokenId"] == body["tokenId"]
    assert "transferId" not in body
    redeemed = call(live, "POST", "/transfers", json={"payload": {"tokenId": body["tokenId"]}})
    assert redeemed.status_code == 200, redeemed.text
    after = _result(live, request_id).json()
    assert after["transferId"] == redeemed.json()["transfer"]["id"]


def test_a_denied_request_is_rejected_with_a_reason(live: LiveServer) -> None:
    request_id = store_request(live)
    assert consent(live, request_id, decision="deny").status_code == 302
    body = _result(live, request_id).json()
    assert body["status"] == "REJECTED"
    assert body["statusReasonInformation"]


def test_an_unanswered_request_expires_by_the_app_clock(live: LiveServer) -> None:
    request_id = store_request(live)
    live.state.clock.advance(15 * 60 - 1)
    assert _result(live, request_id).json()["status"] == "PENDING"
    live.state.clock.advance(2)
    body = _result(live, request_id).json()
    assert body["status"] == "EXPIRED"
    # An answered request keeps its answer after the request's own lifetime.
    answered = store_request(live)
    consent(live, answered)
    live.state.clock.advance(3600)
    assert _result(live, answered).json()["status"] == "PROCESSED"


def test_unknown_and_foreign_requests_are_refused(live: LiveServer, merchant: Member) -> None:
    unknown = _result(live, "rq:nope:5zKtXEAq")
    assert unknown.status_code == 404
    assert unknown.headers["token-error"] == "NOT_FOUND"
    theirs = merchant.store_token_request(transfer_payload())["id"]
    foreign = _result(live, theirs)
    assert foreign.status_code == 403
    assert foreign.headers["token-error"] == "PERMISSION_DENIED"
    unauthenticated = requests.get(
        live.url_for("tokenos", f"/token-requests/{theirs}/result"), timeout=5
    )
    assert unauthenticated.status_code == 401
