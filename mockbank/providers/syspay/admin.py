"""SysPay for the operator: fixtures, seeding, the state view, the dashboard card, test values.

Nothing here answers SysPay's API; the control API, the dashboard and the CLI banner read it.
Every one-time URL id is a bearer secret while pending, so only its first characters appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mockbank.clients.syspay import wsse_header
from mockbank.fixtures import FixtureReader
from mockbank.providers.syspay import errors, models
from mockbank.providers.syspay.models import Merchant, Partner, SysPayFixtures
from mockbank.providers.syspay.records import (
    ALL_TYPES,
    NS_NONCE,
    NS_REDIRECT,
    NS_TOKEN,
    DetokenizeType,
    Redirect,
    Token,
    is_type,
)
from mockbank.providers.syspay.validation import (
    MAX_TEXT,
    Problems,
    parse_card,
    parse_detokenizers,
)
from mockbank.store import Record

if TYPE_CHECKING:
    from mockbank.state import State

DASHBOARD_TOKENS = 5
DASHBOARD_REDIRECTS = 5


def fixtures_of(state: State) -> SysPayFixtures:
    """This app's validated fixtures/syspay.json."""
    found = state.fixtures["syspay"]
    assert isinstance(found, SysPayFixtures)
    return found


# -- fixtures -------------------------------------------------------------------------------------
def _types(reader: FixtureReader, where: str, node: Any) -> tuple[DetokenizeType, ...]:
    values = reader.get("types", list, node=node, default=[str(t) for t in ALL_TYPES])
    if not values or not all(is_type(v) for v in values):
        raise reader.fail(f"{where}.types", "must be a non-empty list of TEXT and/or IMAGE")
    return tuple(DetokenizeType(v) for v in values)


def _partners(reader: FixtureReader) -> dict[str, Partner]:
    partners: dict[str, Partner] = {}
    for where, node in reader.items("partners"):
        login = reader.get("login", str, node=node)
        if not login or login in partners:
            raise reader.fail(f"{where}.login", "must be a unique, non-empty login")
        partners[login] = Partner(
            login, reader.get("passphrase", str, node=node), _types(reader, where, node)
        )
    return partners


def _merchant(
    reader: FixtureReader,
    where: str,
    node: Any,
    known: Mapping[str, Partner],
    taken: Iterable[str],
) -> Merchant:
    login = reader.get("login", str, node=node)
    if not login or login in taken:
        raise reader.fail(f"{where}.login", "must be a unique, non-empty login")
    partners = reader.get("partners", list, node=node, default=[])
    for index, partner in enumerate(partners):
        if partner not in known:
            raise reader.fail(f"{where}.partners.{index}", f"unknown partner {partner!r}")
    references = reader.get("company_references", dict, node=node, default={})
    for partner, reference in references.items():
        if partner not in known:
            raise reader.fail(f"{where}.company_references", f"unknown partner {partner!r}")
        if not isinstance(reference, str) or not reference.strip() or len(reference) > MAX_TEXT:
            raise reader.fail(
                f"{where}.company_references.{partner}",
                f"must be a non-blank string of at most {MAX_TEXT} characters",
            )
    return Merchant(
        login,
        reader.get("passphrase", str, node=node),
        tuple(partners),
        tuple(sorted(references.items())),
    )


def _token(reader: FixtureReader, where: str, node: Any, loaded: SysPayFixtures) -> Token:
    token_id = reader.get("id", str, node=node)
    merchant_login = reader.get("merchant", str, node=node)
    if merchant_login not in loaded.merchants:
        raise reader.fail(f"{where}.merchant", f"unknown merchant {merchant_login!r}")
    problems = Problems()
    card = parse_card(problems, reader.get("creditcard", dict, node=node), where="")
    detokenizers = parse_detokenizers(
        problems, reader.get("detokenizers", list, node=node), loaded.partners
    )
    if problems.items:
        name, message, _ = problems.items[0]
        field_name = f"{where}.creditcard.{name}" if card is None else f"{where}.{name}"
        raise reader.fail(field_name, message)
    assert card is not None
    created = reader.get("created", int, node=node, default=0)
    return Token(token_id, merchant_login, card, detokenizers, created)


def load_fixtures(reader: FixtureReader) -> SysPayFixtures:
    """Validate fixtures/syspay.json; every error names the file and the field."""
    partners = _partners(reader)
    merchants: dict[str, Merchant] = {}
    for where, node in reader.items("merchants"):
        merchant = _merchant(reader, where, node, partners, merchants)
        merchants[merchant.login] = merchant
    loaded = SysPayFixtures(partners, merchants)
    tokens = tuple(_token(reader, where, node, loaded) for where, node in reader.items("tokens"))
    return SysPayFixtures(partners, merchants, tokens)


# -- seed and views -------------------------------------------------------------------------------
def seed(state: State) -> None:
    """Write the fixture tokens (token 1000001) into the store."""
    models.seed_tokens(state.store, fixtures_of(state), now=state.now())


def _iso(moment: datetime | None) -> str:
    return "?" if moment is None else moment.isoformat().replace("+00:00", "Z")


def _short_id(redirect_id: str) -> str:
    # The id is a bearer secret while pending: show only its start.
    return redirect_id[:8] + "…"


def _redirect_view(record: Record, now: datetime) -> dict[str, Any]:
    redirect = Redirect.from_value(record.value)
    return {
        "id": _short_id(redirect.id),
        "token_id": redirect.token_id,
        "partner": redirect.partner,
        "requested_by": str(redirect.requested_by),
        "type": str(redirect.type),
        "viewer": redirect.viewer,
        "company_reference": redirect.company_reference,
        "requested_at": _iso(record.created_at),
        "expires_at": _iso(record.expires_at),
        "status": str(models.redirect_status(record, now)),
        "viewed_at": _iso(record.used_at) if record.used_at else None,
    }


def _tokens(state: State) -> list[Token]:
    records = sorted(state.store.records(NS_TOKEN), key=lambda r: (len(r.key), r.key))
    return [Token.from_value(r.value) for r in records]


def state_view(state: State) -> dict[str, Any]:
    """Tokens (masked), detokenization URLs with who viewed them, live nonces."""
    now = state.now()
    nonces = [r for r in state.store.records(NS_NONCE) if not r.expired(now)]
    return {
        "tokens": [{**t.public(), "merchant": t.merchant} for t in _tokens(state)],
        "redirects": [_redirect_view(r, now) for r in state.store.records(NS_REDIRECT)],
        "live_nonces": len(nonces),
    }


def dashboard(state: State) -> list[dict[str, str]]:
    """The newest one-time URLs (id start, status, expiry) and tokens (masked), for the card."""
    now = state.now()
    items: list[dict[str, str]] = []
    for record in reversed(state.store.records(NS_REDIRECT)[-DASHBOARD_REDIRECTS:]):
        redirect = Redirect.from_value(record.value)
        status = models.redirect_status(record, now)
        when = (
            f"viewed {models.readable_time(record.used_at)}"
            if record.used_at
            else f"expires {models.readable_time(record.expires_at)}"
        )
        items.append(
            {
                "label": f"URL {_short_id(redirect.id)} {status}",
                "detail": (
                    f"token {redirect.token_id} · {redirect.type} for {redirect.viewer} · "
                    f"{redirect.requested_by} {redirect.partner} · {when}"
                ),
            }
        )
    for token in reversed(_tokens(state)[-DASHBOARD_TOKENS:]):
        card = token.card
        items.append(
            {
                "label": f"token {token.id}",
                "detail": (
                    f"{card.scheme} {card.display} {card.expiry} · merchant {token.merchant} · "
                    + "detokenizers "
                    + ", ".join(d.login for d in token.detokenizers)
                ),
            }
        )
    return items


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
        "types": [str(t) for t in ALL_TYPES],
        "errors": errors.error_table(),
    }


def credentials(fixtures: SysPayFixtures | None) -> list[tuple[str, str]]:
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
