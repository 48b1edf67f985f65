"""Westpac's spelling of each resource: records in, JSON-ready dicts out.

Links are ``{rel, href, requestMethod}`` with absolute hrefs under `base` (the API root the
client called). Money is ``{currency, amount, displayAmount}``; a card is masked ``424242...242``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.rest.admin import ApiKey
from mockbank.providers.quickstream.rest.records import (
    Account,
    Customer,
    PaymentAccount,
    SingleUseToken,
    Transaction,
)

# models.card_scheme says UPOP for UnionPay; the REST API's enum says UNIONPAY.
SCHEME_NAMES = {"UPOP": "UNIONPAY"}
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def link(rel: str, href: str, method: str = "GET") -> dict[str, str]:
    return {"rel": rel, "href": href, "requestMethod": method}


def money(cents: int, currency: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "amount": round(cents / 100, 2),
        "displayAmount": f"${cents // 100:,}.{cents % 100:02d}",
    }


def root(base: str, facility: Facility, key: ApiKey) -> dict[str, Any]:
    resources = (
        ("single-use-tokens", "/single-use-tokens", "POST"),
        ("transactions", "/transactions", "GET"),
        ("create-transaction", "/transactions", "POST"),
        ("customers", "/customers", "GET"),
        ("create-customer", "/customers", "POST"),
        ("businesses", "/businesses", "GET"),
    )
    return {
        "links": [link("self", base), *(link(r, base + p, m) for r, p, m in resources)],
        "communityCode": facility.community_code,
        "communityName": facility.name,
        "keyName": key.name,
    }


def account_fields(account: PaymentAccount) -> dict[str, Any]:
    """The card or bank account fields of a token, account or transaction."""
    if account.card is not None:
        card = account.card
        return {
            "accountType": "CREDIT_CARD",
            "cardholderName": card.cardholder_name,
            "cardNumber": card.masked,
            "expiryDateMonth": card.expiry_month,
            "expiryDateYear": card.expiry_year[-2:],
            "cardScheme": SCHEME_NAMES.get(card.scheme, card.scheme),
            "cardType": "CREDIT",
        }
    assert account.bank is not None
    return {
        "accountType": "DIRECT_DEBIT",
        "accountName": account.bank.account_name,
        "bsb": account.bank.bsb,
        "accountNumber": account.bank.masked_number,
    }


def single_use_token(base: str, token: SingleUseToken, surcharge_bp: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "links": [link("create-transaction", base + "/transactions", "POST")],
        "singleUseTokenId": token.token_id,
        "accountType": token.account.account_type.value,
    }
    details = account_fields(token.account)
    details.pop("accountType")
    if token.account.card is not None:
        details["maskedCardNumber4Digits"] = "..." + token.account.card.last_four
        details["surchargePercentage"] = f"{(surcharge_bp or 0) / 100:.2f}"
        body["creditCard"] = details
    else:
        body["bankAccount"] = details
    return body


def transaction(base: str, facility: Facility, txn: Transaction, now: datetime) -> dict[str, Any]:
    href = f"{base}/transactions/{txn.receipt_number}"
    links = [link("self", href)]
    if txn.voidable(now):
        links.append(link("void", base + "/transactions", "POST"))
    if txn.refundable():
        links.append(link("refund", base + "/transactions", "POST"))
    if txn.refunded:
        links.append(link("refunds", href + "/refunds"))
    if txn.parent_receipt_number:
        links.append(link("parent", f"{base}/transactions/{txn.parent_receipt_number}"))
    details = account_fields(txn.account)
    if txn.account_token:
        details["accountToken"] = txn.account_token
    body: dict[str, Any] = {
        "links": links,
        "receiptNumber": txn.receipt_number,
        "transactionType": txn.transaction_type.value,
        "status": txn.status.value,
        "responseCode": txn.response_code,
        "responseDescription": txn.response_description,
        "summaryCode": txn.summary_code,
        "fraudGuardResult": None,
        "customerReferenceNumber": txn.customer_reference_number,
        "paymentReferenceNumber": txn.payment_reference_number,
        "comment": txn.comment,
        "source": "RESTAPI",
        "settlementDate": txn.settlement_date,
        "transactionTime": txn.transaction_time,
        "refundable": txn.refundable(),
        "voidable": txn.voidable(now),
        "principalAmount": money(txn.principal, txn.currency),
        "surchargeAmount": money(txn.surcharge, txn.currency),
        "totalAmount": money(txn.principal + txn.surcharge, txn.currency),
        "merchantAccount": merchant_account(facility, txn.currency),
        "creditCard" if txn.account.card else "bankAccount": details,
        "parentReceiptNumber": txn.parent_receipt_number,
        "supplierBusinessCode": txn.supplier_business_code,
        "eci": txn.eci,
        "ipAddress": txn.ip_address,
        "customerId": txn.customer_id,
    }
    return body


def merchant_account(facility: Facility, currency: str) -> dict[str, Any]:
    return {
        "merchantId": facility.community_code,
        "merchantName": facility.name,
        "settlementBsb": "032-000",
        "settlementAccountNumber": "000000",
        "displayName": f"{facility.name} 032-000 000000 ({facility.community_code})",
        "acquiringInstitution": "WBC",
        "currency": currency,
    }


def customer(base: str, item: Customer) -> dict[str, Any]:
    href = f"{base}/customers/{item.customer_id}"
    return {
        "links": [
            link("self", href),
            link("accounts", href + "/accounts"),
            link("register-account", href + "/accounts", "POST"),
        ],
        "customerId": item.customer_id,
        "customerNumber": item.customer_number,
        "customerName": item.customer_name,
        "supplierBusinessCode": item.supplier_business_code,
        "emailAddress": item.email_address,
        "phoneNumber": item.phone_number,
        "enabled": True,
    }


def account(base: str, item: Account) -> dict[str, Any]:
    href = f"{base}/accounts/{item.account_token}"
    links = [link("self", href), link("delete", href, "DELETE")]
    if item.customer_id:  # an account QuickWeb registered belongs to no REST customer
        links.append(link("customer", f"{base}/customers/{item.customer_id}"))
    return {
        "links": links,
        "customerId": item.customer_id or None,
        "accountToken": item.account_token,
        "defaultAccount": item.default_account,
        **account_fields(item.account),
    }


def business(base: str, facility: Facility, code: str) -> dict[str, Any]:
    href = f"{base}/businesses/{code}"
    return {
        "links": [
            link("self", href),
            link("accepted-cards", href + "/accepted-cards"),
            link("card-surcharges", href + "/card-surcharges"),
            link("query-card-surcharge", href + "/query-card-surcharge", "POST"),
        ],
        "supplierBusinessCode": code,
        "supplierBusinessName": facility.name,
        "registeredName": facility.name,
        "abn": None,
        "contactName": None,
        "contactEmail": facility.error_email,
        "contactPhone": None,
        "customerNotificationEmail": None,
    }


def accepted_cards(base: str, facility: Facility, code: str) -> dict[str, Any]:
    href = f"{base}/businesses/{code}/accepted-cards"
    return {
        "links": [link("self", href)],
        "data": [
            {"links": [], "cardScheme": SCHEME_NAMES.get(s, s)} for s in facility.surcharges_bp
        ],
    }


def card_surcharges(base: str, facility: Facility, code: str) -> dict[str, Any]:
    href = f"{base}/businesses/{code}/card-surcharges"
    data = [
        {
            "cardScheme": SCHEME_NAMES.get(scheme, scheme),
            "cardType": card_type,
            "surchargePercentage": f"{rate / 100:.2f}",
        }
        for scheme, rate in facility.surcharges_bp.items()
        for card_type in ("CREDIT", "DEBIT")
    ]
    return {"links": [link("self", href)], "data": data}


def page(base_href: str, items: list[dict[str, Any]], number: int, size: int) -> dict[str, Any]:
    """One page of a list, with ``next``/``prev`` links when there are more."""
    start = (number - 1) * size
    links = [link("self", f"{base_href}pageNumber={number}&pageSize={size}")]
    if start + size < len(items):
        links.append(link("next", f"{base_href}pageNumber={number + 1}&pageSize={size}"))
    if number > 1:
        links.append(link("prev", f"{base_href}pageNumber={number - 1}&pageSize={size}"))
    return {"links": links, "data": items[start : start + size]}
