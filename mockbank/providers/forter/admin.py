"""Forter's fixtures, seed, state view, dashboard card, magic values and credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mockbank.fixtures import FixtureReader
from mockbank.masking import mask_pan
from mockbank.providers.forter.errors import ForterError
from mockbank.providers.forter.models.cards import (
    CARD_PLACEHOLDERS,
    FIXTURE_EPOCH,
    SANDBOX_CARDS,
    CardInput,
    parse_card_input,
)
from mockbank.providers.forter.models.signing import DEFAULT_HMAC_ENCODING, HMAC_ALGORITHMS
from mockbank.providers.forter.models.tokens import (
    SINGLE_USE_TTL_S,
    TOKEN_RE,
    save_token,
    token_record,
)
from mockbank.providers.forter.records import NS_ALIAS, NS_TOKEN, TokenRecord, TokenType, iso
from mockbank.providers.forter.settings import settings

if TYPE_CHECKING:
    from mockbank.state import State

PROXY_STATUSES = {
    "407": "proxy authentication failed (Proxy-Authenticate sent; on the CONNECT)",
    "502": "target unreachable, or not allowed by the outbound policy",
    "555": "token not found, expired, or single-use and already used",
    "556": "validation error: unknown placeholder, cvc without a CVC, bad HMAC headers",
    "565": "mockbank's own unexpected failure (with a correlation id)",
}


@dataclass(frozen=True)
class Site:
    """A merchant site's proxy and API credentials."""

    site_id: str
    secret: str


@dataclass(frozen=True)
class FixtureToken:
    """A token fixtures/forter.json seeds."""

    token: str
    type: TokenType
    card: CardInput


@dataclass(frozen=True)
class Fixtures:
    """fixtures/forter.json, validated."""

    sites: tuple[Site, ...]
    tokens: tuple[FixtureToken, ...]

    @property
    def credentials(self) -> list[tuple[str, str]]:
        """(site_id, site_secret) pairs, as `auth.verify_site` takes them."""
        return [(site.site_id, site.secret) for site in self.sites]


def fixtures(state: State) -> Fixtures:
    """This state's validated Forter fixtures."""
    found = state.fixtures["forter"]
    assert isinstance(found, Fixtures)
    return found


def load_fixtures(reader: FixtureReader) -> Fixtures:
    """Validate fixtures/forter.json: site credentials and seeded tokens."""
    sites: list[Site] = []
    for where, _ in reader.items("sites"):
        site_id = reader.get(f"{where}.site_id", str)
        secret = reader.get(f"{where}.site_secret", str)
        if not site_id or ":" in site_id:
            raise reader.fail(f"{where}.site_id", "must be non-empty and contain no ':'")
        if not secret:
            raise reader.fail(f"{where}.site_secret", "must not be empty")
        sites.append(Site(site_id, secret))
    if not sites:
        raise reader.fail("sites", "needs at least one site")
    tokens: list[FixtureToken] = []
    for where, entry in reader.items("tokens"):
        tokens.append(_fixture_token(reader, where, entry, {t.token for t in tokens}))
    return Fixtures(tuple(sites), tuple(tokens))


def _fixture_token(
    reader: FixtureReader, where: str, entry: dict[str, Any], seen: set[str]
) -> FixtureToken:
    token = reader.get(f"{where}.token", str)
    if not TOKEN_RE.match(token):
        raise reader.fail(f"{where}.token", "must be 'ftr1' + 32 lowercase hex characters")
    if token in seen:
        raise reader.fail(f"{where}.token", "appears twice")
    kind = reader.get(f"{where}.type", str, default="multi-use")
    if kind not in {t.value for t in TokenType}:
        raise reader.fail(f"{where}.type", "must be 'multi-use' or 'single-use'")
    fields = {k: v for k, v in entry.items() if k not in ("token", "type", "note")}
    try:
        card = parse_card_input(fields, single_use=kind == "single-use", now=FIXTURE_EPOCH)
    except ForterError as error:
        raise reader.fail(f"{where}.{error.field or 'card'}", error.detail) from None
    return FixtureToken(token, TokenType(kind), card)


def seed(state: State) -> None:
    """Write the fixture tokens and their aliases (single-use ones expire 24 h from now)."""
    now = state.now()
    ttl = settings(state).single_use_ttl_s
    for entry in fixtures(state).tokens:
        record = token_record(entry.card, kind=entry.type, now=now)
        single = entry.type is TokenType.SINGLE_USE
        expires = now + timedelta(seconds=ttl) if single else None
        save_token(state.store, entry.token, record, now=now, expires_at=expires, fixture=True)


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked: BIN and last four only, never a CVC) and aliases."""
    now = state.now()
    tokens = []
    for stored in state.store.records(NS_TOKEN):
        record = TokenRecord.from_value(stored.value)
        card = record.card
        status = "expired" if stored.expired(now) else ("used" if record.used else "active")
        tokens.append(
            {
                "token": stored.key,
                "type": str(record.type),
                "card": None if card is None else mask_pan(card.number),
                "expiration": None if card is None else f"{card.exp_month:02d}/{card.exp_year}",
                "cardHolderName": None if card is None else card.holder,
                "hasCvc": record.cvc is not None,
                "alias": None if record.alias is None else record.alias.to_value(),
                "extraFields": sorted(record.extra),
                "status": status,
                "upgradedTo": record.upgraded_to,
                "expiresAt": iso(stored.expires_at) if stored.expires_at else None,
            }
        )
    aliases = [
        {"key": r.key.split("\n", 1)[0], "value": r.key.split("\n", 1)[1], **r.value}
        for r in state.store.records(NS_ALIAS)
    ]
    return {"tokens": tokens, "aliases": aliases}


def dashboard(state: State) -> list[dict[str, str]]:
    """The newest tokens and their states for the dashboard card (masked)."""
    tokens = state_view(state)["tokens"]
    items = []
    for token in reversed(tokens[-12:]):
        card = token["card"] or "CVC only"
        detail = f"{token['type']} · {card} · {token['status']}"
        if token["alias"]:
            detail += f" · alias {token['alias']['key']}={token['alias']['value']}"
        items.append({"label": token["token"], "detail": detail})
    return items


def magic_values() -> dict[str, Any]:
    """Sandbox cards, placeholders, the proxy's own statuses and HMAC algorithms."""
    return {
        "sandbox_cards": [
            {
                "number": c["number"],
                "brand": c["brand"],
                "network_token": bool(c.get("network_token")),
            }
            for c in SANDBOX_CARDS
        ],
        "placeholders": [*CARD_PLACEHOLDERS, "<any extra field key>"],
        "proxy_statuses": dict(PROXY_STATUSES),
        "hmac_algorithms": list(HMAC_ALGORITHMS),
        "hmac_encoding": DEFAULT_HMAC_ENCODING,
        "single_use_ttl_s": SINGLE_USE_TTL_S,
    }


def credentials(found: Fixtures | None) -> list[tuple[str, str]]:
    """Site credentials and the seeded tokens, for the banner and dashboard."""
    if not found:
        return []
    lines = [("site_id:site_secret", f"{s.site_id}:{s.secret}") for s in found.sites]
    for entry in found.tokens:
        card = entry.card
        if card.number is None:
            lines.append((f"{entry.type} CVC token", entry.token))
            continue
        label = f"{entry.type} token {mask_pan(card.number)}"
        if card.alias:
            label += f" (alias {card.alias.key}={card.alias.value})"
        lines.append((label, entry.token))
    return lines
