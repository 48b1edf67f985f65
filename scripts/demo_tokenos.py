"""A narrated TokenOS walkthrough against a running mockbank: transfer and access flows.

    mockbank serve &
    python scripts/demo_tokenos.py --base-url http://127.0.0.1:8787

Every call is signed with Ed25519 exactly as the @token-io/tpp SDK signs it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

from mockbank.clients.tokenos import (
    CallbackError,
    TokenClient,
    TokenError,
    encode_callback_state,
    generate_nonce,
)
from mockbank.clients.tokenos_v2 import TokenApiError, TokenRestClient


def say(text: str) -> None:
    """Print a step heading."""
    print(f"\n== {text}")


def show(label: str, value: object) -> None:
    """Print one labelled value."""
    print(f"   {label}: {value if isinstance(value, str) else json.dumps(value)}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        """Never follow: the demo reads the Location itself."""
        return None


def consent(url: str, decision: str, **fields: str) -> str:
    """POST a payer's form as a browser would (consent, bank page); return where it redirects."""
    data = urllib.parse.urlencode({"decision": decision, **fields}).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=30)
    except urllib.error.HTTPError as answer:
        if answer.code == 302:
            return str(answer.headers["Location"])
        raise SystemExit(f"consent failed: {answer.code} {answer.read().decode()}") from None
    raise SystemExit("consent did not redirect")


def advance_clock(root: str, seconds: int) -> None:
    """Move the app clock through the control API."""
    body = json.dumps({"advance": seconds}).encode()
    request = urllib.request.Request(
        f"{root}/_mockbank/clock",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        show("app clock now", json.loads(answer.read())["now"])


def main(argv: list[str] | None = None) -> int:
    """Run the walkthrough; exit 0 when every step behaved as documented."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-url",
        default="http://127.0.0.1:8787",
        help="mockbank's address (TokenOS lives under /tokenos)",
    )
    args = parser.parse_args(argv)
    root = args.base_url.rstrip("/")
    client = TokenClient(f"{root}/tokenos")

    say("1. Create a business member with a DOMAIN alias and a display name")
    domain = f"shop-{secrets.token_hex(4)}.example.com"
    merchant = client.create_member({"type": "DOMAIN", "value": domain})
    merchant.set_profile({"displayNameFirst": "Demo Bookshop"})
    show("member id", merchant.member_id)
    show("alias", domain)

    say("2. List the model banks")
    for bank in client.get_banks()["banks"]:
        show(
            bank["id"],
            f"{bank['name']} ({bank['country']}), payments: {bank['supportsSendPayment']}",
        )

    say("3. Store a transfer token request (10.00 EUR, CSRF-protected)")
    csrf = secrets.token_urlsafe(16)
    payload = {
        "refId": generate_nonce(),
        "to": {"id": merchant.member_id},
        "transferBody": {"currency": "EUR", "lifetimeAmount": "10.00"},
        "description": "Book purchase",
        "redirectUrl": "https://shop.example.com/callback",
        "callbackState": encode_callback_state(csrf, "basket-7"),
    }
    options = {"bankId": "iron", "from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}}}
    stored = merchant.store_token_request(payload, options)
    url = client.generate_token_request_url(stored["id"])
    show("request id", stored["id"])
    show("consent URL (open it in a browser to click through)", url)

    say("4. The payer approves (form POST), TokenOS redirects to the callback")
    callback = consent(url, "approve")
    show("callback", callback[:120] + "...")
    try:
        client.parse_token_request_callback_url(callback, "someone-elses-session")
    except CallbackError as refused:
        show("parsed with the wrong CSRF token", f"refused ({refused})")
    parsed = client.parse_token_request_callback_url(callback, csrf)
    show("token id", parsed["tokenId"])
    show("inner state", parsed["innerState"])

    say("5. Redeem 4.00 EUR; the transfer settles after 5 s of app clock")
    token = merchant.get_token(str(parsed["tokenId"]))
    transfer = merchant.redeem_token(token, "4.00", description="Book purchase")
    show("transfer", f"{transfer['id']} {transfer['status']}")
    advance_clock(root, 6)
    show("transfer now", merchant.get_transfer(transfer["id"])["status"])

    say("6. Ask for account information (ACCOUNTS, BALANCES, TRANSACTIONS)")
    access_request = merchant.store_token_request(
        {
            "to": {"id": merchant.member_id},
            "accessBody": {"type": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"]},
            "redirectUrl": "https://shop.example.com/callback",
            "callbackState": encode_callback_state(csrf),
        },
        options,
    )
    access = client.parse_token_request_callback_url(
        consent(client.generate_token_request_url(access_request["id"]), "approve"), csrf
    )
    access_id = str(access["tokenId"])
    show("access token", access_id)
    accounts = merchant.call("GET", "/accounts", on_behalf_of=access_id)["accounts"]
    for account in accounts:
        balance = merchant.call(
            "GET",
            f"/accounts/{account['id']}/balance",
            on_behalf_of=access_id,
            customer_initiated=True,
        )["balance"]
        show(account["name"], f"{balance['current']['value']} {balance['current']['currency']}")
    recent = merchant.call(
        "GET", f"/accounts/{accounts[0]['id']}/transactions?limit=3", on_behalf_of=access_id
    )["transactions"]
    for item in recent:
        show("transaction", f"{item['type']} {item['amount']['value']} {item['description']}")

    say("7. Cancel the access token; it is refused afterwards")
    result = merchant.cancel_token(merchant.get_token(access_id))
    show("cancel", result["status"])
    try:
        merchant.call("GET", "/accounts", on_behalf_of=access_id)
    except TokenError as refused:
        show("after cancel", str(refused))
    else:
        print("   the cancelled token still worked: unexpected", file=sys.stderr)
        return 1

    say("8. A payer who denies: the callback carries error=access_denied")
    denied_request = merchant.store_token_request({**payload, "refId": generate_nonce()}, options)
    denied = consent(client.generate_token_request_url(denied_request["id"]), "deny")
    try:
        client.parse_token_request_callback_url(denied, csrf)
    except CallbackError as refused:
        show("parse", str(refused))

    rest = TokenRestClient("", member=merchant)
    payment_id = payments_v2(root, rest)
    vrp(root, rest)
    refund(root, rest, payment_id)
    print("\nDemo complete.")
    return 0


def sepa(amount: str, **extra: object) -> dict[str, object]:
    """A v2 SEPA initiation from Iron Bank to the shop."""
    initiation: dict[str, object] = {
        "flowType": "API_ONLY",
        "bankId": "iron",
        "refId": generate_nonce()[:18],
        "amount": {"value": amount, "currency": "EUR"},
        "localInstrument": "SEPA",
        "remittanceInformationPrimary": "Order 7",
        "callbackUrl": "https://shop.example.com/paid",
        "callbackState": "basket-7",
        "creditor": {"iban": "DE02120300000000202051", "name": "Demo Bookshop"},
    }
    initiation.update(extra)
    return initiation


def payments_v2(root: str, rest: TokenRestClient) -> str:
    """Payments v2: redirect, decoupled and Hosted Pages; the redirect payment's id."""
    say("9. Payments v2 (redirect): the payer approves on the bank's page")
    payment = rest.initiate_payment(sepa("25.00"), request_timeout=10)
    show("payment", f"{payment['id']} {payment['status']}")
    show("bank page", payment["authentication"]["redirectUrl"])
    show("callback", consent(payment["authentication"]["redirectUrl"], "approve"))
    advance_clock(root, 5)
    show("v2 payment now", rest.get_payment(payment["id"])["status"])

    say("10. Decoupled (magic amount 301.00): approved in the bank's app after 10 s")
    decoupled = rest.initiate_payment(sepa("301.00"))
    show("status", decoupled["status"])
    advance_clock(root, 15)
    show("decoupled payment now", rest.get_payment(decoupled["id"])["status"])

    say("11. Hosted Pages: Token.io's bank selection, then the bank, then the callback")
    hosted = sepa("12.00", flowType="FULL_HOSTED_PAGES")
    del hosted["bankId"]
    session = rest.initiate_payment(hosted)
    show("Hosted Pages", session["authentication"]["redirectUrl"])
    bank_page = consent(session["authentication"]["redirectUrl"], "continue", bankId="iron")
    show("bank chosen, bank page", bank_page)
    show("callback", consent(bank_page, "approve"))
    return str(payment["id"])


def vrp(root: str, rest: TokenRestClient) -> None:
    """A sweeping VRP consent: authorised, a payment within the limits, one over, revoked."""
    say("12. VRP: a consent of 50.00 GBP a payment, 100.00 GBP a day, authorised at the bank")
    consent_made = rest.create_vrp_consent(
        {
            "bankId": "wood",
            "refId": generate_nonce()[:18],
            "remittanceInformationPrimary": "Sweep",
            "scheme": "OBL_SWEEPING",
            "localInstrument": "FASTER_PAYMENTS",
            "currency": "GBP",
            "creditor": {"sortCode": "400515", "accountNumber": "87654321", "name": "Savings"},
            "maximumIndividualAmount": "50.00",
            "periodicLimits": [{"maximumAmount": "100.00", "periodType": "DAY"}],
            "callbackUrl": "https://shop.example.com/vrp",
            "callbackState": "vrp-1",
        }
    )
    show("callback", consent(consent_made["authentication"]["redirectUrl"], "approve"))
    advance_clock(root, 1)
    show("consent", rest.get_vrp_consent(consent_made["id"])["status"])
    made = rest.initiate_vrp(consent_made["id"], "40.00", "GBP", generate_nonce()[:18], "Sweep")
    show("VRP of 40.00", made["status"])
    try:
        rest.initiate_vrp(consent_made["id"], "70.00", "GBP", generate_nonce()[:18], "Sweep")
    except TokenApiError as refused:
        show("VRP over the limit", f"refused ({refused.error_code})")
    show("revoked", rest.revoke_vrp_consent(consent_made["id"])["status"])


def refund(root: str, rest: TokenRestClient, payment_id: str) -> None:
    """Refund part of the completed redirect payment; more than remains is refused."""
    say("13. Refund 10.00 of the 25.00 EUR payment; 20.00 more is refused")
    initiation = {
        "refId": generate_nonce()[:18],
        "amount": {"value": "10.00", "currency": "EUR"},
        "originalPaymentId": payment_id,
        "localInstrument": "SEPA",
        "description": "Returned book",
    }
    made = rest.initiate_refund(initiation)
    show("refund", f"{made['id']} {made['status']}")
    try:
        rest.initiate_refund(
            {
                **initiation,
                "refId": generate_nonce()[:18],
                "amount": {"value": "20.00", "currency": "EUR"},
            }
        )
    except TokenApiError as refused:
        show("second refund", f"refused ({refused.message})")
    advance_clock(root, 5)
    show("refund now", rest.get_refund(made["id"])["status"])


if __name__ == "__main__":
    sys.exit(main())
