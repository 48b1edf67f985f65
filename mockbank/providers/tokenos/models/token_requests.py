"""Token requests and the consent decisions that answer them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from mockbank.providers.tokenos.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RequestAnswered,
    RequestExpired,
    Unimplemented,
)
from mockbank.providers.tokenos.models.common import (
    ACCESS_TYPES,
    ACCOUNT_RESOURCE_TYPES,
    MEMBER_REALM_SUFFIX,
    REQUEST_TTL_S,
    TYPE_RESOURCE,
    currency_field,
    is_text,
    ms,
    new_id,
    object_field,
    parse_amount,
    ref_id_field,
    text_field,
)
from mockbank.providers.tokenos.models.fixtures import Bank, Fixtures
from mockbank.providers.tokenos.models.members import normalize_alias, resolve_alias
from mockbank.providers.tokenos.models.schedules import (
    check_execution_date,
    check_standing_order_body,
)
from mockbank.providers.tokenos.records.accounts import NS_ACCOUNT
from mockbank.providers.tokenos.records.token_requests import NS_REQUEST, NS_RESULT, TokenRequest
from mockbank.store import Store, add_new


def _request_kind(payload: dict[str, Any]) -> str:
    """Which body the request carries: the SDK builders each set exactly one."""
    kinds = [
        k
        for k in ("transferBody", "accessBody", "standingOrderBody", "bulkTransferBody")
        if payload.get(k) is not None
    ]
    if len(kinds) != 1:
        raise InvalidArgument(
            "requestPayload needs exactly one of transferBody, standingOrderBody or accessBody"
        )
    if kinds[0] == "bulkTransferBody":
        raise Unimplemented(f"{kinds[0]} token requests are not emulated by mockbank")
    return kinds[0]


def _check_payload_fields(payload: dict[str, Any], *, now: datetime) -> None:
    """The fields every kind of request shares: redirect, references, expiry, acting-as."""
    redirect = text_field(payload.get("redirectUrl"), "requestPayload.redirectUrl")
    parts = urlsplit(redirect or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidArgument("requestPayload.redirectUrl must be an absolute http(s) URL")
    ref_id_field(payload.get("refId"), "requestPayload.refId")
    for name in ("description", "userRefId", "customizationId"):
        text_field(payload.get(name), f"requestPayload.{name}", required=False)
    expiration = payload.get("tokenExpiration")
    if expiration not in (None, ""):
        # SDK setTokenExpiration sends epoch milliseconds as a string.
        if isinstance(expiration, bool) or not re.fullmatch(r"[0-9]{1,15}", str(expiration)):
            raise InvalidArgument("requestPayload.tokenExpiration must be epoch milliseconds")
        if int(str(expiration)) <= ms(now):
            raise InvalidArgument("requestPayload.tokenExpiration is in the past")
    state = payload.get("callbackState")
    if state is not None and not is_text(state):
        raise InvalidArgument("requestPayload.callbackState must be a string (URL-encoded JSON)")
    country = payload.get("destinationCountry")
    if country not in (None, "") and (not is_text(country) or not re.match(r"^[A-Z]{2}$", country)):
        raise InvalidArgument("requestPayload.destinationCountry must be an ISO 3166 code")
    acting = object_field(payload.get("actingAs"), "requestPayload.actingAs")
    for name in ("displayName", "refId", "logoUrl", "secondaryName"):
        text_field(acting.get(name), f"requestPayload.actingAs.{name}", required=False)


def _payee(store: Store, payload: dict[str, Any], caller: str, *, now: datetime) -> dict[str, Any]:
    """``requestPayload.to`` with its member id: by id or alias, else the caller; it must be
    the caller (seed: "the member creating the TokenRequest must match the member that
    redeems the token")."""
    to = object_field(payload.get("to"), "requestPayload.to")
    to_id = to.get("id")
    if not to_id and isinstance(to.get("alias"), dict):
        alias = to["alias"]
        to_id = resolve_alias(
            store, normalize_alias(str(alias.get("type", "")), str(alias.get("value", ""))), now=now
        )
        if to_id is None:
            raise NotFound("requestPayload.to.alias does not name a member")
    to_id = to_id or caller
    if to_id != caller:
        raise PermissionDenied("requestPayload.to must be the member storing the request")
    return {**to, "id": to_id}


def _check_transfer_body(transfer: dict[str, Any], *, now: datetime) -> None:
    where = "requestPayload.transferBody"
    currency_field(transfer.get("currency"), f"{where}.currency")
    lifetime = parse_amount(transfer.get("lifetimeAmount"), f"{where}.lifetimeAmount")
    if transfer.get("amount") not in (None, ""):
        charge = parse_amount(transfer["amount"], f"{where}.amount")
        if charge > lifetime:
            raise InvalidArgument("transferBody.amount exceeds transferBody.lifetimeAmount")
    # SDK addTransferDestination fills instructions.transferDestinations; the deprecated
    # addDestination fills transferBody.destinations. Both travel into the token.
    instructions = object_field(transfer.get("instructions"), f"{where}.instructions")
    _object_list(
        instructions.get("transferDestinations"), f"{where}.instructions.transferDestinations"
    )
    _object_list(transfer.get("destinations"), f"{where}.destinations")
    check_execution_date(transfer, where, now=now)


def _check_body(kind: str, payload: dict[str, Any], *, now: datetime) -> None:
    """The transfer, standing order or access body."""
    if kind == "transferBody":
        where = "requestPayload.transferBody"
        _check_transfer_body(object_field(payload[kind], where, required=True), now=now)
    elif kind == "standingOrderBody":
        check_standing_order_body(payload[kind], "requestPayload.standingOrderBody", now=now)
    else:
        access_resources(object_field(payload[kind], "requestPayload.accessBody"))


def _check_bank_can(bank: Bank, kind: str) -> None:
    """The bank supports what the request asks: information for access, else payments."""
    needed = "supportsInformation" if kind == "accessBody" else "supportsSendPayment"
    if not bank.features.get(needed):
        raise InvalidArgument(f"bank {bank.id} does not support {needed}")


def _check_bank_option(options: dict[str, Any], fixtures: Fixtures, kind: str) -> None:
    """A preselected bank must be able to do what is asked (gold is information only)."""
    bank_id = options.get("bankId")
    if bank_id in (None, ""):
        return
    bank = fixtures.banks.get(str(bank_id))
    if bank is None:
        raise InvalidArgument(f"requestOptions.bankId {bank_id!r} is not a known bank")
    _check_bank_can(bank, kind)


def _check_source_option(
    store: Store,
    options: dict[str, Any],
    fixtures: Fixtures,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
) -> None:
    """A preselected source account: known, at the preselected bank, able and in currency."""
    source = text_field(
        options.get("sourceAccountId"), "requestOptions.sourceAccountId", required=False
    )
    if source is None:
        return
    account = fixtures.payer_account(source)
    if account is None or store.get(NS_ACCOUNT, source, now=now) is None:
        raise InvalidArgument("requestOptions.sourceAccountId is not a known account")
    source_bank = fixtures.banks[account.bank_id]
    bank_id = options.get("bankId")
    if bank_id not in (None, "") and bank_id != source_bank.id:
        raise InvalidArgument(
            f"requestOptions.sourceAccountId {source} is at bank {source_bank.id},"
            f" not requestOptions.bankId {bank_id}"
        )
    _check_bank_can(source_bank, kind)
    if kind != "accessBody" and source_bank.currency != payload[kind].get("currency"):
        raise InvalidArgument(
            f"requestOptions.sourceAccountId {source} holds {source_bank.currency}"
        )


def _check_options(
    store: Store,
    options: dict[str, Any],
    fixtures: Fixtures,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
) -> None:
    _check_bank_option(options, fixtures, kind)
    _check_source_option(store, options, fixtures, kind, payload, now=now)
    receipt = options.get("receiptRequested")
    if receipt is not None and not isinstance(receipt, bool):
        raise InvalidArgument("requestOptions.receiptRequested must be a boolean")
    from_ = object_field(options.get("from"), "requestOptions.from")
    if isinstance(from_.get("alias"), dict) and from_["alias"].get("value"):
        alias = from_["alias"]
        normalize_alias(str(alias.get("type", "EMAIL")), str(alias["value"]))


def store_token_request(
    store: Store,
    caller: str,
    body: Any,
    fixtures: Fixtures,
    *,
    now: datetime,
    rng: Callable[[int], bytes],
    ttl_s: int = REQUEST_TTL_S,
) -> dict[str, Any]:
    """``POST /token-requests``: validate a transfer or access request and keep it 15 min."""
    body = object_field(body, "body", required=True)
    payload = object_field(body.get("requestPayload"), "requestPayload", required=True)
    options = object_field(body.get("requestOptions"), "requestOptions")
    kind = _request_kind(payload)
    _check_payload_fields(payload, now=now)
    to = _payee(store, payload, caller, now=now)
    _check_body(kind, payload, now=now)
    _check_options(store, options, fixtures, kind, payload, now=now)
    # The request expires with the store record; expiry is decided on read by the clock.
    request_id = new_id("rq", rng, MEMBER_REALM_SUFFIX)
    record = TokenRequest(
        id=request_id,
        member_id=caller,
        payload={**payload, "to": to},
        options=options,
        created_at_ms=ms(now),
        kind=KINDS[kind],
    ).to_value()
    expires_at = now + timedelta(seconds=ttl_s)
    add_new(store, NS_REQUEST, request_id, record, now=now, expires_at=expires_at)
    return token_request_proto(record)


KINDS = {
    "transferBody": "TRANSFER",
    "accessBody": "ACCESS",
    "standingOrderBody": "STANDING_ORDER",
}


def _object_list(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and v for v in value):
        raise InvalidArgument(f"{where} must be a list of destination objects")
    return value


def token_request_proto(record: dict[str, Any]) -> dict[str, Any]:
    """The `TokenRequest` message of a stored record."""
    return {
        "id": record["id"],
        "requestPayload": record["requestPayload"],
        "requestOptions": record["requestOptions"],
    }


def access_resources(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (resource kind, account id or None for all) pairs an access body asks for."""
    wanted: list[tuple[str, str | None]] = []
    types = body.get("type")
    listed = object_field(body.get("resourceTypeList"), "accessBody.resourceTypeList").get(
        "resources"
    )
    kinds = types or listed or []
    if not isinstance(kinds, list):
        raise InvalidArgument("accessBody.type must be a list of resource types")
    for value in kinds:
        if value not in ACCESS_TYPES:
            raise InvalidArgument(
                f"accessBody.type {value!r} is not one of {', '.join(ACCESS_TYPES)}"
            )
        wanted.append((TYPE_RESOURCE[value], None))
    account_list = object_field(body.get("accountResourceList"), "accessBody.accountResourceList")
    listed_accounts = account_list.get("resources") or []
    if not isinstance(listed_accounts, list):
        raise InvalidArgument("accessBody.accountResourceList.resources must be a list")
    for index, item in enumerate(listed_accounts):
        item = object_field(item, f"accessBody.accountResourceList.resources.{index}")
        kind = ACCOUNT_RESOURCE_TYPES.get(str(item.get("type")))
        if kind is None:
            raise InvalidArgument(f"accountResourceList type {item.get('type')!r} is unknown")
        where = f"accessBody.accountResourceList.resources.{index}.bankAccount"
        wanted.append((kind, _bank_account_key(item.get("bankAccount"), where)))
    if not wanted:
        raise InvalidArgument("accessBody needs type (ACCOUNTS, BALANCES, ...) or resources")
    return wanted


def _bank_account_key(value: Any, where: str) -> str | None:
    """How a `BankAccount` names one account: its IBAN, sort code + number, or token id."""
    if value in (None, {}):
        return None
    account = object_field(value, where)
    for name in ("sepa", "iban"):
        sepa = account.get(name)
        if isinstance(sepa, dict) and is_text(sepa.get("iban")) and sepa["iban"].strip():
            return str(sepa["iban"]).replace(" ", "").upper()
    for name in ("fasterPayments", "gbDomestic"):
        domestic = account.get(name)
        if isinstance(domestic, dict) and is_text(domestic.get("sortCode")):
            number = domestic.get("accountNumber")
            if is_text(number) and number:
                return (str(domestic["sortCode"]) + str(number)).replace("-", "").replace(" ", "")
    token = account.get("token")
    if isinstance(token, dict) and is_text(token.get("accountId")) and token["accountId"]:
        return f"id:{token['accountId']}"
    raise InvalidArgument(
        f"{where} must name the account by sepa.iban, fasterPayments.sortCode and"
        " accountNumber, or token.accountId"
    )


def request_record(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """A stored token request, used or not; expired and unknown ones are NOT_FOUND."""
    record = store.record(NS_REQUEST, request_id)
    if record is None:
        raise NotFound(f"token request {request_id} not found")
    if record.expired(now) and not record.used:
        raise NotFound(f"token request {request_id} has expired (15 minutes unused)")
    return record.value


def pending_request(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """A token request still waiting for consent."""
    record = store.record(NS_REQUEST, request_id)
    if record is None:
        raise NotFound(f"token request {request_id} not found")
    if record.used:
        raise RequestAnswered(f"token request {request_id} has already been answered")
    if record.expired(now):
        raise RequestExpired(f"token request {request_id} has expired (15 minutes unused)")
    return record.value


def request_result(store: Store, request_id: str, *, now: datetime) -> dict[str, Any]:
    """``GET /token-requests/<id>/token_request_result``."""
    result = store.get(NS_RESULT, request_id, now=now)
    if result is None:
        request_record(store, request_id, now=now)
        raise NotFound(f"token request {request_id} has no result yet (not consented)")
    if result["status"] == "REJECTED":
        raise FailedPrecondition(f"token request {request_id} was declined by the user")
    return {"tokenId": result["tokenId"], "signature": result["signature"]}
