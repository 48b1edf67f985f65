"""Single-use tokens: made from card or bank details with the publishable key, used once.

Westpac: "Single-use-tokens can only be used once ... and will expire after 10 minutes." A
token is taken with the store's atomic take-once, so two requests racing for one token (in
one process or several sharing a store) give one winner.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mockbank.providers.quickstream.models import payment_form
from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.rest.errors import invalid
from mockbank.providers.quickstream.rest.models.fields import Body, read_account
from mockbank.providers.quickstream.rest.records import NS_TOKEN, SingleUseToken
from mockbank.store import Store

TOKEN_TTL = timedelta(minutes=10)
ACCOUNT_TYPES = ("CREDIT_CARD", "DIRECT_DEBIT")


def supplier_code(body: Body, facility: Facility, *, required: bool = True) -> str | None:
    """``supplierBusinessCode``: one of the facility's businesses."""
    code = body.text("supplierBusinessCode", required=required)
    if code is not None and code not in facility.supplier_business_codes:
        body.fail("supplierBusinessCode", "supplierBusinessCode is not one of your businesses.")
        return None
    return code


def create_token(
    store: Store,
    facility: Facility,
    data: dict[str, Any],
    *,
    now: datetime,
    new_id: Callable[[], str],
) -> SingleUseToken:
    """Validate card or bank details and keep them (masked) under a new single-use token."""
    body = Body(data)
    code = supplier_code(body, facility)
    account_type = body.choice("accountType", ACCOUNT_TYPES, required=True)
    account = None
    if account_type is not None:
        account = read_account(body, account_type, dict(facility.surcharges_bp), now)
    body.check()
    assert code is not None
    assert account is not None
    while True:  # a collision is astronomically unlikely; add() makes it impossible
        token = SingleUseToken(new_id(), facility.username, code, account, now.isoformat())
        if store.add(
            NS_TOKEN, token.token_id, token.to_value(), now=now, expires_at=now + TOKEN_TTL
        ):
            return token


def check_token(
    store: Store, facility: Facility, token_id: str, *, now: datetime
) -> SingleUseToken:
    """The token, if it is this facility's and still usable; a 422 naming it otherwise."""
    record = store.record(NS_TOKEN, token_id)
    if record is None or record.value.get("facility") != facility.username:
        raise invalid("singleUseTokenId", token_id, "singleUseTokenId is not valid.")
    if record.used:
        raise invalid("singleUseTokenId", token_id, "singleUseTokenId has already been used.")
    if record.expired(now):
        raise invalid(
            "singleUseTokenId",
            token_id,
            "singleUseTokenId has expired (10 minutes after creation).",
        )
    return SingleUseToken.from_value(record.value)


def take_token(store: Store, facility: Facility, token_id: str, *, now: datetime) -> SingleUseToken:
    """Use the token up, atomically: exactly one caller gets it."""
    check_token(store, facility, token_id, now=now)
    value = store.take_once(NS_TOKEN, token_id, now=now)
    if value is None:
        # Another request took it (or it expired) between the check and now.
        check_token(store, facility, token_id, now=now)
        raise invalid("singleUseTokenId", token_id, "singleUseTokenId has already been used.")
    return SingleUseToken.from_value(value)


def query_surcharge(facility: Facility, data: dict[str, Any]) -> tuple[str, int]:
    """(scheme, rate in basis points) for the card number (or its first 6+ digits) in `data`."""
    body = Body(data)
    raw = body.data.get("cardNumber")
    digits = "".join(raw.split()).replace("-", "") if isinstance(raw, str) else ""
    scheme = payment_form.card_scheme(digits)
    if scheme is None:
        body.fail("cardNumber", "cardNumber must be a card number (at least its first 6 digits).")
    elif scheme not in facility.surcharges_bp:
        body.fail("cardNumber", f"{scheme} cards are not accepted by this business.")
    body.check()
    assert scheme is not None
    return scheme, facility.surcharges_bp[scheme]
