"""The secure token request and the handoff to a QuickWeb session."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mockbank.clients.quickstream import CURRENCIES
from mockbank.providers.quickstream.auth import secrets_equal
from mockbank.providers.quickstream.errors import (
    AlreadyProcessed,
    CommunityMismatch,
    InvalidParameter,
    SessionCheckFailed,
    SessionExpired,
    SessionUnknown,
    TokenExpired,
    TokenUnknown,
    TokenUsed,
    WrongConnectionType,
)
from mockbank.providers.quickstream.models.common import (
    ACCOUNT_TYPES,
    CONNECTION_TYPES,
    CONTROL_CHARS,
    CUSTOM_MAX,
    CUSTOM_NAME,
    EMAIL,
    EMAIL_PARAMS,
    KNOWN,
    NAME_CONTROL_CHARS,
    PRODUCTS,
    QUICKWEB_CONNECTIONS,
    REFERENCE_MAX,
    REQUIRED,
    SESSION_TTL,
    TOKEN_TTL,
    URL_PARAMS,
    Facility,
    QuickStreamFixtures,
    SessionStatus,
    _check_url,
    format_amount,
    parse_amount,
)
from mockbank.providers.quickstream.records import NS_SESSION, NS_TOKEN
from mockbank.providers.quickstream.records.sessions import Completed, Session, TokenRecord
from mockbank.store import Store, add_new


# -- the secure token request -------------------------------------------------------------
@dataclass
class TokenGrant:
    """A newly issued token and the unknown parameter names it ignored."""

    token: str
    unknown: list[str] = field(default_factory=list)


def single_values(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters by name; a repeated name or a control character is refused."""
    values: dict[str, str] = {}
    for name, value in params:
        if name in values:
            raise InvalidParameter(f"{name} is given more than once.", field=name)
        if NAME_CONTROL_CHARS.search(name):
            raise InvalidParameter(
                f"A parameter name contains control characters: {name!r}.", field=name
            )
        if CONTROL_CHARS.search(value):
            raise InvalidParameter(f"{name} contains control characters.", field=name)
        values[name] = value
    return values


def validate_token_request(
    facility: Facility, values: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The parameters a token stores, and the unknown names; raises `InvalidParameter`."""
    _check_required(facility, values)
    _check_enums(values)
    register = values.get("registerPaymentAccount", "").lower()
    if register not in ("", "true", "false"):
        raise InvalidParameter(
            "registerPaymentAccount must be true or false.", field="registerPaymentAccount"
        )
    principal = values.get("principalAmount", "")
    if principal and parse_amount(principal) is None:
        raise InvalidParameter(
            "principalAmount must be a positive amount with at most 2 decimals, such as 100.00.",
            field="principalAmount",
        )
    _check_texts(values)
    custom, unknown = _custom_and_unknown(values)
    registers = register == "true" or values["product"] == "QUICKVAULT"
    _check_registration(facility, values, registers)
    stored: dict[str, Any] = {name: values[name] for name in KNOWN[2:] if values.get(name)}
    if principal:  # kept as QuickStream formats amounts: "100" and " 100.5 " become 100.00, 100.50
        stored["principalAmount"] = format_amount(parse_amount(principal) or 0)
    stored["registerPaymentAccount"] = registers
    stored["custom"] = custom
    return stored, unknown


def _check_required(facility: Facility, values: Mapping[str, str]) -> None:
    for name in REQUIRED:
        if not values.get(name, "").strip():
            raise InvalidParameter(f"{name} is required.", field=name)
    code = values["supplierBusinessCode"]
    if code not in facility.supplier_business_codes:
        raise InvalidParameter(
            f"supplierBusinessCode {code!r} does not belong to this facility.",
            field="supplierBusinessCode",
        )


def _check_enums(values: Mapping[str, str]) -> None:
    enums = (
        ("connectionType", CONNECTION_TYPES),
        ("product", PRODUCTS),
        ("currencyCode", CURRENCIES),
        ("accountType", ACCOUNT_TYPES),
    )
    for name, allowed in enums:
        value = values.get(name, "")
        if value and value not in allowed:
            raise InvalidParameter(
                f"{name} must be one of {', '.join(allowed)}, got {value!r}.", field=name
            )


def _check_texts(values: Mapping[str, str]) -> None:
    """URLs, email addresses and the two references."""
    for name in URL_PARAMS:
        if values.get(name):
            _check_url(name, values[name])
    for name in EMAIL_PARAMS:
        if values.get(name) and not EMAIL.fullmatch(values[name]):
            raise InvalidParameter(f"{name} is not an email address.", field=name)
    for name in ("customerReferenceNumber", "paymentReference"):
        if len(values.get(name, "")) > REFERENCE_MAX:
            raise InvalidParameter(
                f"{name} must be at most {REFERENCE_MAX} characters.", field=name
            )


def _custom_and_unknown(values: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The ``custom...`` parameters (checked) and the names QuickStream does not know."""
    custom: dict[str, str] = {}
    unknown: list[str] = []
    for name, value in values.items():
        if name in KNOWN:
            continue
        if not name.startswith("custom"):
            unknown.append(name)
            continue
        if not CUSTOM_NAME.fullmatch(name):
            raise InvalidParameter(
                f"{name}: a custom parameter name must be 'custom' followed by an "
                "uppercase letter, such as customPayeeName.",
                field=name,
            )
        if len(value) > CUSTOM_MAX:
            raise InvalidParameter(f"{name} must be at most {CUSTOM_MAX} characters.", field=name)
        custom[name] = value
    return custom, unknown


def _check_registration(facility: Facility, values: Mapping[str, str], registers: bool) -> None:
    if registers and not facility.quick_vault:
        raise InvalidParameter(
            "registerPaymentAccount needs QuickVault, which this facility does not have.",
            field="registerPaymentAccount",
        )
    if registers and not values.get("customerReferenceNumber"):
        raise InvalidParameter(
            "customerReferenceNumber is required to register a payment account in QuickVault.",
            field="customerReferenceNumber",
        )


def issue_token(
    store: Store,
    facility: Facility,
    values: Mapping[str, str],
    *,
    now: datetime,
    new_token: Callable[[], str],
) -> TokenGrant:
    """Validate a secure token request and store its parameters under a new token."""
    stored, unknown = validate_token_request(facility, values)
    record = TokenRecord(facility.username, facility.community_code, stored, tuple(unknown))
    while True:  # a collision is astronomically unlikely, but add() makes it impossible
        token = new_token()
        if store.add(NS_TOKEN, token, record.to_value(), now=now, expires_at=now + TOKEN_TTL):
            return TokenGrant(token, unknown)


# -- the handoff ---------------------------------------------------------------------------
def check_token(
    store: Store,
    fixtures: QuickStreamFixtures,
    token: str,
    community_code: str,
    *,
    now: datetime,
    connections: tuple[str, ...] = QUICKWEB_CONNECTIONS,
) -> TokenRecord:
    """The token's stored request if it may be handed off now; nothing is consumed."""
    if not token:
        raise InvalidParameter("The handoff needs the token parameter.", field="token")
    if not community_code:
        raise InvalidParameter(
            "The handoff needs the communityCode parameter.", field="communityCode"
        )
    record = store.record(NS_TOKEN, token)
    if record is None:
        raise TokenUnknown()
    if record.used:
        raise TokenUsed()
    if record.expired(now):
        raise TokenExpired()
    stored = TokenRecord.from_value(record.value)
    if not secrets_equal(community_code, stored.community_code):
        raise CommunityMismatch()
    connection = stored.params["connectionType"]
    if connection not in connections:
        raise WrongConnectionType(
            f"This token was requested with connectionType {connection}; "
            f"this handoff accepts {' or '.join(connections)} tokens."
        )
    if fixtures.facility_by_username(stored.facility) is None:
        raise TokenUnknown()  # the facility was removed from the fixtures since
    return stored


def token_connection(store: Store, token: str) -> str | None:
    """The connectionType a token was requested for (None: unknown token)."""
    record = store.record(NS_TOKEN, token)
    return (
        None
        if record is None
        else str(TokenRecord.from_value(record.value).params["connectionType"])
    )


def handoff(
    store: Store,
    fixtures: QuickStreamFixtures,
    token: str,
    community_code: str,
    *,
    now: datetime,
    new_secret: Callable[[], str],
    connections: tuple[str, ...] = QUICKWEB_CONNECTIONS,
) -> tuple[str, Session]:
    """Consume a token atomically and open a payment session; returns (session id, session).

    Every check runs before the token is taken, so a refused handoff consumes nothing.
    """
    check_token(store, fixtures, token, community_code, now=now, connections=connections)
    taken = store.take_once(NS_TOKEN, token, now=now)
    if taken is None:
        # Another request took it between our checks and now: report what it is now.
        again = store.record(NS_TOKEN, token)
        if again is not None and again.expired(now) and not again.used:
            raise TokenExpired()
        raise TokenUsed()
    stored = TokenRecord.from_value(taken)
    session_id = new_secret()
    params = dict(stored.params)
    if "INVOICING" in (params.get("connectionType"), params.get("product")):
        # QuickWeb Invoicing: the payer's invoice allocations make the amount.
        params.pop("principalAmount", None)
    session = Session(
        facility=stored.facility,
        community_code=stored.community_code,
        params=params,
        csrf=new_secret(),
        binding=new_secret(),
        status=SessionStatus.OPEN.value,
        token_prefix=token[:6],
    )
    add_new(
        store, NS_SESSION, session_id, session.to_value(), now=now, expires_at=now + SESSION_TTL
    )
    return session_id, session


def load_session(
    store: Store, session_id: str, *, now: datetime, binding: str | None = None
) -> Session:
    """A session by id; with `binding`, also check the browser's session cookie."""
    record = store.record(NS_SESSION, session_id)
    if record is None:
        raise SessionUnknown()
    if record.expired(now):
        raise SessionExpired()
    session = Session.from_value(record.value)
    if binding is not None and not secrets_equal(binding, session.binding):
        raise SessionCheckFailed()
    return session


def check_csrf(session: Session, csrf: str) -> None:
    """The page's form must carry the session's CSRF token (constant-time compare)."""
    if not secrets_equal(csrf, session.csrf):
        raise SessionCheckFailed()


def returning_session(
    store: Store, session_id: str, *, csrf: str, binding: str, now: datetime
) -> Session:
    """The session whose payer pressed 'Return to merchant': cookie and CSRF token checked."""
    session = load_session(store, session_id, now=now, binding=binding)
    check_csrf(session, csrf)
    return session


def open_session(
    store: Store, session_id: str, *, csrf: str, binding: str, now: datetime
) -> Session:
    """A session a form may complete now: cookie and CSRF token checked, still open."""
    session = load_session(store, session_id, now=now, binding=binding)
    check_csrf(session, csrf)
    if session.status != SessionStatus.OPEN:
        raise AlreadyProcessed()
    return session


def complete_session(
    store: Store,
    session_id: str,
    completed: Completed | None,
    *,
    now: datetime,
    status: SessionStatus = SessionStatus.COMPLETED,
) -> Session:
    """Close an open session exactly once (a second or concurrent try: `AlreadyProcessed`)."""

    def change(value: dict[str, Any]) -> dict[str, Any]:
        session = Session.from_value(value)
        if session.status != SessionStatus.OPEN:
            raise AlreadyProcessed()
        return session.complete(completed, status.value).to_value()

    updated = store.update(NS_SESSION, session_id, change, now=now)
    if updated is None:
        raise SessionExpired()
    return Session.from_value(updated)
