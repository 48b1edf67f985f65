"""Token.io TokenOS: members, token requests, consent pages, smart tokens, transfers, AIS.

Wire-compatible with the JavaScript SDK ``@token-io/tpp@1.0.57`` pointed at
``customSdkUrl: "http://127.0.0.1:8787/tokenos"``; see ``docs/providers/tokenos.md``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mockbank.fixtures import FixtureReader
from mockbank.providers import Provider
from mockbank.providers.tokenos import events, models
from mockbank.providers.tokenos.errors import render
from mockbank.providers.tokenos.models import payment_flow, payments_query
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.settings import read_settings
from mockbank.state import State

HOSTS = (
    "api.token.io",
    "api.sandbox.token.io",
    "web-app.token.io",
    "web-app.sandbox.token.io",
    "app.token.io",  # Hosted Pages v2: https://app.token.io/session/<paymentId>
    "app.sandbox.token.io",
)


def seed(state: State) -> None:
    """The Token member, fixture members, payers, their accounts and histories."""
    fixtures: models.Fixtures = state.fixtures["tokenos"]
    store, now = state.store, state.now()
    # Alias hashes leave out the realm (the SDK's hashAndSerializeAlias clears it).
    token_alias = {k: v for k, v in fixtures.token_alias.items() if k != "realm"}
    models.seed_member(
        store,
        fixtures.token_member_id,
        "BUSINESS",
        models.seeded_keys(fixtures.token_key_seed),
        [token_alias],
        {"displayNameFirst": "Token"},
        now=now,
    )
    for member in fixtures.members:
        alias = models.normalize_alias(member.alias["type"], member.alias["value"])
        models.seed_member(
            store,
            member.member_id,
            member.type,
            models.seeded_keys(member.key_seed),
            [alias],
            member.profile,
            now=now,
        )
    for payer in fixtures.payers:
        alias = models.normalize_alias("EMAIL", payer.email)
        models.seed_member(
            store,
            payer.member_id,
            "PERSONAL",
            models.seeded_keys(payer.key_seed),
            [alias],
            {"displayNameFirst": payer.name},
            now=now,
        )
    models.seed_accounts(store, fixtures, seed=state.config.seed, now=now)


def state_view(state: State) -> dict[str, Any]:
    """Token requests, tokens and transfers with their current status."""
    store, now = state.store, state.now()
    requests = []
    for record in store.records(models.NS_REQUEST):
        result = store.get(models.NS_RESULT, record.key, now=now) or {}
        status = result.get("status") or ("EXPIRED" if record.expired(now) else "PENDING")
        requests.append(
            {
                "id": record.key,
                "kind": record.value["kind"],
                "status": status,
                "memberId": record.value["memberId"],
            }
        )
    tokens = []
    for record in store.records(models.NS_TOKEN):
        value = record.value
        status = (
            "CANCELLED"
            if models.is_cancelled(value)
            else "EXPIRED"
            if models.is_expired(value, now)
            else "ENDORSED"
        )
        entry: dict[str, Any] = {
            "id": record.key,
            "type": value["type"],
            "status": status,
            "to": value["toMemberId"],
            "from": value["fromMemberId"],
        }
        if value["type"] == "TRANSFER":
            entry["lifetimeAmount"] = value["token"]["payload"]["transfer"]["lifetimeAmount"]
            entry["transfers"] = [t["id"] for t in value["transfers"]]
        tokens.append(entry)
    transfers = [
        {
            "id": r.key,
            "tokenId": r.value["tokenId"],
            "amount": r.value["transfer"]["payload"]["amount"],
            "status": models.transfer_status(r.value, now).value,
        }
        for r in store.records(models.NS_TRANSFER)
    ]
    members = [
        {
            "id": r.key,
            "type": r.value["type"],
            "aliases": [a["alias"]["value"] for a in r.value["aliases"]],
        }
        for r in store.records(models.NS_MEMBER)
    ]
    return {
        "members": members,
        "tokenRequests": requests,
        "tokens": tokens,
        "transfers": transfers,
        **payments_query.state_summary(store),
    }


def credentials(fixtures: models.Fixtures | None) -> list[tuple[str, str]]:
    """What the dashboard and banner show."""
    if fixtures is None:
        return []
    lines = [("JS SDK", 'new TokenClient({customSdkUrl: "<base>/tokenos", developerKey: "any"})')]
    for key, name in fixtures.api_keys.items():
        member = fixtures.member_by_name(name)
        member_id = member.member_id if member else name
        lines.append(("REST sandbox API key (HTTP Basic memberId:apiKey)", f"{member_id}:{key}"))
    for payer in fixtures.payers:
        lines.append(("payer", f"{payer.email} ({len(payer.accounts)} accounts)"))
    lines.append(
        ("model banks", ", ".join(f"{b.id} ({b.currency})" for b in fixtures.banks.values()))
    )
    return lines


def _print_fixtures(args: argparse.Namespace) -> int:
    from mockbank.config import Config
    from mockbank.fixtures import default_dir, load_json

    config = Config()
    directory = args.fixtures or config.fixtures_dir or default_dir()
    path, data = load_json(directory, "tokenos")
    fixtures = models.load_fixtures(FixtureReader(path, data))
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


provider = Provider(
    name="tokenos",
    title="Token.io TokenOS",
    blueprint=bp,
    render_error=render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=models.load_fixtures,
    seed=seed,
    state_view=state_view,
    magic_values=lambda: {**models.magic_values(), "payments_v2": payment_flow.magic_table()},
    credentials=credentials,
    cli=cli,
    outbound_endpoints=(events.FAULT_ENDPOINT,),
)
