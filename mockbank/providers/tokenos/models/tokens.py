"""Smart tokens and transfers: lifetime budgets, cancel, expiry, settlement by the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mockbank.clients.tokenos import base58, canonical_json, verify, verify_json
from mockbank.providers.tokenos.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from mockbank.providers.tokenos.models.common import (
    MAGIC_AMOUNTS,
    REF_ID_MAX,
    REQUEST_TTL_S,
    TOKEN_SUFFIX,
    TRANSFER_SETTLE_S,
    TransactionStatus,
    currency_field,
    ms,
    new_id,
    object_field,
    page_window,
    paged,
    parse_amount,
    ref_id_field,
    text_field,
)
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.members import find_key
from mockbank.providers.tokenos.models.schedules import execution_ms
from mockbank.providers.tokenos.records.accounts import NS_ACCOUNT
from mockbank.providers.tokenos.records.tokens import (
    NS_TOKEN,
    NS_TRANSFER,
    NS_TRANSFER_REF,
    Settling,
    StoredToken,
    TokenTransfer,
    Transfer,
    TransferRef,
)
from mockbank.store import Store, add_new


def token_record(store: Store, token_id: str, *, now: datetime) -> StoredToken:
    """A token record, or NOT_FOUND."""
    record = store.get(NS_TOKEN, token_id, now=now)
    if record is None:
        raise NotFound(f"token {token_id} not found")
    return StoredToken.from_value(record)


def visible_token(store: Store, caller: str, token_id: str, *, now: datetime) -> StoredToken:
    """A token the caller is party to (payee or payer), else PERMISSION_DENIED."""
    record = token_record(store, token_id, now=now)
    if caller not in (record.to_member_id, record.from_member_id):
        raise PermissionDenied(f"token {token_id} belongs to other members")
    return record


def is_cancelled(record: StoredToken) -> bool:
    """Whether the token carries a CANCELLED signature."""
    return any(s["action"] == "CANCELLED" for s in record.token["payloadSignatures"])


def is_expired(record: StoredToken, now: datetime) -> bool:
    """Whether the token's expiresAtMs has passed on the app clock."""
    return int(record.token["payload"]["expiresAtMs"]) <= ms(now)


def cancel_token(
    store: Store,
    caller: str,
    token_id: str,
    body: Any,
    member: dict[str, Any],
    *,
    now: datetime,
    lenient: bool = False,
) -> dict[str, Any]:
    """``PUT /tokens/<id>/cancel``: a STANDARD signature over payload + ``.cancelled``."""
    body = object_field(body, "body", required=True)
    if body.get("tokenId") not in (None, token_id):
        raise InvalidArgument("tokenId in the body differs from the path")
    signature = object_field(body.get("signature"), "signature", required=True)
    record = visible_token(store, caller, token_id, now=now)
    if signature.get("memberId") != caller:
        raise Unauthenticated("signature.memberId must be the caller")
    key = find_key(member, str(signature.get("keyId")))
    if key is None:
        raise Unauthenticated("signature.keyId is not a key of the caller")
    if key["level"] == "LOW":
        raise PermissionDenied("cancelling a token needs a STANDARD or PRIVILEGED key")
    # The client signed the payload exactly as it received it (canonical JSON).
    message = canonical_json(record.token["payload"]) + ".cancelled"
    if not lenient and not verify(message, str(signature.get("signature", "")), key["publicKey"]):
        raise Unauthenticated("the cancel signature does not verify over the token payload")

    cancelled = {
        "action": "CANCELLED",
        "signature": {k: signature.get(k) for k in ("memberId", "keyId", "signature")},
    }

    def change(current: dict[str, Any]) -> dict[str, Any]:
        token = StoredToken.from_value(current)
        if is_cancelled(token):
            raise FailedPrecondition(f"token {token_id} is already cancelled")
        signatures = [*token.token["payloadSignatures"], cancelled]
        return replace(token, token={**token.token, "payloadSignatures": signatures}).to_value()

    updated = store.update(NS_TOKEN, token_id, change, now=now)
    if updated is None:
        raise NotFound(f"token {token_id} not found")
    return {"status": "SUCCESS", "token": updated["token"]}


def transfer_outcome(amount: Decimal, available: Decimal) -> TransactionStatus:
    """Where a transfer ends up once settled: the magic amounts, else the balance decides."""
    magic = MAGIC_AMOUNTS.get(amount)
    if magic is not None:
        return magic
    if amount > available:
        return TransactionStatus.FAILURE_INSUFFICIENT_FUNDS
    return TransactionStatus.SUCCESS


def settles_at(entry: Settling) -> datetime:
    """When the app clock moves a transfer out of PROCESSING: 5 s after it is made, or, for a
    future-dated transfer, at 00:00 UTC on its execution date if that is later."""
    created = datetime.fromtimestamp(entry.created_at_ms / 1000, tz=UTC)
    settles = created + timedelta(seconds=TRANSFER_SETTLE_S)
    if entry.executes_at_ms:
        settles = max(settles, datetime.fromtimestamp(entry.executes_at_ms / 1000, tz=UTC))
    return settles


def transfer_status(entry: Settling, now: datetime) -> TransactionStatus:
    """PROCESSING for 5 s of app clock, then the outcome decided at redemption."""
    if now < settles_at(entry):
        return TransactionStatus.PROCESSING
    return TransactionStatus(entry.outcome)


def _redeemable_record(
    store: Store, caller: str, token_id: str, given: tuple[Decimal, str] | None, *, now: datetime
) -> tuple[StoredToken, Decimal, str]:
    """The caller's transfer token and the amount to spend (its default when none given)."""
    record = token_record(store, token_id, now=now)
    amount, currency = given or _default_amount(record)
    if record.to_member_id != caller:
        raise PermissionDenied(f"token {token_id} can only be redeemed by its payee")
    if record.type != "TRANSFER":
        raise InvalidArgument(
            f"token {token_id} is a {record.type.lower()} token, not a transfer token"
        )
    check_redeemable(record, amount, currency, now)
    return record, amount, currency


def _earlier_transfer(
    store: Store, ref_key: str, ref_id: str, amount: Decimal, *, now: datetime
) -> dict[str, Any]:
    """The transfer a refId already made (idempotent retry); another amount is a conflict."""
    existing = store.get(NS_TRANSFER_REF, ref_key, now=now)
    transfer_id = "" if existing is None else TransferRef.from_value(existing).transfer_id
    stored = store.get(NS_TRANSFER, transfer_id, now=now)
    if stored is None:
        raise Aborted("a transfer with this refId is being created; retry")
    found = Transfer.from_value(stored)
    if Decimal(found.transfer["payload"]["amount"]["value"]) != amount:
        raise AlreadyExists(f"refId {ref_id} was used for a different transfer")
    return transfer_view(found, now)


def _spend(
    store: Store,
    fixtures: Fixtures,
    record: StoredToken,
    spent: Spent,
    *,
    now: datetime,
) -> TransactionStatus:
    """Record the transfer on its token (checked again inside the update); the outcome the
    source account's balance decides."""
    token_id = record.token["id"]
    account_id = _source_account(record)
    outcome = transfer_outcome(spent.amount, account_balance(store, fixtures, account_id, now=now))
    made = TokenTransfer(
        id=spent.transfer_id,
        amount=str(spent.amount),
        created_at_ms=ms(now),
        outcome=outcome.value,
        executes_at_ms=spent.executes_at_ms,
    )

    def change(current: dict[str, Any]) -> dict[str, Any]:
        token = StoredToken.from_value(current)
        check_redeemable(token, spent.amount, spent.currency, now)
        return replace(token, transfers=(*token.transfers, made)).to_value()

    if store.update(NS_TOKEN, token_id, change, now=now) is None:
        raise NotFound(f"token {token_id} not found")
    return outcome


@dataclass(frozen=True)
class Spent:
    """A transfer about to be recorded on its token."""

    transfer_id: str
    amount: Decimal
    currency: str
    executes_at_ms: int | None  # future-dated: settles on this day


def _source_account(record: StoredToken) -> str:
    terms = record.token["payload"]["transfer"]
    return str(terms["instructions"]["source"]["account"]["token"]["accountId"])


def redeem_token(
    store: Store,
    caller: str,
    body: Any,
    member: dict[str, Any],
    *,
    now: datetime,
    rng: Callable[[int], bytes],
    fixtures: Fixtures,
    lenient: bool = False,
) -> dict[str, Any]:
    """``POST /transfers``: spend part of a transfer token's lifetime amount."""
    body = object_field(body, "body", required=True)
    payload = object_field(body.get("payload"), "payload", required=True)
    # The current API's CreateTransferRequest has only `payload`; the SDK also signs it.
    signature = object_field(body.get("payloadSignature"), "payloadSignature")
    if signature:
        _check_payload_signature(payload, signature, caller, member, lenient=lenient)
    ref_id = ref_id_field(payload.get("refId"), "payload.refId") or base58(rng(9))
    token_id = text_field(payload.get("tokenId"), "payload.tokenId") or ""
    given = _given_amount(payload)  # malformed amounts are 400 before the token is looked up
    text_field(payload.get("description"), "payload.description", required=False)
    record, amount, currency = _redeemable_record(store, caller, token_id, given, now=now)
    ref_key = f"{token_id}|{ref_id}"
    transfer_id = new_id("t", rng, TOKEN_SUFFIX)
    # A refId is the idempotency key (seed: "used for deduplicating requests").
    if not store.add(NS_TRANSFER_REF, ref_key, TransferRef(transfer_id).to_value(), now=now):
        return _earlier_transfer(store, ref_key, ref_id, amount, now=now)
    account_id = _source_account(record)
    now_ms = ms(now)
    executes = execution_ms(record.token["payload"]["transfer"].get("executionDate"))
    later = executes if executes and executes > now_ms else None
    spent = Spent(transfer_id, amount, currency, later)
    try:
        outcome = _spend(store, fixtures, record, spent, now=now)
    except Exception:
        store.delete(NS_TRANSFER_REF, ref_key)
        raise
    transfer_payload = {k: v for k, v in payload.items() if v is not None}
    transfer_payload["refId"] = ref_id
    transfer_payload.setdefault("amount", {"value": str(amount), "currency": currency})
    endorsements = [{"action": "ENDORSED", "signature": signature}] if signature else []
    entry = Transfer(
        transfer={
            "id": transfer_id,
            "transactionId": "tx:" + base58(rng(12)),
            "createdAtMs": str(now_ms),
            "payload": transfer_payload,
            "payloadSignatures": endorsements,
        },
        token_id=token_id,
        to_member_id=caller,
        from_member_id=record.from_member_id,
        source_account_id=account_id,
        created_at_ms=now_ms,
        outcome=outcome.value,
        executes_at_ms=spent.executes_at_ms,
    )
    add_new(store, NS_TRANSFER, transfer_id, entry.to_value(), now=now)
    return transfer_view(entry, now)


def _check_payload_signature(
    payload: dict[str, Any],
    signature: dict[str, Any],
    caller: str,
    member: dict[str, Any],
    *,
    lenient: bool,
) -> None:
    if signature.get("memberId") != caller:
        raise Unauthenticated("payloadSignature.memberId must be the caller")
    key = find_key(member, str(signature.get("keyId")))
    if key is None:
        raise Unauthenticated("payloadSignature.keyId is not a key of the caller")
    if not lenient and not verify_json(
        payload, str(signature.get("signature", "")), key["publicKey"]
    ):
        raise Unauthenticated("payloadSignature does not verify over the payload")


def _given_amount(payload: dict[str, Any]) -> tuple[Decimal, str] | None:
    if payload.get("amount") is None:
        return None
    amount_obj = object_field(payload.get("amount"), "payload.amount", required=True)
    amount = parse_amount(amount_obj.get("value"), "payload.amount.value")
    return amount, currency_field(amount_obj.get("currency"), "payload.amount.currency")


def _default_amount(record: StoredToken) -> tuple[Decimal, str]:
    """No amount given: the token's per-charge amount, else its lifetime amount (what the SDK's
    ``redeemToken(token)`` sends)."""
    if record.type != "TRANSFER":
        raise InvalidArgument(f"token {record.token['id']} is not a transfer token")
    terms = record.token["payload"]["transfer"]
    return Decimal(str(terms.get("amount") or terms["lifetimeAmount"])), terms["currency"]


def check_redeemable(record: StoredToken, amount: Decimal, currency: str, now: datetime) -> None:
    """Raise unless `amount` may be redeemed from this token now."""
    token_id = record.token["id"]
    if is_cancelled(record):
        raise FailedPrecondition(f"token {token_id} has been cancelled")
    if is_expired(record, now):
        raise FailedPrecondition(f"token {token_id} has expired")
    terms = record.token["payload"]["transfer"]
    if currency != terms["currency"]:
        raise InvalidArgument(f"the token pays in {terms['currency']}, not {currency}")
    if terms.get("amount") and amount > Decimal(terms["amount"]):
        raise FailedPrecondition(
            f"{amount} exceeds the token's per-charge amount {terms['amount']}"
        )
    # Failed transfers give their amount back; processing ones still hold it.
    used = sum(
        (
            Decimal(t.amount)
            for t in record.transfers
            if not transfer_status(t, now).value.startswith("FAILURE")
        ),
        Decimal(0),
    )
    lifetime = Decimal(terms["lifetimeAmount"])
    if used + amount > lifetime:
        raise FailedPrecondition(
            f"{amount} {currency} exceeds what is left of the lifetime amount "
            f"({lifetime - used} of {lifetime} {currency})"
        )


def transfer_view(entry: Transfer, now: datetime) -> dict[str, Any]:
    """The `Transfer` message with its status as of `now`."""
    return {**entry.transfer, "status": transfer_status(entry, now).value}


def get_transfer(store: Store, caller: str, transfer_id: str, *, now: datetime) -> dict[str, Any]:
    """A transfer the caller is party to."""
    stored = store.get(NS_TRANSFER, transfer_id, now=now)
    if stored is None:
        raise NotFound(f"transfer {transfer_id} not found")
    entry = Transfer.from_value(stored)
    if caller not in (entry.to_member_id, entry.from_member_id):
        raise PermissionDenied(f"transfer {transfer_id} belongs to other members")
    return transfer_view(entry, now)


def list_transfers(
    store: Store, caller: str, token_id: str, offset: str, limit: str, *, now: datetime
) -> dict[str, Any]:
    """``GET /transfers``: the caller's transfers, optionally of one token."""
    start, count = page_window(offset, limit)
    # The SDK's getTransfers(undefined, ...) sends the literal text "tokenId=undefined".
    if token_id in ("undefined", "null"):
        token_id = ""
    entries = (Transfer.from_value(r.value) for r in store.records(NS_TRANSFER))
    items = [
        transfer_view(entry, now)
        for entry in entries
        if caller in (entry.to_member_id, entry.from_member_id)
        and (not token_id or entry.token_id == token_id)
    ]
    return paged("transfers", items, start, count)


def settled_debits(store: Store, account_id: str, now: datetime) -> list[Transfer]:
    """Transfers out of an account that have settled successfully."""
    entries = (Transfer.from_value(r.value) for r in store.records(NS_TRANSFER))
    return [
        entry
        for entry in entries
        if entry.source_account_id == account_id
        and transfer_status(entry, now) is TransactionStatus.SUCCESS
    ]


def account_balance(store: Store, fixtures: Fixtures, account_id: str, *, now: datetime) -> Decimal:
    """The live balance: the seeded one less every settled transfer out."""
    account = store.get(NS_ACCOUNT, account_id, now=now)
    if account is None:
        raise NotFound(f"account {account_id} not found")
    spent = sum(
        (
            Decimal(e.transfer["payload"]["amount"]["value"])
            for e in settled_debits(store, account_id, now)
        ),
        Decimal(0),
    )
    return Decimal(account["balance"]) - spent


def magic_values() -> dict[str, Any]:
    """The model bank's amount table (``/_mockbank/magic-values``)."""
    return {
        "transfer_amounts": {str(k): v.value for k, v in MAGIC_AMOUNTS.items()},
        "transfer_settles_after_s": TRANSFER_SETTLE_S,
        "other_amounts": "SUCCESS, or FAILURE_INSUFFICIENT_FUNDS above the account balance",
        "token_request_ttl_s": REQUEST_TTL_S,
        "ref_id_max_length": REF_ID_MAX,
    }


def check_path_token(body: Any, token_id: str) -> None:
    """``PUT /tokens/<id>/redeem`` takes the ``POST /transfers`` body; a ``payload.tokenId``
    there must be the token in the path."""
    payload = body.get("payload") if isinstance(body, dict) else None
    if isinstance(payload, dict) and payload.get("tokenId") not in (None, token_id):
        raise InvalidArgument("payload.tokenId differs from the token in the path")
