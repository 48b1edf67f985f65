"""A small client for the QuickStream REST API, for integrators and tests against mockbank.

>>> client = QuickStreamRestClient("http://127.0.0.1:8787")          # doctest: +SKIP
>>> token = client.create_card_token("4242424242424242", "12", "2030", cvn="123")
>>> payment = client.pay(token["singleUseTokenId"], 10.00)
>>> client.refund(payment["receiptNumber"], 10.00)["transactionType"]
'REFUND'

The API key is the HTTP Basic username with a blank password: the publishable key for
single-use tokens, the secret key for everything else. ``POST /transactions`` always carries
an ``Idempotency-Key`` (a new UUID unless you pass one) and is resent once, with the same key,
after a network error, as Westpac advises; a 503 is raised, for you to retry with a new key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = [
    "PUBLISHABLE_KEY",
    "SECRET_KEY",
    "QuickStreamRestClient",
    "QuickStreamRestError",
]

# mockbank's seeded keys (fixtures/quickstream.json, restApi.keys).
SECRET_KEY = "MOCKBANK_SEC_demo0secret0key"
PUBLISHABLE_KEY = "MOCKBANK_PUB_demo0publishable0key"
API_PATH = "/quickstream/rest/v1"


class QuickStreamRestError(Exception):
    """A non-2xx answer: its status and the REST error body (``errors``, messages)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.errors: list[dict[str, Any]] = list(self.body.get("errors") or [])
        message = self.body.get("developerMessage") or f"HTTP {status}"
        super().__init__(f"QuickStream REST API answered {status}: {message}")

    @property
    def field_names(self) -> list[str]:
        """The fields a 422 names."""
        return [str(e.get("fieldName")) for e in self.errors]


def api_base(url: str) -> str:
    """``http://127.0.0.1:8787`` → ``…/quickstream/rest/v1``; a URL ending in ``/rest/v1``
    (mockbank's or Westpac's own hosts, routed in process) is used as it is."""
    url = url.rstrip("/")
    return url if urlsplit(url).path.endswith("/rest/v1") else url + API_PATH


class QuickStreamRestClient:
    """Calls the REST API with requests; every method returns the decoded JSON answer."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8787",
        *,
        secret_key: str = SECRET_KEY,
        publishable_key: str = PUBLISHABLE_KEY,
        supplier_business_code: str = "SUPPLIER1",
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base = api_base(base_url)
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.supplier_business_code = supplier_business_code
        self.http = session or requests.Session()
        self.timeout = timeout

    # -- plumbing -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        publishable: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One call; raises `QuickStreamRestError` on any non-2xx answer."""
        key = self.publishable_key if publishable else self.secret_key
        url = path if path.startswith(("http://", "https://")) else self.base + path
        response = self.http.request(
            method,
            url,
            json=json,
            params=params,
            headers=headers,
            auth=(key, ""),
            timeout=self.timeout,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.ok:
            raise QuickStreamRestError(response.status_code, body)
        return body

    def _pages(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        page = self.request("GET", path, params=params)
        while True:
            yield from page["data"]
            following = next((lk for lk in page["links"] if lk["rel"] == "next"), None)
            if following is None:
                return
            page = self.request("GET", following["href"])

    # -- resources ------------------------------------------------------------------------
    def root(self, *, publishable: bool = False) -> dict[str, Any]:
        return dict(self.request("GET", "", publishable=publishable))

    def create_card_token(
        self,
        card_number: str,
        expiry_month: str,
        expiry_year: str,
        *,
        cvn: str | None = None,
        cardholder_name: str | None = None,
    ) -> dict[str, Any]:
        """A single-use token for a card (publishable key), as the Trusted Frame makes one."""
        body = {
            "supplierBusinessCode": self.supplier_business_code,
            "accountType": "CREDIT_CARD",
            "cardNumber": card_number,
            "expiryDateMonth": expiry_month,
            "expiryDateYear": expiry_year,
            "cvn": cvn,
            "cardholderName": cardholder_name,
        }
        return dict(self.request("POST", "/single-use-tokens", json=body, publishable=True))

    def create_bank_account_token(
        self, account_name: str, bsb: str, account_number: str
    ) -> dict[str, Any]:
        body = {
            "supplierBusinessCode": self.supplier_business_code,
            "accountType": "DIRECT_DEBIT",
            "accountName": account_name,
            "bsb": bsb,
            "accountNumber": account_number,
        }
        return dict(self.request("POST", "/single-use-tokens", json=body, publishable=True))

    def create_transaction(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``POST /transactions`` with an Idempotency-Key, resent once after a network error."""
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        try:
            return dict(self.request("POST", "/transactions", json=body, headers=headers))
        except (requests.ConnectionError, requests.Timeout):
            return dict(self.request("POST", "/transactions", json=body, headers=headers))

    def pay(
        self,
        single_use_token_id: str | None = None,
        amount: float = 0.0,
        *,
        account_token: str | None = None,
        currency: str = "AUD",
        eci: str = "INTERNET",
        transaction_type: str = "PAYMENT",
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A PAYMENT (or PREAUTH) from a single-use token or a QuickVault accountToken."""
        body: dict[str, Any] = {
            "transactionType": transaction_type,
            "supplierBusinessCode": self.supplier_business_code,
            "principalAmount": amount,
            "currency": currency,
            "eci": eci,
            **fields,
        }
        if single_use_token_id:
            body["singleUseTokenId"] = single_use_token_id
        if account_token:
            body["accountToken"] = account_token
        return self.create_transaction(body, idempotency_key=idempotency_key)

    def preauth(self, single_use_token_id: str, amount: float, **fields: Any) -> dict[str, Any]:
        return self.pay(single_use_token_id, amount, transaction_type="PREAUTH", **fields)

    def _follow_up(self, kind: str, receipt_number: str, amount: float | None) -> dict[str, Any]:
        body: dict[str, Any] = {"transactionType": kind, "parentReceiptNumber": receipt_number}
        if amount is not None:
            body["principalAmount"] = amount
        return self.create_transaction(body)

    def capture(self, receipt_number: str, amount: float | None = None) -> dict[str, Any]:
        return self._follow_up("CAPTURE", receipt_number, amount)

    def refund(self, receipt_number: str, amount: float) -> dict[str, Any]:
        return self._follow_up("REFUND", receipt_number, amount)

    def void(self, receipt_number: str) -> dict[str, Any]:
        return self._follow_up("VOID", receipt_number, None)

    def get_transaction(self, receipt_number: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/transactions/{receipt_number}"))

    def list_transactions(self, **filters: str) -> list[dict[str, Any]]:
        """Every transaction (all pages), newest first; filters such as transactionType."""
        return list(self._pages("/transactions", filters or None))

    def create_customer(
        self, customer_number: str, customer_name: str, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "customerNumber": customer_number,
            "customerName": customer_name,
            "supplierBusinessCode": self.supplier_business_code,
            **fields,
        }
        return dict(self.request("POST", "/customers", json=body))

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/customers/{customer_id}"))

    def list_customers(self, **filters: str) -> list[dict[str, Any]]:
        return list(self._pages("/customers", filters or None))

    def register_account(
        self, customer_id: str, single_use_token_id: str, *, default_account: bool = True
    ) -> dict[str, Any]:
        """Keep a single-use token's card or bank account in QuickVault for the customer."""
        body = {"singleUseTokenId": single_use_token_id, "defaultAccount": default_account}
        return dict(self.request("POST", f"/customers/{customer_id}/accounts", json=body))

    def list_accounts(self, customer_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/customers/{customer_id}/accounts"))

    def get_account(self, account_token: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/accounts/{account_token}"))

    def delete_account(self, account_token: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/accounts/{account_token}"))

    def businesses(self) -> list[dict[str, Any]]:
        return list(self._pages("/businesses"))

    def accepted_cards(self, supplier_business_code: str | None = None) -> list[str]:
        code = supplier_business_code or self.supplier_business_code
        page = self.request("GET", f"/businesses/{code}/accepted-cards", publishable=True)
        return [str(item["cardScheme"]) for item in page["data"]]

    def card_surcharges(self, supplier_business_code: str | None = None) -> list[dict[str, Any]]:
        code = supplier_business_code or self.supplier_business_code
        return list(self.request("GET", f"/businesses/{code}/card-surcharges")["data"])
