"""TokenOS REST views and the consent web app; thin: parse, authenticate, call models, render."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from mockbank.clients.tokenos import KeyPair, generate_keys
from mockbank.providers.tokenos import events, models
from mockbank.providers.tokenos.auth import (
    DEFAULT_WINDOW_S,
    match_api_key,
    parse_basic,
    parse_body,
    parse_signed_header,
    verify_signed_request,
)
from mockbank.providers.tokenos.auth_jwt import verify_bearer
from mockbank.providers.tokenos.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RequestAnswered,
    RequestExpired,
    TokenOSError,
    Unauthenticated,
    Unimplemented,
    UnknownPayer,
)
from mockbank.providers.tokenos.i18n import TEXTS, format_amount, pick_language
from mockbank.providers.tokenos.models import rest_v1
from mockbank.providers.tokenos.models.standing_orders import account_standing_orders
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = Blueprint("tokenos", __name__, template_folder="templates")
PREFIX = "/tokenos"


@dataclass(frozen=True)
class Caller:
    """Who signed the call, and the access token it acts under (``on-behalf-of``)."""

    member: dict[str, Any]
    on_behalf_of: str | None

    @property
    def id(self) -> str:
        return str(self.member["id"])


def _state() -> tuple[State, models.Fixtures]:
    state = current_state()
    fixtures: models.Fixtures = state.fixtures["tokenos"]
    return state, fixtures


def _lenient(state: State) -> bool:
    from mockbank.providers.tokenos.settings import settings

    return settings(state).lenient_signatures


def _body() -> Any:
    return parse_body(request.get_data(cache=True))


@functools.lru_cache(maxsize=32)
def privileged_key(seed: str) -> KeyPair:
    """The PRIVILEGED key of a seeded member (the Token member, payers)."""
    return generate_keys("PRIVILEGED", hashlib.sha256(f"{seed}:PRIVILEGED".encode()).digest())


def _paths() -> list[str]:
    # The SDK signs the path it was given; accept the decoded and the raw spelling.
    paths = [request.path]
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        raw_path = raw.split("?", 1)[0]
        if "://" in raw_path:
            raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
        paths.append(raw_path)
    out = []
    for path in paths:
        bare = path[len(PREFIX) :] if path.startswith(PREFIX + "/") or path == PREFIX else path
        if bare not in out:
            out.append(bare or "/")
    return out


def authenticate() -> Caller:
    """A signed (or sandbox API key) caller; 401 UNAUTHENTICATED otherwise."""
    state, fixtures = _state()
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthenticated(
            "this call needs Authorization: Token-Ed25519-SHA512 …, Bearer <JWT> or Basic (API key)"
        )
    now = state.now()
    if header.lower().startswith("basic "):
        user, password = parse_basic(header)
        name = match_api_key(password, fixtures.api_keys)
        seeded = fixtures.member_by_name(name) if name else None
        if seeded is None:
            raise Unauthenticated("unknown API key")
        if user and user not in (seeded.member_id, seeded.member_id.replace(":", "-")):
            raise Unauthenticated("the API key belongs to another member")
        seeded_member = models.get_member(state.store, seeded.member_id, now=now)
        journal_note("auth", "api-key")
        return Caller(seeded_member, request.headers.get("on-behalf-of") or None)
    if header.lower().startswith("bearer "):
        return _jwt_caller(state, header)
    signed = parse_signed_header(header)
    member = state.store.get(models.NS_MEMBER, signed.member_id, now=now)
    if member is None:
        raise Unauthenticated(f"unknown member {signed.member_id}")
    key = models.find_key(member, signed.key_id)
    if key is None:
        raise Unauthenticated(f"key {signed.key_id} is not a key of {signed.member_id}")
    journal_note("member", signed.member_id)
    if _lenient(state):
        journal_note("auth", "lenient")
        return Caller(member, signed.on_behalf_of)
    host = request.host + request.script_root
    snapshot = state.clock.snapshot()
    offset_s = float(snapshot["offset_s"])
    real_ms = int((float(snapshot["epoch"]) - offset_s) * 1000)
    verify_signed_request(
        signed,
        key,
        method=request.method,
        uri_hosts=[host + PREFIX, host],
        paths=_paths(),
        body=_body(),
        query=request.query_string.decode("utf-8", "replace"),
        now_ms=models.ms(now),
        real_ms=real_ms,
        window_s=DEFAULT_WINDOW_S,
    )
    # A replayed state-changing call is refused; identical GETs within a millisecond are not.
    if request.method not in ("GET", "HEAD") and not state.store.add(
        models.NS_NONCE,
        f"{signed.member_id}:{signed.signature}",
        {},
        now=now,
        # Long enough to cover the window around both the app clock and real time.
        expires_at=now + timedelta(seconds=2 * DEFAULT_WINDOW_S + abs(offset_s)),
    ):
        raise Unauthenticated("replayed request: this signature has been used already")
    return Caller(member, signed.on_behalf_of)


def _jwt_caller(state: State, header: str) -> Caller:
    """A caller authenticated by a bearer JWT (EdDSA, detached body, claims in the header)."""
    query = request.query_string.decode("utf-8", "replace")
    paths = _paths()
    spellings = paths + [PREFIX + p for p in paths]
    if query:
        spellings += [f"{p}?{query}" for p in spellings]
    host = request.host
    member = verify_bearer(
        state.store,
        header,
        method=request.method,
        hosts=[host, host + request.script_root + PREFIX],
        paths=spellings,
        body=request.get_data(cache=True),
        now=state.now(),
    )
    journal_note("auth", "jwt")
    journal_note("member", member["id"])
    return Caller(member, request.headers.get("on-behalf-of") or None)


def _grant(state: State, caller: Caller) -> dict[str, Any] | None:
    if not caller.on_behalf_of:
        return None
    return models.access_grant(state.store, caller.id, caller.on_behalf_of, now=state.now())


def _arg(name: str) -> str:
    return request.args.get(name, "")


# -- members and aliases ---------------------------------------------------------------------
@bp.post("/members")
@endpoint("create-member")
def create_member() -> Response:
    """Reserve a member id; keys follow in the first (self-signed) update."""
    state, _ = _state()
    member_id = models.create_member(state.store, _body(), now=state.now(), rng=state.token_bytes)
    return jsonify({"memberId": member_id})


@bp.post("/members/<member_id>/updates")
@endpoint("member-update")
def update_member(member_id: str) -> Response:
    """Apply a signed, hash-chained member update (keys, aliases, recovery rules)."""
    state, _ = _state()
    if request.headers.get("Authorization"):
        caller = authenticate()
        if caller.id != member_id:
            raise Unauthenticated("a member can only update itself")
    member = models.apply_member_update(
        state.store, member_id, _body(), now=state.now(), lenient=_lenient(state)
    )
    return jsonify({"member": models.member_proto(member)})


@bp.get("/members/<member_id>")
@endpoint("get-member")
def get_member(member_id: str) -> Response:
    """A member's public keys and last hash."""
    state, _ = _state()
    member = models.get_member(state.store, member_id, now=state.now())
    return jsonify({"member": models.member_proto(member)})


@bp.get("/aliases/normalize/<alias_type>/<path:value>/<realm>")
@endpoint("normalize-alias")
def normalize_alias(alias_type: str, value: str, realm: str) -> Response:
    """The canonical spelling of an alias."""
    return jsonify({"alias": models.normalize_alias(alias_type, value, realm)})


@bp.get("/resolve-alias")
@endpoint("resolve-alias")
def resolve_alias() -> Response:
    """The member an alias belongs to (``{}`` when none)."""
    state, _ = _state()
    alias = models.normalize_alias(_arg("alias.type"), _arg("alias.value"))
    member_id = models.resolve_alias(state.store, alias, now=state.now())
    return jsonify({"member": {"id": member_id}} if member_id else {})


@bp.get("/aliases")
@endpoint("aliases")
def aliases() -> Response:
    """The caller's aliases."""
    caller = authenticate()
    return jsonify({"aliases": [a["alias"] for a in caller.member["aliases"]]})


@bp.put("/profile")
@endpoint("set-profile")
def set_profile() -> Response:
    """Set the caller's display name (shown on the consent pages)."""
    state, _ = _state()
    caller = authenticate()
    body = models.object_field(_body(), "body", required=True)
    profile = models.object_field(body.get("profile"), "profile", required=True)
    clean = {}
    for name in ("displayNameFirst", "displayNameLast"):
        value = models.text_field(profile.get(name), f"profile.{name}", required=False, limit=200)
        if value:
            clean[name] = value

    def change(member: dict[str, Any]) -> dict[str, Any]:
        member["profile"] = clean
        return member

    state.store.update(models.NS_MEMBER, caller.id, change, now=state.now())
    return jsonify({"profile": clean})


@bp.get("/members/<member_id>/profile")
@endpoint("get-profile")
def get_profile(member_id: str) -> Response:
    """A member's profile."""
    state, _ = _state()
    authenticate()
    member = models.get_member(state.store, member_id, now=state.now())
    return jsonify({"profile": member["profile"]})


@bp.get("/members/<member_id>/profile-name")
@endpoint("get-profile-name")
def get_profile_name(member_id: str) -> Response:
    """A member's display name."""
    state, _ = _state()
    authenticate()
    member = models.get_member(state.store, member_id, now=state.now())
    profile = member["profile"]
    name = " ".join(
        p for p in (profile.get("displayNameFirst"), profile.get("displayNameLast")) if p
    )
    return jsonify({"profileName": name})


# -- banks -----------------------------------------------------------------------------------
@bp.get("/banks")
@endpoint("banks")
def banks() -> Response:
    """Model banks with filters and paging."""
    _, fixtures = _state()
    return jsonify(models.list_banks(fixtures, request.args.to_dict(flat=False)))


@bp.get("/banks/countries")
@endpoint("bank-countries")
def bank_countries() -> Response:
    """Countries that have banks matching the same filters."""
    _, fixtures = _state()
    listed = models.list_banks(fixtures, request.args.to_dict(flat=False))
    return jsonify({"countries": sorted({b["country"] for b in listed["banks"]})})


# -- token requests --------------------------------------------------------------------------
@bp.post("/token-requests")
@endpoint("store-token-request")
def store_token_request() -> Response:
    """Keep a transfer or access token request for the consent flow."""
    state, fixtures = _state()
    caller = authenticate()
    from mockbank.providers.tokenos.settings import settings

    ttl = settings(state).token_request_ttl_s
    stored = models.store_token_request(
        state.store, caller.id, _body(), fixtures, now=state.now(), rng=state.token_bytes, ttl_s=ttl
    )
    return jsonify({"tokenRequest": stored})


@bp.get("/token-requests/<request_id>")
@endpoint("get-token-request")
def get_token_request(request_id: str) -> Response:
    """A stored token request."""
    state, _ = _state()
    record = models.request_record(state.store, request_id, now=state.now())
    return jsonify({"tokenRequest": models.token_request_proto(record)})


@bp.get("/token-requests/<request_id>/token_request_result")
@endpoint("token-request-result")
def token_request_result(request_id: str) -> Response:
    """The token id and Token's signature once the user approved."""
    state, _ = _state()
    return jsonify(models.request_result(state.store, request_id, now=state.now()))


# -- tokens and transfers --------------------------------------------------------------------
@bp.get("/tokens/<token_id>")
@endpoint("get-token")
def get_token(token_id: str) -> Response:
    """A token the caller is party to."""
    state, _ = _state()
    caller = authenticate()
    record = models.visible_token(state.store, caller.id, token_id, now=state.now())
    return jsonify({"token": record["token"]})


@bp.get("/tokens")
@endpoint("list-tokens")
def list_tokens() -> Response:
    """The caller's tokens (``type``, ``page.*`` or ``offset``/``limit``, ``filter.*``)."""
    state, _ = _state()
    caller = authenticate()
    return jsonify(rest_v1.list_tokens(state.store, caller.id, request.args.to_dict()))


@bp.put("/tokens/<token_id>/cancel")
@endpoint("cancel-token")
def cancel_token(token_id: str) -> Response:
    """Cancel a token with a CANCELLED signature."""
    state, _ = _state()
    caller = authenticate()
    result = models.cancel_token(
        state.store,
        caller.id,
        token_id,
        _body(),
        caller.member,
        now=state.now(),
        lenient=_lenient(state),
    )
    return jsonify({"result": result})


def _redeem(caller: Caller) -> Response:
    state, fixtures = _state()
    transfer = models.redeem_token(
        state.store,
        caller.id,
        _body(),
        caller.member,
        now=state.now(),
        rng=state.token_bytes,
        fixtures=fixtures,
        lenient=_lenient(state),
    )
    journal_note("transfer", transfer["id"])
    entry = state.store.get(models.NS_TRANSFER, transfer["id"], now=state.now())
    if entry is not None:
        events.publish_transfer_events(
            state, entry, now=state.now(), settles_at=models.settles_at(entry)
        )
    return jsonify({"transfer": transfer})


@bp.post("/transfers")
@endpoint("redeem-token")
def redeem_token() -> Response:
    """Redeem a transfer token: a transfer that starts PROCESSING."""
    return _redeem(authenticate())


@bp.put("/tokens/<token_id>/redeem")
@endpoint("redeem-token")
def redeem_token_by_path(token_id: str) -> Response:
    """The seed's ``PUT /tokens/{tokenId}/redeem``: the ``POST /transfers`` body, same rules."""
    caller = authenticate()
    body = _body()
    payload = body.get("payload") if isinstance(body, dict) else None
    if isinstance(payload, dict) and payload.get("tokenId") not in (None, token_id):
        raise InvalidArgument("payload.tokenId differs from the token in the path")
    return _redeem(caller)


@bp.get("/transfers/<transfer_id>")
@endpoint("get-transfer")
def get_transfer(transfer_id: str) -> Response:
    """A transfer, its status read from the clock."""
    state, _ = _state()
    caller = authenticate()
    return jsonify(
        {"transfer": models.get_transfer(state.store, caller.id, transfer_id, now=state.now())}
    )


@bp.get("/transfers")
@endpoint("list-transfers")
def list_transfers() -> Response:
    """Transfers of a token."""
    state, _ = _state()
    caller = authenticate()
    return jsonify(
        models.list_transfers(
            state.store, caller.id, _arg("tokenId"), _arg("offset"), _arg("limit"), now=state.now()
        )
    )


# -- account information ---------------------------------------------------------------------
@bp.get("/accounts")
@endpoint("accounts")
def accounts() -> Response:
    """The accounts an access token (or the caller) can see."""
    state, fixtures = _state()
    caller = authenticate()
    grant = _grant(state, caller)
    found = models.visible_accounts(state.store, caller.id, grant, now=state.now())
    if grant is not None and not found:
        raise PermissionDenied("the access token grants no account information")
    return jsonify({"accounts": [models.account_proto(a, fixtures) for a in found]})


@bp.get("/accounts/<account_id>")
@endpoint("account")
def account(account_id: str) -> Response:
    """One account."""
    state, fixtures = _state()
    caller = authenticate()
    found = models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "account", now=state.now()
    )
    return jsonify({"account": models.account_proto(found, fixtures)})


def _customer_initiated() -> bool:
    return request.headers.get("customer-initiated", "").strip().lower() == "true"


def _balance(
    state: State, fixtures: models.Fixtures, caller: Caller, account_id: str
) -> dict[str, Any]:
    found = models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "balance", now=state.now()
    )
    from mockbank.providers.tokenos.settings import settings

    cache_s = settings(state).balance_cache_s
    balance = models.balance_view(
        state.store,
        fixtures,
        found,
        now=state.now(),
        customer_initiated=_customer_initiated(),
        cache_s=cache_s,
    )
    return {"balance": balance, "status": "SUCCESSFUL_REQUEST"}


@bp.get("/accounts/<account_id>/balance")
@endpoint("balance")
def balance(account_id: str) -> Response:
    """A balance; cached unless the call is customer-initiated."""
    state, fixtures = _state()
    return jsonify(_balance(state, fixtures, authenticate(), account_id))


@bp.get("/account-balance")
@endpoint("balances")
def balances() -> Response:
    """Several balances at once (``account_id`` repeated)."""
    state, fixtures = _state()
    caller = authenticate()
    ids = request.args.getlist("account_id")
    if not ids:
        raise InvalidArgument("name at least one account_id")
    return jsonify({"response": [_balance(state, fixtures, caller, i) for i in ids]})


@bp.get("/accounts/<account_id>/transactions")
@endpoint("transactions")
def transactions(account_id: str) -> Response:
    """A page of transactions, newest first."""
    state, _ = _state()
    caller = authenticate()
    found = models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "transactions", now=state.now()
    )
    return jsonify(
        models.transactions_page(
            state.store,
            found,
            _arg("offset"),
            _arg("limit"),
            _arg("startDate"),
            _arg("endDate"),
            state.seeded_faker,
            now=state.now(),
        )
    )


@bp.get("/accounts/<account_id>/transaction/<transaction_id>")
@endpoint("transaction")
def transaction(account_id: str, transaction_id: str) -> Response:
    """One transaction."""
    state, _ = _state()
    caller = authenticate()
    found = models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "transactions", now=state.now()
    )
    for item in models.transactions(state.store, found, state.seeded_faker, now=state.now()):
        if item["id"] == transaction_id:
            return jsonify({"transaction": item, "status": "SUCCESSFUL_REQUEST"})
    raise NotFound(f"transaction {transaction_id} not found in {account_id}")


@bp.get("/accounts/<account_id>/transfer-destinations")
@endpoint("transfer-destinations")
def transfer_destinations(account_id: str) -> Response:
    """The account's payment details (IBAN, or sort code and account number)."""
    state, fixtures = _state()
    caller = authenticate()
    found = models.checked_account(
        state.store,
        caller.id,
        _grant(state, caller),
        account_id,
        "transferDestinations",
        now=state.now(),
    )
    return jsonify({"transferDestinations": models.transfer_destinations(found, fixtures)})


@bp.get("/accounts/<account_id>/standing-orders")
@endpoint("standing-orders")
def standing_orders(account_id: str) -> Response:
    """The account's standing orders (``page.offset``, ``page.limit``)."""
    state, _ = _state()
    caller = authenticate()
    models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "standingOrders", now=state.now()
    )
    return jsonify(
        models.standing_orders_page(
            state.store, account_id, _arg("page.offset"), _arg("page.limit"), now=state.now()
        )
    )


@bp.get("/accounts/<account_id>/standing-orders/<standing_order_id>")
@endpoint("standing-order")
def standing_order(account_id: str, standing_order_id: str) -> Response:
    """One standing order set up from the account."""
    state, _ = _state()
    caller = authenticate()
    models.checked_account(
        state.store, caller.id, _grant(state, caller), account_id, "standingOrders", now=state.now()
    )
    for order in account_standing_orders(state.store, account_id, now=state.now()):
        if order["id"] == standing_order_id:
            return jsonify({"standingOrder": order, "status": "SUCCESSFUL_REQUEST"})
    raise NotFound(f"standing order {standing_order_id} not found in {account_id}")


@bp.put("/accounts/<account_id>/funds-confirmation")
@endpoint("funds-confirmation")
def funds_confirmation(account_id: str) -> Response:
    """Whether the account holds at least the amount."""
    state, fixtures = _state()
    caller = authenticate()
    grant = _grant(state, caller)
    store, now = state.store, state.now()
    try:
        found = models.checked_account(
            store, caller.id, grant, account_id, "fundsConfirmation", now=now
        )
    except PermissionDenied:
        # A balance grant answers the narrower yes/no question too.
        found = models.checked_account(store, caller.id, grant, account_id, "balance", now=now)
    available = models.confirm_funds(store, fixtures, found, _body(), now=now)
    return jsonify({"fundsAvailable": available})


# -- SDK calls mockbank does not emulate -----------------------------------------------------
# Paths of @token-io/tpp@1.0.57 outside the seed's flow. A clear 501 names the operation,
# where an unknown path would only say "no endpoint".
UNEMULATED: list[tuple[str, str, str]] = [
    ("POST", "/customization", "web-app customization"),
    ("PUT", "/token-requests/<request_id>/transfer-destinations", "transfer destination callbacks"),
    ("POST", "/bulk-transfers", "bulk transfers"),
    ("GET", "/bulk-transfers/<bulk_transfer_id>", "bulk transfers"),
    ("PUT", "/eidas/register", "eIDAS"),
    ("POST", "/eidas/verifications", "eIDAS"),
    ("GET", "/eidas/verifications/<verification_id>", "eIDAS"),
    ("POST", "/banks/<bank_id>/token-requests/<request_id>", "bank authorization URLs"),
    ("POST", "/banks/<bank_id>/callback", "bank authorization URLs"),
    ("GET", "/banks/<bank_id>/info", "bank linking information"),
    ("GET", "/tokens/<token_id>/consent", "raw bank consents"),
]


def _unemulated_view(feature: str) -> Any:
    @endpoint("unimplemented")
    def view(**_: str) -> Response:
        raise Unimplemented(
            f"mockbank does not emulate TokenOS {feature} ({request.method} {request.path});"
            " see docs/providers/tokenos.md for what is covered"
        )

    return view


for _method, _rule, _feature in UNEMULATED:
    bp.add_url_rule(
        _rule,
        endpoint=f"unemulated {_method} {_rule}",
        view_func=_unemulated_view(_feature),
        methods=[_method],
    )


# -- the consent web app ---------------------------------------------------------------------
def _describe(request_record: dict[str, Any], lang: str) -> str:
    texts = TEXTS[lang]
    payload = request_record["requestPayload"]
    if request_record["kind"] == "STANDING_ORDER":
        body = payload["standingOrderBody"]
        return texts["standing_order"].format(
            amount=format_amount(Decimal(str(body["amount"])), lang),
            currency=body["currency"],
            frequency=body["frequency"],
            start=body["startDate"],
        )
    if request_record["kind"] == "TRANSFER":
        body = payload["transferBody"]
        text = texts["transfer"].format(
            amount=format_amount(Decimal(str(body["lifetimeAmount"])), lang),
            currency=body["currency"],
        )
        if body.get("executionDate"):
            text += ", " + texts["execution_date"].format(date=body["executionDate"])
        return text
    kinds = [k for k, _ in models.access_resources(payload["accessBody"])]
    labels = [texts.get(f"resource_{k}", k) for k in dict.fromkeys(kinds)]
    return texts["access"].format(resources=", ".join(labels))


def _consent_page(
    consent: models.Consent,
    request_id: str,
    lang: str,
    *,
    email: str | None,
    error: str | None,
    status: int,
) -> Response:
    state, _ = _state()
    record = consent.request
    payload = record["requestPayload"]
    step = "bank" if consent.bank is None else "email" if consent.payer is None else "accounts"
    member = state.store.get(models.NS_MEMBER, record["memberId"], now=state.now()) or {}
    profile = member.get("profile") or {}
    acting = payload.get("actingAs") or {}
    requester = acting.get("displayName") or profile.get("displayNameFirst") or record["memberId"]
    html = render_template(
        "tokenos/consent.html",
        lang=lang,
        t=TEXTS[lang],
        step=step,
        action=f"{request.script_root}{request.path}?lang={lang}",
        requester=requester,
        what=_describe(record, lang),
        description=payload.get("description"),
        ref_id=payload.get("refId"),
        banks=consent.banks,
        unavailable=[
            (bank, TEXTS[lang][f"bank_unavailable_{reason}"].format(**values))
            for bank, reason, values in consent.unavailable
        ],
        bank_fixed=bool(record["requestOptions"].get("bankId") or consent.source),
        payer_fixed=bool(record["requestOptions"].get("from") or {}),
        bank=consent.bank,
        email=email or (consent.payer.email if consent.payer else None),
        accounts=consent.accounts,
        transfer=record["kind"] != "ACCESS",
        error=error,
    )
    journal_note("consent_step", step)
    return Response(html, status=status, mimetype="text/html")


def _error_page(message: str, lang: str, status: int, detail: str | None = None) -> Response:
    html = render_template(
        "tokenos/error.html", lang=lang, t=TEXTS[lang], message=message, detail=detail
    )
    return Response(html, status=status, mimetype="text/html")


def _unusable(failure: TokenOSError, lang: str) -> Response:
    """The page for a request that cannot be answered: unknown, expired or already answered."""
    texts = TEXTS[lang]
    if isinstance(failure, RequestAnswered):
        return _error_page(texts["answered_request"], lang, 410, failure.detail)
    if isinstance(failure, RequestExpired):
        return _error_page(texts["expired_request"], lang, 410, failure.detail)
    if isinstance(failure, NotFound):
        return _error_page(texts["unknown_request"], lang, 404, failure.detail)
    return _error_page(failure.detail, lang, 410)


def _redirect(url: str) -> Response:
    # Built by hand so the already-encoded callback parameters reach the browser verbatim.
    response = Response(status=302)
    response.headers["Location"] = url
    response.autocorrect_location_header = False
    return response


@bp.route("/app/request-token/<request_id>", methods=["GET", "POST"])
@bp.route("/request-token/<request_id>", methods=["GET", "POST"])
@endpoint("consent")
def consent(request_id: str) -> Response:
    """The consent web app: bank, email, accounts, then approve or deny."""
    state, fixtures = _state()
    lang = pick_language(request.values.get("lang"))
    store, now = state.store, state.now()
    try:
        models.pending_request(store, request_id, now=now)
    except (NotFound, FailedPrecondition) as gone:
        return _unusable(gone, lang)
    form = request.form  # empty on GET
    decision = form.get("decision", "")
    if decision not in ("", "approve", "deny"):
        return _error_page("decision must be approve or deny", lang, 400)
    if decision == "deny":
        try:
            denied = models.deny(store, request_id, now=now)
        except RequestAnswered as raced:  # answered by a concurrent POST in the meantime
            return _unusable(raced, lang)
        journal_note("decision", "deny")
        return _redirect(denied)
    bank_id = form.get("bankId") or None
    email = (form.get("email") or "").strip() or None
    back = form.get("back", "")  # a step's way back: choose the bank or the email again
    if back == "bank":
        bank_id, decision = None, ""
    elif back == "email":
        email, decision = None, ""
    error: str | None = None
    found: models.Consent | None = None
    for _ in range(3):
        # Drop whichever input was wrong and show the step again with the first message.
        try:
            found = models.consent_state(
                store, request_id, fixtures, bank_id=bank_id, email=email, now=now
            )
            break
        except InvalidArgument as failure:
            error, bank_id = error or failure.detail, None
        except UnknownPayer:
            error, email = error or TEXTS[lang]["unknown_email"].format(email=email), None
        except (NotFound, FailedPrecondition) as gone:  # answered meanwhile by another POST
            return _unusable(gone, lang)
    if found is None:  # the request's own options no longer fit the fixtures
        return _error_page(error or "this request cannot be shown", lang, 400)
    if decision == "approve" and error is None:
        payer_key = privileged_key(found.payer.key_seed) if found.payer else None
        try:
            if payer_key is None:
                raise FailedPrecondition("enter the payer's email before approving")
            url = models.approve(
                store,
                request_id,
                found,
                form.getlist("accountId"),
                token_key=privileged_key(fixtures.token_key_seed),
                token_member_id=fixtures.token_member_id,
                payer_key=payer_key,
                now=now,
                rng=state.token_bytes,
            )
        except RequestAnswered as raced:
            return _unusable(raced, lang)
        except TokenOSError as failure:
            error = failure.detail
        else:
            journal_note("decision", "approve")
            return _redirect(url)
    status = 400 if error else 200
    return _consent_page(found, request_id, lang, email=email, error=error, status=status)
