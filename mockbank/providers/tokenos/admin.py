"""Token.io operator side: fixtures, seed, state view, dashboard card, magic values, banner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockbank.fixtures import FixtureReader
from mockbank.providers.tokenos.models import accounts as accounts_rules
from mockbank.providers.tokenos.models import fixtures as fixtures_rules
from mockbank.providers.tokenos.models import members as members_rules
from mockbank.providers.tokenos.models import payment_flow, payments_query, tokens
from mockbank.providers.tokenos.models.common import (
    AMOUNT,
    CURRENCY,
    FEATURES,
)
from mockbank.providers.tokenos.models.fixtures import (
    Bank,
    Fixtures,
    Payer,
    PayerAccount,
    SeedMember,
)
from mockbank.providers.tokenos.records.members import NS_MEMBER, Member
from mockbank.providers.tokenos.records.token_requests import (
    NS_REQUEST,
    NS_RESULT,
    RequestResult,
    TokenRequest,
)
from mockbank.providers.tokenos.records.tokens import NS_TOKEN, NS_TRANSFER, StoredToken, Transfer
from mockbank.state import State


def _load_banks(reader: FixtureReader) -> dict[str, Bank]:
    banks: dict[str, Bank] = {}
    for where, _ in reader.items("banks"):
        bank_id = reader.get(f"{where}.id", str)
        if bank_id in banks:
            raise reader.fail(f"{where}.id", f"duplicate bank id {bank_id!r}")
        currency = reader.get(f"{where}.currency", str)
        if not CURRENCY.match(currency):
            raise reader.fail(f"{where}.currency", "must be a 3-letter ISO 4217 code")
        features = {
            camel: reader.get(f"{where}.{camel}", bool, default=False)
            for camel in FEATURES.values()
        }
        banks[bank_id] = Bank(
            id=bank_id,
            name=reader.get(f"{where}.name", str),
            country=reader.get(f"{where}.country", str),
            currency=currency,
            provider=reader.get(f"{where}.provider", str, default="Token"),
            identifier=reader.get(f"{where}.identifier", str, default=bank_id.upper()),
            features=features,
        )
    return banks


def _load_members(reader: FixtureReader) -> tuple[SeedMember, ...]:
    return tuple(
        SeedMember(
            name=reader.get(f"{where}.name", str),
            type=reader.get(f"{where}.type", str, default="BUSINESS"),
            alias=reader.get(f"{where}.alias", dict),
            profile=reader.get(f"{where}.profile", dict, default={}),
            key_seed=reader.get(f"{where}.keySeed", str),
        )
        for where, _ in reader.items("members")
    )


def _load_api_keys(reader: FixtureReader, members: tuple[SeedMember, ...]) -> dict[str, str]:
    api_keys: dict[str, str] = {}
    for where, _ in reader.items("apiKeys"):
        member = reader.get(f"{where}.member", str)
        if not any(m.name == member for m in members):
            raise reader.fail(f"{where}.member", f"no member named {member!r} in members")
        api_keys[reader.get(f"{where}.key", str)] = member
    return api_keys


def _load_account(
    reader: FixtureReader, where: str, banks: dict[str, Bank], account_ids: set[str]
) -> PayerAccount:
    account_id = reader.get(f"{where}.id", str)
    bank_id = reader.get(f"{where}.bank", str)
    if bank_id not in banks:
        raise reader.fail(f"{where}.bank", f"unknown bank {bank_id!r}")
    if account_id in account_ids:
        raise reader.fail(f"{where}.id", f"duplicate account id {account_id!r}")
    account_ids.add(account_id)
    balance = reader.get(f"{where}.balance", str)
    if not AMOUNT.match(balance):
        raise reader.fail(f"{where}.balance", "must be a decimal amount string")
    return PayerAccount(
        id=account_id,
        bank_id=bank_id,
        name=reader.get(f"{where}.name", str),
        number=reader.get(f"{where}.number", str),
        balance=Decimal(balance),
    )


def _load_payers(reader: FixtureReader, banks: dict[str, Bank]) -> tuple[Payer, ...]:
    payers = []
    account_ids: set[str] = set()  # unique across payers
    for where, _ in reader.items("payers"):
        accounts = tuple(
            _load_account(reader, account_where, banks, account_ids)
            for account_where, _ in reader.items(f"{where}.accounts")
        )
        payers.append(
            Payer(
                email=reader.get(f"{where}.email", str),
                name=reader.get(f"{where}.name", str),
                key_seed=reader.get(f"{where}.keySeed", str),
                accounts=accounts,
            )
        )
    return tuple(payers)


def load_fixtures(reader: FixtureReader) -> Fixtures:
    """Validate ``fixtures/tokenos.json``; every error names the file and the field."""
    alias = reader.get("tokenMember.alias", dict)
    token_seed = reader.get("tokenMember.keySeed", str)
    banks = _load_banks(reader)
    members = _load_members(reader)
    api_keys = _load_api_keys(reader, members)
    payers = _load_payers(reader, banks)
    count = reader.get("transactionsPerAccount", int, default=30)
    if not 0 <= count <= 1000:
        raise reader.fail("transactionsPerAccount", "must be between 0 and 1000")
    return Fixtures(
        token_alias=alias,
        token_key_seed=token_seed,
        api_keys=api_keys,
        members=members,
        banks=banks,
        payers=payers,
        transactions_per_account=count,
    )


def seed(state: State) -> None:
    """The Token member, fixture members, payers, their accounts and histories."""
    fixtures: fixtures_rules.Fixtures = state.fixtures["tokenos"]
    store, now = state.store, state.now()
    # Alias hashes leave out the realm (the SDK's hashAndSerializeAlias clears it).
    token_alias = {k: v for k, v in fixtures.token_alias.items() if k != "realm"}
    members_rules.seed_member(
        store,
        fixtures.token_member_id,
        "BUSINESS",
        fixtures_rules.seeded_keys(fixtures.token_key_seed),
        [token_alias],
        {"displayNameFirst": "Token"},
        now=now,
    )
    for member in fixtures.members:
        alias = members_rules.normalize_alias(member.alias["type"], member.alias["value"])
        members_rules.seed_member(
            store,
            member.member_id,
            member.type,
            fixtures_rules.seeded_keys(member.key_seed),
            [alias],
            member.profile,
            now=now,
        )
    for payer in fixtures.payers:
        alias = members_rules.normalize_alias("EMAIL", payer.email)
        members_rules.seed_member(
            store,
            payer.member_id,
            "PERSONAL",
            fixtures_rules.seeded_keys(payer.key_seed),
            [alias],
            {"displayNameFirst": payer.name},
            now=now,
        )
    accounts_rules.seed_accounts(store, fixtures, seed=state.config.seed, now=now)


def _request_views(state: State) -> list[dict[str, Any]]:
    store, now = state.store, state.now()
    views = []
    for record in store.records(NS_REQUEST):
        request = TokenRequest.from_value(record.value)
        found = store.get(NS_RESULT, record.key, now=now)
        result = RequestResult.from_value(found) if found is not None else None
        status = result.status if result else ("EXPIRED" if record.expired(now) else "PENDING")
        views.append(
            {
                "id": record.key,
                "kind": request.kind,
                "status": status,
                "memberId": request.member_id,
            }
        )
    return views


def _token_views(state: State) -> list[dict[str, Any]]:
    now = state.now()
    views = []
    for record in state.store.records(NS_TOKEN):
        token = StoredToken.from_value(record.value)
        status = (
            "CANCELLED"
            if tokens.is_cancelled(token)
            else "EXPIRED"
            if tokens.is_expired(token, now)
            else "ENDORSED"
        )
        entry: dict[str, Any] = {
            "id": record.key,
            "type": token.type,
            "status": status,
            "to": token.to_member_id,
            "from": token.from_member_id,
        }
        if token.type == "TRANSFER":
            entry["lifetimeAmount"] = token.token["payload"]["transfer"]["lifetimeAmount"]
            entry["transfers"] = [t.id for t in token.transfers]
        views.append(entry)
    return views


def state_view(state: State) -> dict[str, Any]:
    """Token requests, tokens and transfers with their current status."""
    store, now = state.store, state.now()
    transfers = []
    for record in store.records(NS_TRANSFER):
        transfer = Transfer.from_value(record.value)
        transfers.append(
            {
                "id": record.key,
                "tokenId": transfer.token_id,
                "amount": transfer.transfer["payload"]["amount"],
                "status": tokens.transfer_status(transfer, now).value,
            }
        )
    members = []
    for record in store.records(NS_MEMBER):
        member = Member.from_value(record.value)
        aliases = [a["alias"]["value"] for a in member.aliases]
        members.append({"id": record.key, "type": member.type, "aliases": aliases})
    return {
        "members": members,
        "tokenRequests": _request_views(state),
        "tokens": _token_views(state),
        "transfers": transfers,
        **payments_query.state_summary(store),
    }


def credentials(fixtures: fixtures_rules.Fixtures | None) -> list[tuple[str, str]]:
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


def dashboard(state: State) -> list[dict[str, str]]:
    """The dashboard card: members, token requests still waiting for consent, newest tokens."""
    view = state_view(state)
    items = []
    for member in view["members"]:
        aliases = ", ".join(member["aliases"]) or "no alias"
        items.append({"label": member["id"], "detail": f"member · {member['type']} · {aliases}"})
    for request in view["tokenRequests"]:
        if request["status"] == "PENDING":
            detail = f"token request · {request['kind']} · waiting for consent"
            items.append({"label": request["id"], "detail": detail})
    for token in reversed(view["tokens"][-12:]):
        detail = f"token · {token['type']} · {token['status']} · from {token['from']}"
        items.append({"label": token["id"], "detail": detail})
    return items


def magic_values() -> dict[str, Any]:
    """Magic amounts and names of the v1 flows, and the v2 payments' magic table."""
    return {**tokens.magic_values(), "payments_v2": payment_flow.magic_table()}
