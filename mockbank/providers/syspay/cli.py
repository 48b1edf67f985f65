"""SysPay's ``mockbank`` commands: ``syspay-header`` prints a fresh X-Wsse header for curl."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mockbank.clients.syspay import wsse_header


def header_command(args: argparse.Namespace) -> int:
    """Print ``X-Wsse: AuthToken …`` for the login (2 for an incomplete acting partner)."""
    acting = None
    if args.partner_login is not None or args.partner_passphrase is not None:
        if not (args.merchant and args.partner_login and args.partner_passphrase):
            print(
                "syspay-header: --partner-login and --partner-passphrase go together, "
                "with --merchant (a partner acting for a merchant)",
                file=sys.stderr,
            )
            return 2
        acting = (args.partner_login, args.partner_passphrase)
    value = wsse_header(
        args.login,
        args.passphrase,
        partner=not args.merchant,
        nonce=args.nonce,
        created=args.created,
        acting_partner=acting,
    )
    print(f"X-Wsse: {value}")
    return 0


def cli(subparsers: Any) -> None:
    """``mockbank syspay-header --login L --passphrase P [--merchant]``."""
    parser = subparsers.add_parser(
        "syspay-header",
        help="print a fresh SysPay X-Wsse header line (for curl -H)",
        description="Print 'X-Wsse: AuthToken …' with a new nonce and the current time.",
    )
    parser.add_argument("--login", required=True, help="partner (or merchant) API login")
    parser.add_argument("--passphrase", required=True, help="the login's shared passphrase")
    parser.add_argument(
        "--merchant", action="store_true", help="use MerchantAPILogin instead of PartnerAPILogin"
    )
    parser.add_argument(
        "--partner-login",
        help="with --merchant: a partner acting for the merchant (PartnerLogin/PartnerDigest)",
    )
    parser.add_argument("--partner-passphrase", help="that partner's passphrase")
    # Fixed inputs reproduce a documented header, e.g. the seed's "my random nonce" example.
    parser.add_argument("--nonce", help="raw nonce text (default: 16 random bytes)")
    parser.add_argument(
        "--created", type=int, help="unix timestamp for Created (default: now, wall clock)"
    )
    parser.set_defaults(func=header_command)
