#!/usr/bin/env python3
"""A narrated walkthrough of mockbank's QuickStream REST API against a running mockbank.

    mockbank serve &                            # in another terminal
    python scripts/demo_quickstream_rest.py     # or --base-url http://127.0.0.1:8787

It plays the merchant's server with mockbank's own client (requests underneath): the root
resource, a single-use token (what the Trusted Frame makes in the browser), a payment with an
Idempotency-Key sent twice, a refund, a pre-authorisation and its capture, a void, a declined
test card, and a customer whose card is kept in QuickVault and paid by accountToken.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from mockbank.clients.quickstream_rest import QuickStreamRestClient, QuickStreamRestError


def say(text: str) -> None:
    print(text, flush=True)


def show(label: str, txn: dict[str, Any]) -> None:
    say(
        f"{label}: receipt {txn['receiptNumber']} {txn['transactionType']} {txn['status']} "
        f"({txn['responseCode']} {txn['responseDescription']}) "
        f"total {txn['totalAmount']['displayAmount']}"
    )


def walkthrough(client: QuickStreamRestClient) -> None:
    root = client.root()
    say(f"1. GET {client.base} -> community {root['communityCode']}, key {root['keyName']!r}")
    say(f"   {len(root['links'])} links, e.g. {root['links'][1]['rel']} {root['links'][1]['href']}")

    token = client.create_card_token("4242424242424242", "12", "2035", cvn="123")
    say(
        f"2. POST /single-use-tokens (publishable key) -> {token['singleUseTokenId'][:8]}..., "
        f"card {token['creditCard']['cardNumber']}"
    )

    key = str(uuid.uuid4())
    paid = client.pay(
        token["singleUseTokenId"],
        100.00,
        idempotency_key=key,
        customerReferenceNumber="CUST-42",
        paymentReferenceNumber="INV-1001",
    )
    show("3. POST /transactions", paid)
    again = client.pay(
        token["singleUseTokenId"],
        100.00,
        idempotency_key=key,
        customerReferenceNumber="CUST-42",
        paymentReferenceNumber="INV-1001",
    )
    same = "the same answer" if again == paid else "A DIFFERENT ANSWER"
    say(f"4. The same request with the same Idempotency-Key -> {same}, no second payment")

    show("5. REFUND 40.00", client.refund(paid["receiptNumber"], 40.00))

    held = client.preauth(
        client.create_card_token("5555555555554444", "06", "2034")["singleUseTokenId"], 80
    )
    show("6. PREAUTH", held)
    show("   CAPTURE 75.00", client.capture(held["receiptNumber"], 75.00))

    other = client.pay(
        client.create_card_token("378282246310005", "01", "2033", cvn="1234")["singleUseTokenId"],
        15,
    )
    show("7. PAYMENT (AMEX, 2.50 % surcharge)", other)
    show("   VOID", client.void(other["receiptNumber"]))

    declined = client.pay(
        client.create_card_token("4000000000000796", "12", "2035")["singleUseTokenId"], 20
    )
    show(
        "8. A test card ending in 96 (a decline is a processed transaction, not an error)", declined
    )

    customer = client.create_customer(f"CUST-{uuid.uuid4().hex[:8]}", "Jane Citizen")
    account = client.register_account(
        customer["customerId"],
        client.create_card_token("4111111111111111", "03", "2036")["singleUseTokenId"],
    )
    say(
        f"9. Customer {customer['customerId']}, QuickVault account {account['accountToken']} "
        f"({account['cardScheme']} {account['cardNumber']})"
    )
    show(
        "   PAYMENT by accountToken",
        client.pay(None, 30, account_token=account["accountToken"], eci="RECURRING"),
    )

    try:
        client.pay(token["singleUseTokenId"], 100.00)  # a new key, but the token is spent
    except QuickStreamRestError as error:
        reason = error.errors[0]["messages"][0]
        say(f"10. The spent single-use token again -> {error.status}: {reason}")
    else:
        raise SystemExit("a used single-use token was accepted")

    base = client.base
    say("\nIn a browser, a page loading this script gets Trusted Frames for the card fields:")
    say(f'  <script src="{base}/quickstream-api-1.0.min.js"></script>')
    say(
        f"State: {base.split('/quickstream/')[0]}/_mockbank/state/quickstream "
        "(restTransactions, restCustomers, idempotencyKeys)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8787")
    args = parser.parse_args(argv)
    client = QuickStreamRestClient(args.base_url)
    try:
        walkthrough(client)
    except QuickStreamRestError as error:
        print(f"unexpected answer: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cannot reach mockbank at {args.base_url}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
