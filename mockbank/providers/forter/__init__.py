"""Forter: the tokenization API and the Detokenization Proxy (seed 003, DESIGN §2 and §3)."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockbank.fixtures import FixtureReader
from mockbank.masking import mask_pan
from mockbank.providers import Provider
from mockbank.providers.forter import models
from mockbank.providers.forter.errors import ForterError, render
from mockbank.providers.forter.proxy import services
from mockbank.providers.forter.routes import bp
from mockbank.providers.forter.settings import read_settings, settings

if TYPE_CHECKING:
    from mockbank.state import State

HOSTS = ("pci-tokenization-sandbox.checkouttools.com", "pci.checkouttools.com")


def load_fixtures(reader: FixtureReader) -> dict[str, Any]:
    """Validate fixtures/forter.json: site credentials and seeded tokens."""
    sites: list[tuple[str, str]] = []
    for where, _ in reader.items("sites"):
        site_id = reader.get(f"{where}.site_id", str)
        secret = reader.get(f"{where}.site_secret", str)
        if not site_id or ":" in site_id:
            raise reader.fail(f"{where}.site_id", "must be non-empty and contain no ':'")
        if not secret:
            raise reader.fail(f"{where}.site_secret", "must not be empty")
        sites.append((site_id, secret))
    if not sites:
        raise reader.fail("sites", "needs at least one site")
    tokens: list[dict[str, Any]] = []
    seen: set[str] = set()
    for where, entry in reader.items("tokens"):
        token = reader.get(f"{where}.token", str)
        if not models.TOKEN_RE.match(token):
            raise reader.fail(f"{where}.token", "must be 'ftr1' + 32 lowercase hex characters")
        if token in seen:
            raise reader.fail(f"{where}.token", "appears twice")
        seen.add(token)
        kind = reader.get(f"{where}.type", str, default="multi-use")
        if kind not in {t.value for t in models.TokenType}:
            raise reader.fail(f"{where}.type", "must be 'multi-use' or 'single-use'")
        fields = {k: v for k, v in entry.items() if k not in ("token", "type", "note")}
        try:
            card = models.parse_card_input(
                fields, single_use=kind == "single-use", now=models.FIXTURE_EPOCH
            )
        except ForterError as error:
            raise reader.fail(f"{where}.{error.field or 'card'}", error.detail) from None
        tokens.append({"token": token, "type": kind, "card": card})
    return {"sites": sites, "tokens": tokens}


def seed(state: State) -> None:
    """Write the fixture tokens and their aliases (single-use ones expire 24 h from now)."""
    now = state.now()
    ttl = settings(state).single_use_ttl_s
    for entry in state.fixtures["forter"]["tokens"]:
        kind = models.TokenType(entry["type"])
        card: models.CardInput = entry["card"]
        network = models.network_token_for(card.number) if card.number else None
        record = models.token_record(card, kind=kind, now=now, network_token=network)
        expires = now + timedelta(seconds=ttl) if kind is models.TokenType.SINGLE_USE else None
        models.save_token(
            state.store, entry["token"], record, now=now, expires_at=expires, fixture=True
        )


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked: BIN and last four only, never a CVC) and aliases."""
    now = state.now()
    tokens = []
    for record in state.store.records(models.TOKENS):
        value = record.value
        card = value.get("card")
        tokens.append(
            {
                "token": record.key,
                "type": value["type"],
                "card": None if card is None else mask_pan(card["number"]),
                "expiration": None
                if card is None
                else f"{card['expirationMonth']:02d}/{card['expirationYear']}",
                "cardHolderName": None if card is None else card["cardHolderName"],
                "hasCvc": value.get("cvc") is not None,
                "alias": value.get("alias"),
                "extraFields": sorted(value.get("extra") or {}),
                "status": "expired"
                if record.expired(now)
                else ("used" if value.get("used") else "active"),
                "upgradedTo": value.get("upgradedTo"),
                "expiresAt": record.expires_at.isoformat().replace("+00:00", "Z")
                if record.expires_at
                else None,
            }
        )
    aliases = [
        {"key": r.key.split("\n", 1)[0], "value": r.key.split("\n", 1)[1], **r.value}
        for r in state.store.records(models.ALIASES)
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
            for c in models.SANDBOX_CARDS
        ],
        "placeholders": [*models.CARD_PLACEHOLDERS, "<any extra field key>"],
        "proxy_statuses": {
            "407": "proxy authentication failed (Proxy-Authenticate sent; on the CONNECT)",
            "502": "target unreachable, or not allowed by the outbound policy",
            "555": "token not found, expired, or single-use and already used",
            "556": "validation error: unknown placeholder, cvc without a CVC, bad HMAC headers",
            "565": "mockbank's own unexpected failure (with a correlation id)",
        },
        "hmac_algorithms": list(models.HMAC_ALGORITHMS),
        "hmac_encoding": models.DEFAULT_HMAC_ENCODING,
        "single_use_ttl_s": models.SINGLE_USE_TTL_S,
    }


def credentials(fixtures: Any) -> list[tuple[str, str]]:
    """Site credentials and the seeded tokens, for the banner and dashboard."""
    if not fixtures:
        return []
    lines = [("site_id:site_secret", f"{s}:{p}") for s, p in fixtures["sites"]]
    for entry in fixtures["tokens"]:
        card: models.CardInput = entry["card"]
        if card.number is None:
            lines.append((f"{entry['type']} CVC token", entry["token"]))
            continue
        label = f"{entry['type']} token {mask_pan(card.number)}"
        if card.alias:
            label += f" (alias {card.alias['key']}={card.alias['value']})"
        lines.append((label, entry["token"]))
    return lines


def _ca_command(args: argparse.Namespace) -> int:
    from mockbank.config import Config, from_environment
    from mockbank.proxy.ca import LocalCA

    config = Config.from_mapping(from_environment())
    base: Path = args.ca_state or config.state_dir
    ca = LocalCA.load_or_create(Path(base) / "ca")
    print(ca.pem if args.pem else ca.cert_path, end="" if args.pem else "\n")
    return 0


def cli(subparsers: Any) -> None:
    """``mockbank ca [--pem]``: where the proxy CA is (creating it), or its PEM."""
    parser = subparsers.add_parser(
        "ca", help="print the Forter proxy CA certificate's path (or --pem its PEM text)"
    )
    parser.add_argument("--pem", action="store_true", help="print the PEM instead of the path")
    parser.add_argument(
        "--state",
        dest="ca_state",
        type=Path,
        default=None,
        help="state directory holding ca/ (default: MOCKBANK_STATE, else the user data dir)",
    )
    parser.set_defaults(func=_ca_command)


provider = Provider(
    name="forter",
    title="Forter",
    blueprint=bp,
    render_error=render,
    read_settings=read_settings,
    hosts=HOSTS,
    load_fixtures=load_fixtures,
    seed=seed,
    state_view=state_view,
    magic_values=magic_values,
    credentials=credentials,
    cli=cli,
    services=services,
    dashboard=dashboard,
)
