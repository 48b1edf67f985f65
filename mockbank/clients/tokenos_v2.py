"""A small Python client for Token.io's current REST API: payments v2, VRP and refunds.

Token.io publishes no Python SDK for this API; the method names follow the OpenAPI's
operations (InitiatePayment, GetPayment, GetPayments, ProvideEmbeddedFields, CreateVrpConsent,
...). It authenticates with a sandbox API key (HTTP Basic ``memberId:apiKey``) or, given a
`mockbank.clients.tokenos.Member`, signs every call with the member's Ed25519 key.

    client = TokenRestClient("http://127.0.0.1:8787/tokenos", api_key="sandbox-api-key")
    payment = client.initiate_payment({"flowType": "API_ONLY", "bankId": "iron", ...})
    redirect_to = payment["authentication"]["redirectUrl"]
    client.get_payment(payment["id"])["status"]      # INITIATION_COMPLETED, in the end

Failures raise `TokenApiError` with the v2 envelope's ``errorCode``, message and details.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

if TYPE_CHECKING:
    from mockbank.clients.tokenos import Member

Params = dict[str, Any]


class TokenApiError(Exception):
    """A v2 error answer: HTTP status, ``errorCode``, message and the whole ``error`` object."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.error = error
        self.error_code = str(error.get("errorCode", ""))
        self.message = str(error.get("message", ""))
        super().__init__(f"{status} {self.error_code}: {self.message}")


def _error_of(status: int, text: str) -> TokenApiError:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    return TokenApiError(status, error if isinstance(error, dict) else {"message": text})


class TokenRestClient:
    """Payments v2, VRP and refunds for one member (API key or signed)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        member_id: str = "",
        member: Member | None = None,
        timeout: float = 30.0,
    ) -> None:
        if (api_key is None) == (member is None):
            raise ValueError("give either api_key or member")
        self.base_url = (member.client.base_url if member is not None else base_url).rstrip("/")
        self.member = member
        self.timeout = timeout
        self.session = requests.Session()
        if api_key is not None:
            self.session.auth = (member_id, api_key)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Params | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One call; the decoded JSON answer, or `TokenApiError`."""
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None}, doseq=True)
        sent = dict(headers or {})
        if self.member is not None:
            sent["Authorization"] = self._signature(method, path, body, query)
        response = self.session.request(
            method,
            self.base_url + path + (f"?{query}" if query else ""),
            json=body,
            headers=sent,
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise _error_of(response.status_code, response.text)
        result: dict[str, Any] = response.json()
        return result

    def _signature(self, method: str, path: str, body: Any, query: str) -> str:
        """The member's ``Token-Ed25519-SHA512`` header for this call."""
        from mockbank.clients.tokenos import auth_header, signing_payload
        from mockbank.clock import wall_epoch

        assert self.member is not None
        # Wall time is right here: this runs in the client, which has no app clock.
        created = str(int(wall_epoch() * 1000))
        host = self.base_url.split("://", 1)[-1]
        payload = signing_payload(method, host, path, created, body, query)
        return auth_header(self.member.member_id, self.member.keys["LOW"], payload)

    # -- payments v2 ------------------------------------------------------------------------
    def initiate_payment(
        self,
        initiation: dict[str, Any],
        *,
        request_timeout: int | None = None,
        initial_embedded_auth: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/payments``; the ``payment``."""
        body: dict[str, Any] = {"initiation": initiation}
        if initial_embedded_auth:
            body["initialEmbeddedAuth"] = initial_embedded_auth
        headers = {"request-timeout": str(request_timeout)} if request_timeout else None
        payment: dict[str, Any] = self.call("POST", "/v2/payments", body, headers=headers)[
            "payment"
        ]
        return payment

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        """``GET /v2/payments/{id}``."""
        payment: dict[str, Any] = self.call("GET", f"/v2/payments/{payment_id}")["payment"]
        return payment

    def get_payments(self, limit: int = 200, **filters: Any) -> dict[str, Any]:
        """``GET /v2/payments``: ``{payments, pageInfo}``; filters by their OpenAPI names."""
        return self.call("GET", "/v2/payments", params={"limit": limit, **filters})

    def provide_embedded_fields(self, payment_id: str, fields: dict[str, str]) -> dict[str, Any]:
        """``POST /v2/payments/{id}/embedded-auth`` with the requested field values."""
        answer = self.call(
            "POST", f"/v2/payments/{payment_id}/embedded-auth", {"embeddedAuth": fields}
        )
        payment: dict[str, Any] = answer["payment"]
        return payment

    # -- VRP --------------------------------------------------------------------------------
    def create_vrp_consent(self, initiation: dict[str, Any]) -> dict[str, Any]:
        """``POST /vrp-consents``; the ``vrpConsent``."""
        consent: dict[str, Any] = self.call("POST", "/vrp-consents", {"initiation": initiation})[
            "vrpConsent"
        ]
        return consent

    def get_vrp_consent(self, consent_id: str) -> dict[str, Any]:
        """``GET /vrp-consents/{id}``."""
        consent: dict[str, Any] = self.call("GET", f"/vrp-consents/{consent_id}")["vrpConsent"]
        return consent

    def get_vrp_consents(self, limit: int = 200, **filters: Any) -> dict[str, Any]:
        """``GET /vrp-consents``: ``{vrpConsents, pageInfo}``."""
        return self.call("GET", "/vrp-consents", params={"limit": limit, **filters})

    def revoke_vrp_consent(self, consent_id: str) -> dict[str, Any]:
        """``DELETE /vrp-consents/{id}``."""
        consent: dict[str, Any] = self.call("DELETE", f"/vrp-consents/{consent_id}")["vrpConsent"]
        return consent

    def get_vrp_consent_payments(self, consent_id: str, limit: int = 200) -> dict[str, Any]:
        """``GET /vrp-consents/{id}/payments``: ``{vrps, pageInfo}``."""
        return self.call("GET", f"/vrp-consents/{consent_id}/payments", params={"limit": limit})

    def initiate_vrp(
        self,
        consent_id: str,
        value: str,
        currency: str,
        ref_id: str,
        remittance: str,
        **extra: Any,
    ) -> dict[str, Any]:
        """A payment under a consent: ``POST /v2/payments`` with ``initiation.vrpConsentId``."""
        initiation = {
            "vrpConsentId": consent_id,
            "refId": ref_id,
            "amount": {"value": value, "currency": currency},
            "remittanceInformationPrimary": remittance,
            **extra,
        }
        return self.initiate_payment(initiation)

    def confirm_funds(self, consent_id: str, amount: str) -> bool:
        """``GET /vrps/{consentId}/confirm-funds?amount=``."""
        answer = self.call("GET", f"/vrps/{consent_id}/confirm-funds", params={"amount": amount})
        return bool(answer.get("fundsAvailable"))

    # -- refunds ----------------------------------------------------------------------------
    def initiate_refund(self, initiation: dict[str, Any]) -> dict[str, Any]:
        """``POST /refunds``; the ``refund``."""
        refund: dict[str, Any] = self.call("POST", "/refunds", {"initiation": initiation})["refund"]
        return refund

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        """``GET /refunds/{id}``."""
        refund: dict[str, Any] = self.call("GET", f"/refunds/{refund_id}")["refund"]
        return refund

    def get_refunds(self, limit: int = 200, **filters: Any) -> dict[str, Any]:
        """``GET /refunds``: ``{refunds, paging}``."""
        return self.call("GET", "/refunds", params={"limit": limit, **filters})
