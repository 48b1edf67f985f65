"""``mockbank tokenos-fixtures``: seeded member ids, model banks and payer accounts."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mockbank.fixtures import FixtureReader


def _print_fixtures(args: argparse.Namespace) -> int:
    from mockbank.config import Config
    from mockbank.fixtures import default_dir, load_json
    from mockbank.providers.tokenos.admin import load_fixtures  # not on `serve`'s path

    config = Config()
    directory = args.fixtures or config.fixtures_dir or default_dir()
    path, data = load_json(directory, "tokenos")
    fixtures = load_fixtures(FixtureReader(path, data))
    out = {
        "tokenMember": fixtures.token_member_id,
        "members": {m.name: m.member_id for m in fixtures.members},
        "apiKeys": list(fixtures.api_keys),
        "banks": [b.to_proto() for b in fixtures.banks.values()],
        "payers": [
            {
                "email": p.email,
                "memberId": p.member_id,
                "accounts": [
                    {"id": a.id, "bank": a.bank_id, "balance": str(a.balance)} for a in p.accounts
                ],
            }
            for p in fixtures.payers
        ],
    }
    print(json.dumps(out, indent=2))
    return 0


def cli(subparsers: Any) -> None:
    """``mockbank tokenos-fixtures``: seeded member ids, banks and payer accounts."""
    parser = subparsers.add_parser(
        "tokenos-fixtures", help="print TokenOS seeded member ids, model banks and payer accounts"
    )
    parser.add_argument("--fixtures", default=None, help="fixture directory to read")
    parser.set_defaults(func=_print_fixtures)
