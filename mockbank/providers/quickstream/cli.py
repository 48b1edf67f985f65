"""``mockbank quickstream-token``: request a token from a running server, print the handoff."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mockbank.clients.quickstream import CURRENCIES, TokenRefused, handoff_url, request_token


def token_command(args: argparse.Namespace) -> int:
    """Request a token with the given parameters; print ``token=...`` and the handoff URL."""
    base = args.base_url.rstrip("/") + "/quickstream"
    params = {
        "username": args.username,
        "password": args.password,
        "supplierBusinessCode": args.supplier_business_code,
        "connectionType": "QUICKWEB",
        "product": "QUICKWEB",
        "currencyCode": args.currency,
    }
    if args.amount:
        params["principalAmount"] = args.amount
    if args.reference:
        params["paymentReference"] = args.reference
    for pair in args.param:
        name, _, value = pair.partition("=")
        params[name] = value
    try:
        token = request_token(base, params)
    except TokenRefused as refused:
        print(f"HTTP {refused.status}: {refused.body}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cannot reach {base}: {error}", file=sys.stderr)
        return 2
    print(f"token={token}")
    print(f"handoff: {handoff_url(base, token, args.community_code)}")
    return 0


def cli(subparsers: Any) -> None:
    """Add ``mockbank quickstream-token``."""
    p = subparsers.add_parser(
        "quickstream-token",
        help="request a QuickStream security token and print a handoff URL to open",
    )
    p.add_argument("--base-url", default="http://127.0.0.1:8787")
    p.add_argument("--username", default="merchant")
    p.add_argument("--password", default="merchant-secret")
    p.add_argument("--supplier-business-code", default="SUPPLIER1")
    p.add_argument("--community-code", default="COMMUNITY1")
    p.add_argument("--currency", default="AUD", choices=CURRENCIES)
    p.add_argument("--amount", help="principalAmount, such as 100.00 (blank: the payer types it)")
    p.add_argument("--reference", help="paymentReference")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="any other parameter"
    )
    p.set_defaults(func=token_command)
