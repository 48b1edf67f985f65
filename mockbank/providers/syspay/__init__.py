"""SysPay: X-Wsse authentication, merchant card tokens, partner detokenization (seed 001)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mockbank.clients.syspay import wsse_header
from mockbank.providers import Provider
from mockbank.providers.syspay import errors, models, validation
from mockbank.providers.syspay.routes import HOSTS, bp
from mockbank.providers.syspay.settings import read_settings

if TYPE_CHECKING:
    from mockbank.state import State


def seed(state: State) -> None:
    """Write the fixture tokens (token 1000001) into the store."""
    models.seed(state.store, state.fixtures["syspay"], now=state.now())


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked), detokenization URLs with who viewed them, live nonces."""
    return models.state_view(state.store, now=state.now())


def magic_values() -> dict[str, Any]:
    """SysPay has no magic card numbers; its test table is the auth rules and error codes."""
    return {
        "seed_example": {
            "header": wsse_header(
                "myPartnerLogin", "myPartnerPassphrase", nonce="my random nonce", created=1400000000
            ),
            "freeze_clock_at": "2014-05-13T16:53:20Z",
        },
        "created_window_s": models.DEFAULT_WINDOW_S,
        "redirect_ttl_s": models.DEFAULT_REDIRECT_TTL_S,
        "types": [str(t) for t in models.ALL_TYPES],
        "errors": errors.error_table(),
    }


def credentials(fixtures: models.SysPayFixtures | None) -> list[tuple[str, str]]:
    """Seeded logins and tokens for the dashboard and the CLI banner."""
    if fixtures is None:
        return []
    lines = [
        (f"partner ({', '.join(p.types)})", f"{p.login} / {p.passphrase}")
        for p in fixtures.partners.values()
    ]
    lines += [("merchant", f"{m.login} / {m.passphrase}") for m in fixtures.merchants.values()]
    lines += [
        (
            f"token {t.id}",
            f"{t.card.display} {t.card.expiry} {t.card.cardholder}; detokenizers "
            + ", ".join(d.login for d in t.detokenizers),
        )
        for t in fixtures.tokens
    ]
    return lines


def _header_command(args: argparse.Namespace) -> int:
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
    parser.set_defaults(func=_header_command)


provider = Provider(
    name="syspay",
    title="SysPay",
    blueprint=bp,
    render_error=errors.render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=validation.load_fixtures,
    seed=seed,
    state_view=state_view,
    magic_values=magic_values,
    credentials=credentials,
    cli=cli,
)
