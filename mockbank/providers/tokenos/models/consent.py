"""The consent decisions that answer a token request: which bank and payer, approve, deny."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from mockbank.clients.tokenos import KeyPair, base58, canonical_json, encode_uri_component
from mockbank.providers.tokenos.errors import (
    FailedPrecondition,
    InvalidArgument,
    RequestAnswered,
    UnknownPayer,
)
from mockbank.providers.tokenos.models.common import (
    ACCESS_TOKEN_TTL_S,
    TOKEN_SUFFIX,
    TRANSFER_TOKEN_TTL_S,
    ms,
    object_field,
)
from mockbank.providers.tokenos.models.fixtures import (
    Bank,
    Fixtures,
    Payer,
    PayerAccount,
    privileged_key,
)
from mockbank.providers.tokenos.models.schedules import standing_order_terms
from mockbank.providers.tokenos.models.sources import instructed_bank, instructed_source
from mockbank.providers.tokenos.models.token_requests import access_resources, pending_request
from mockbank.providers.tokenos.records.token_requests import NS_REQUEST, NS_RESULT, RequestResult
from mockbank.providers.tokenos.records.tokens import NS_TOKEN, StoredToken
from mockbank.store import Store, add_new


@dataclass(frozen=True)
class Consent:
    """What the consent pages know so far about a pending request."""

    request: dict[str, Any]
    bank: Bank | None
    payer: Payer | None
    accounts: list[PayerAccount]
    banks: list[Bank]
    source: PayerAccount | None = None
    # Banks that cannot serve this request, each with why: (bank, reason, values), where the
    # reason is "currency", "payments", "information" or "country" (the page words it).
    unavailable: tuple[tuple[Bank, str, dict[str, str]], ...] = ()


def _usable_banks(
    fixtures: Fixtures, payload: dict[str, Any], transfer: bool
) -> tuple[list[Bank], list[tuple[Bank, str, dict[str, str]]]]:
    """The banks that can serve a request, and the others with the reason they cannot."""
    usable: list[Bank] = []
    unusable: list[tuple[Bank, str, dict[str, str]]] = []
    body = payload.get("transferBody") or payload.get("standingOrderBody") or {}
    currency = str(body["currency"]) if transfer else ""
    country = payload.get("destinationCountry")
    needed = "supportsSendPayment" if transfer else "supportsInformation"
    in_country = [
        b for b in fixtures.banks.values() if b.features.get(needed) and b.country == country
    ]
    for bank in fixtures.banks.values():
        if not bank.features.get(needed):
            unusable.append((bank, "payments" if transfer else "information", {}))
        elif country and in_country and bank.country != country:
            unusable.append((bank, "country", {"country": str(country)}))
        elif transfer and bank.currency != currency:
            values = {"bank_currency": bank.currency, "currency": currency}
            unusable.append((bank, "currency", values))
        else:
            usable.append(bank)
    return usable, unusable


def consent_state(
    store: Store,
    request_id: str,
    fixtures: Fixtures,
    *,
    bank_id: str | None,
    email: str | None,
    now: datetime,
) -> Consent:
    """Resolve the bank and payer from the request options, else from the form."""
    request = pending_request(store, request_id, now=now)
    options = request["requestOptions"]
    payload = request["requestPayload"]
    transfer = request["kind"] != "ACCESS"  # a standing order pays from one account too
    banks, unavailable = _usable_banks(fixtures, payload, transfer)
    # Options set by the TPP win over the form: the seed says bankId and from skip screens.
    # A sourceAccountId names the account, so it fixes the bank too.
    source = fixtures.payer_account(str(options.get("sourceAccountId") or "")) or instructed_source(
        fixtures, payload
    )
    chosen = (
        options.get("bankId")
        or instructed_bank(payload)
        or (source.bank_id if source else None)
        or bank_id
    )
    bank = fixtures.banks.get(str(chosen)) if chosen else None
    if chosen and (bank is None or bank not in banks):
        raise InvalidArgument(f"bank {chosen!r} cannot be used for this request")
    from_ = options.get("from") or {}
    payer = None
    if from_.get("id"):
        payer = fixtures.payer_by_id(str(from_["id"]))
    elif isinstance(from_.get("alias"), dict) and from_["alias"].get("value"):
        payer = fixtures.payer_by_email(str(from_["alias"]["value"]))
    if payer is None and email:
        payer = fixtures.payer_by_email(email)
        if payer is None:
            raise UnknownPayer(f"no Token user with the email {email}")
    accounts: list[PayerAccount] = []
    if bank and payer:
        accounts = [a for a in payer.accounts if a.bank_id == bank.id]
        if source is not None:
            accounts = [a for a in accounts if a.id == source.id]
    return Consent(request, bank, payer, accounts, banks, source, tuple(unavailable))


def _chosen_accounts(
    consent: Consent, account_ids: list[str]
) -> tuple[Bank, Payer, list[PayerAccount]]:
    """The bank, the payer and the accounts ticked (or the defaults): one for a transfer."""
    if consent.bank is None or consent.payer is None:
        raise FailedPrecondition("choose a bank and enter the payer's email before approving")
    if not consent.accounts and consent.source is not None:
        raise FailedPrecondition(
            f"the requested source account {consent.source.id} is not the payer's"
        )
    if not consent.accounts:
        raise FailedPrecondition(f"the payer has no suitable account at {consent.bank.name}")
    by_id = {a.id: a for a in consent.accounts}
    unknown = [a for a in account_ids if a not in by_id]
    if unknown:
        raise InvalidArgument(f"account {unknown[0]} is not one of the payer's accounts here")
    transfer = consent.request["kind"] != "ACCESS"
    chosen = [by_id[a] for a in dict.fromkeys(account_ids)] or (
        consent.accounts[:1] if transfer else list(consent.accounts)
    )
    # A transfer has one source account; access may span every chosen account.
    if transfer and len(chosen) != 1:
        raise InvalidArgument("a transfer token is paid from exactly one account")
    return consent.bank, consent.payer, chosen


def token_expires_ms(payload: dict[str, Any], transfer: bool, now_ms: int) -> int:
    """When a new token expires: the request's ``tokenExpiration``, else the kind's default
    lifetime; a ``tokenExpiration`` the clock has passed since it was stored is refused."""
    expiration = payload.get("tokenExpiration")
    if expiration in (None, ""):
        ttl = TRANSFER_TOKEN_TTL_S if transfer else ACCESS_TOKEN_TTL_S
        return now_ms + ttl * 1000
    # Validated when stored; by now the clock may have passed it.
    if int(str(expiration)) <= now_ms:
        raise FailedPrecondition("the request's tokenExpiration has passed")
    return int(str(expiration))


def _transfer_terms(payload: dict[str, Any], payer_id: str, account_id: str) -> dict[str, Any]:
    """The ``transfer`` body of a transfer token paid from `account_id`."""
    body = payload["transferBody"]
    instructions = object_field(body.get("instructions"), "transferBody.instructions")
    terms: dict[str, Any] = {
        "currency": body["currency"],
        "lifetimeAmount": str(body["lifetimeAmount"]),
        "redeemer": {"id": payload["to"]["id"]},
        "instructions": {
            "source": {"account": {"token": {"memberId": payer_id, "accountId": account_id}}},
            "transferDestinations": instructions.get("transferDestinations") or [],
        },
    }
    if body.get("destinations"):
        terms["instructions"]["destinations"] = body["destinations"]
    if body.get("amount") not in (None, ""):
        terms["amount"] = str(body["amount"])
    if body.get("executionDate"):
        terms["executionDate"] = body["executionDate"]
    return terms


def _access_terms(
    payload: dict[str, Any], consent: Consent, chosen: list[PayerAccount], bank: Bank
) -> dict[str, Any]:
    """The ``access`` body: each resource asked for, on each account it covers."""
    resources: list[dict[str, Any]] = []
    for kind, named in access_resources(payload["accessBody"]):
        # A resource naming one bank account (e.g. createFundsConfirmationRequest) covers
        # that account only, whatever else was ticked.
        targets = chosen
        if named is not None:
            targets = [a for a in consent.accounts if named in (a.number, f"id:{a.id}")]
            if not targets:
                raise FailedPrecondition(
                    f"the payer has no account {named.removeprefix('id:')} at {bank.name}"
                )
        for account in targets:
            resource = {kind: {"accountId": account.id}}
            if resource not in resources:
                resources.append(resource)
    return {"resources": resources}


def _token_payload(
    request_id: str,
    consent: Consent,
    chosen: tuple[Bank, Payer, list[PayerAccount]],
    *,
    now_ms: int,
    rng: Callable[[int], bytes],
) -> dict[str, Any]:
    """The payload of the token a consented request becomes (``None`` fields left out)."""
    bank, payer, accounts = chosen
    request = consent.request
    payload = request["requestPayload"]
    transfer = request["kind"] != "ACCESS"
    token_payload: dict[str, Any] = {
        "version": "1.0",
        "refId": payload.get("refId") or base58(rng(9)),
        "issuer": {"id": bank.id},
        "from": {"id": payer.member_id},
        "to": payload["to"],
        "effectiveAtMs": str(now_ms),
        "expiresAtMs": str(token_expires_ms(payload, transfer, now_ms)),
        "description": payload.get("description"),
        "actingAs": payload.get("actingAs"),
        "receiptRequested": (request["requestOptions"].get("receiptRequested") or None),
        "tokenRequestId": request_id,
    }
    if request["kind"] == "STANDING_ORDER":
        token_payload["standingOrder"] = standing_order_terms(
            payload["standingOrderBody"], payer.member_id, accounts[0].id
        )
    elif transfer:
        token_payload["transfer"] = _transfer_terms(payload, payer.member_id, accounts[0].id)
    else:
        token_payload["access"] = _access_terms(payload, consent, accounts, bank)
    return {k: v for k, v in token_payload.items() if v is not None}


@dataclass(frozen=True)
class Signers:
    """Who endorses a new token: the payer's and Token's PRIVILEGED keys."""

    payer_key: KeyPair
    token_key: KeyPair
    token_member_id: str


def _endorsed_token(
    request_id: str,
    token_payload: dict[str, Any],
    payer_id: str,
    signers: Signers,
    rng: Callable[[int], bytes],
) -> dict[str, Any]:
    """The token message: a fresh id, endorsed by the payer and by Token."""
    prefix = "tt" if "access" not in token_payload else "ta"
    digest = hashlib.sha256(canonical_json(token_payload).encode() + rng(16)).digest()
    # Token operations sign canonical payload + "." + action (SDK tokenOperationSignature).
    endorsed = canonical_json(token_payload) + ".endorsed"
    signatures = [
        (payer_id, signers.payer_key),
        (signers.token_member_id, signers.token_key),
    ]
    return {
        "id": f"{prefix}:{base58(digest)}{TOKEN_SUFFIX}",
        "payload": token_payload,
        "payloadSignatures": [
            {
                "action": "ENDORSED",
                "signature": {"memberId": member, "keyId": key.id, "signature": key.sign(endorsed)},
            }
            for member, key in signatures
        ],
        "tokenRequestId": request_id,
    }


def approve(
    store: Store,
    request_id: str,
    consent: Consent,
    account_ids: list[str],
    *,
    signers: Signers,
    now: datetime,
    rng: Callable[[int], bytes],
) -> str:
    """Mint the token for a consented request and return the callback URL."""
    chosen = _chosen_accounts(consent, account_ids)
    payer = chosen[1]
    now_ms = ms(now)
    token_payload = _token_payload(request_id, consent, chosen, now_ms=now_ms, rng=rng)
    token = _endorsed_token(request_id, token_payload, payer.member_id, signers, rng)
    request = consent.request
    payload = request["requestPayload"]
    # Consume the request only now, after every check passed: a failed approval burns nothing.
    if store.take_once(NS_REQUEST, request_id, now=now) is None:
        raise RequestAnswered(f"token request {request_id} has already been answered")
    stored = StoredToken(
        token=token,
        type=request["kind"],
        to_member_id=payload["to"]["id"],
        from_member_id=payer.member_id,
        created_at_ms=now_ms,
    )
    add_new(store, NS_TOKEN, token["id"], stored.to_value(), now=now)
    # Token signs the stored callbackState verbatim; the SDK decodes it once, then verifies.
    state = payload.get("callbackState") or encode_uri_component("{}")
    token_key = signers.token_key
    signature = {
        "memberId": signers.token_member_id,
        "keyId": token_key.id,
        "signature": token_key.sign_json({"state": state, "tokenId": token["id"]}),
    }
    result = RequestResult("PROCESSED", token["id"], signature)
    add_new(store, NS_RESULT, request_id, result.to_value(), now=now)
    return _with_query(
        payload["redirectUrl"],
        [
            ("tokenId", token["id"]),
            ("state", encode_uri_component(state)),
            ("signature", encode_uri_component(canonical_json(signature))),
        ],
    )


def deny(store: Store, request_id: str, *, now: datetime) -> str:
    """The payer said no: the request is answered and the TPP hears ``access_denied``."""
    request = pending_request(store, request_id, now=now)
    if store.take_once(NS_REQUEST, request_id, now=now) is None:
        raise RequestAnswered(f"token request {request_id} has already been answered")
    add_new(store, NS_RESULT, request_id, RequestResult("REJECTED").to_value(), now=now)
    return _with_query(
        request["requestPayload"]["redirectUrl"],
        [
            ("error", "access_denied"),
            ("message", encode_uri_component("The user declined the request.")),
        ],
    )


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    # Values arrive encoded already (the SDK decodes each exactly once per its own rules).
    joined = "&".join(f"{quote(k)}={v}" for k, v in params)
    return f"{url}{'&' if '?' in url else '?'}{joined}"


@dataclass(frozen=True)
class ConsentForm:
    """What a consent page POST (or GET: all empty) asks for."""

    decision: str  # "", "approve" or "deny"
    bank_id: str | None
    email: str | None
    account_ids: list[str]


def consent_form(
    decision: str, bank_id: str, email: str, back: str, account_ids: list[str]
) -> ConsentForm:
    """Read the form: ``back`` (``bank`` or ``email``) forgets that step's input and any
    approval, so the page asks again; a deny stands whatever else was sent."""
    if decision not in ("", "approve", "deny"):
        raise InvalidArgument("decision must be approve or deny")
    chosen_bank: str | None = bank_id or None
    entered: str | None = email.strip() or None
    if decision != "deny" and back == "bank":
        chosen_bank, decision = None, ""
    elif decision != "deny" and back == "email":
        entered, decision = None, ""
    return ConsentForm(decision, chosen_bank, entered, account_ids)


@dataclass(frozen=True)
class ConsentStep:
    """The consent as far as the form's input fits; wrong input is dropped, not kept."""

    consent: Consent | None  # None when even the request's own options no longer fit
    email: str | None  # the email still entered
    problem: str | None = None  # the first wrong input's message
    unknown_email: str | None = None  # or the email no payer has (the page words it)


def consent_step(
    store: Store, request_id: str, fixtures: Fixtures, form: ConsentForm, *, now: datetime
) -> ConsentStep:
    """Resolve the consent, dropping whichever input was wrong and keeping the first problem.

    A bank that cannot serve the request or an unknown email shows that step again.
    """
    bank_id, email = form.bank_id, form.email
    problem: str | None = None
    unknown_email: str | None = None
    for _ in range(3):
        try:
            found = consent_state(
                store, request_id, fixtures, bank_id=bank_id, email=email, now=now
            )
        except UnknownPayer:
            if problem is None and unknown_email is None:
                unknown_email = email
            email = None
        except InvalidArgument as failure:
            if problem is None and unknown_email is None:
                problem = failure.detail
            bank_id = None
        else:
            return ConsentStep(found, email, problem, unknown_email)
    return ConsentStep(None, email, problem, unknown_email)


def approve_consent(
    store: Store,
    request_id: str,
    consent: Consent,
    account_ids: list[str],
    fixtures: Fixtures,
    *,
    now: datetime,
    rng: Callable[[int], bytes],
) -> str:
    """Approve with the seeded payer's and Token's keys; the callback URL."""
    if consent.payer is None:
        raise FailedPrecondition("enter the payer's email before approving")
    signers = Signers(
        payer_key=privileged_key(consent.payer.key_seed),
        token_key=privileged_key(fixtures.token_key_seed),
        token_member_id=fixtures.token_member_id,
    )
    return approve(store, request_id, consent, account_ids, signers=signers, now=now, rng=rng)
