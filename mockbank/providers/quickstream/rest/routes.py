"""The QuickStream REST API's views (``/quickstream/rest/v1``): parse, one model call, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request, url_for

from mockbank.hosts import external_base_url
from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.rest import wire
from mockbank.providers.quickstream.rest.admin import ApiKey, Fixtures, KeyType
from mockbank.providers.quickstream.rest.auth import authenticate
from mockbank.providers.quickstream.rest.errors import NotFound, invalid
from mockbank.providers.quickstream.rest.models import customers, idempotency, payments, tokens
from mockbank.providers.quickstream.rest.models.fields import parse_json
from mockbank.providers.quickstream.rest.records import Account, Customer, Transaction
from mockbank.routing import endpoint, journal_note
from mockbank.state import State, current_state

bp = Blueprint("rest", __name__, template_folder="templates")

SECRET = (KeyType.SECRET,)
PUBLISHABLE = (KeyType.PUBLISHABLE,)
EITHER = (KeyType.SECRET, KeyType.PUBLISHABLE)
ACCOUNT_NOT_FOUND = "The accountToken path parameter may be incorrect."


def _fixtures(state: State) -> Fixtures:
    fixtures: Fixtures = state.fixtures["quickstream"]
    return fixtures


def _caller(*allowed: KeyType) -> tuple[State, ApiKey, Facility]:
    state = current_state()
    key, facility = authenticate(_fixtures(state), request.headers.get("Authorization"), *allowed)
    journal_note("apiKey", key.name)
    return state, key, facility


def _base() -> str:
    return external_base_url() + url_for(".root").rstrip("/")


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict[str, Any]:
    return parse_json(request.get_data(cache=True), request.mimetype or None)


def _keyed(
    state: State, facility: Facility, data: dict[str, Any], run: Callable[[], idempotency.Answer]
) -> Response:
    """Run a creating POST, once per Idempotency-Key when the header is sent."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        status, body, _ = run()
        return _json(body, status)
    idempotency.check_key(key)
    journal_note("idempotencyKey", key)
    print_ = idempotency.fingerprint(request.method, request.path, data)
    status, body = idempotency.run_once(
        state.store, facility.username, key, print_, run, now=state.now
    )
    return _json(body, status)


def _page_args() -> tuple[int, int]:
    values = []
    for name, default, top in (
        ("pageNumber", 1, 1_000_000),
        ("pageSize", wire.PAGE_SIZE, wire.MAX_PAGE_SIZE),
    ):
        text = request.args.get(name, str(default))
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= top):
            raise invalid(name, text, f"{name} must be a whole number from 1 to {top}.")
        values.append(int(text))
    return values[0], values[1]


def _listing(items: list[dict[str, Any]], filters: dict[str, str]) -> Response:
    number, size = _page_args()
    query = urlencode({k: v for k, v in filters.items() if v})
    href = request.base_url + "?" + (query + "&" if query else "")
    return _json(wire.page(href, items, number, size))


@bp.get("", strict_slashes=False)
@bp.get("/")
@endpoint("rest-root")
def root() -> Response:
    """The root resource: links to everything else; both kinds of key."""
    _, key, facility = _caller(*EITHER)
    return _json(wire.root(_base(), facility, key))


@bp.post("/single-use-tokens")
@endpoint("rest-single-use-tokens")
def create_single_use_token() -> Response:
    """A single-use token from card or bank details (publishable key)."""
    state, _, facility = _caller(*PUBLISHABLE)
    token = tokens.create_token(
        state.store, facility, _body(), now=state.now(), new_id=lambda: state.token_hex(20)
    )
    surcharge = (
        facility.surcharges_bp.get(token.account.card.scheme) if token.account.card else None
    )
    journal_note("singleUseToken", token.token_id[:6])
    return _json(wire.single_use_token(_base(), token, surcharge), 201)


@bp.post("/transactions")
@endpoint("rest-transactions")
def create_transaction() -> Response:
    """Payment, pre-authorisation, capture, refund or void (secret key; Idempotency-Key)."""
    state, _, facility = _caller(*SECRET)
    data = _body()

    def run() -> idempotency.Answer:
        txn = payments.create_transaction(state.store, facility, data, now=state.now())
        journal_note("receiptNumber", txn.receipt_number)
        return 201, wire.transaction(_base(), facility, txn, state.now()), txn.receipt_number

    return _keyed(state, facility, data, run)


def _transactions(
    state: State, facility: Facility, filters: dict[str, str], shown: dict[str, str]
) -> Response:
    """A page of the facility's transactions matching `filters` (`shown` in the links)."""
    found = payments.list_transactions(state.store, facility, filters)
    now = state.now()
    return _listing([wire.transaction(_base(), facility, t, now) for t in found], shown)


def _transaction(state: State, facility: Facility, receipt_number: str) -> Transaction:
    txn = payments.get_transaction(state.store, facility, receipt_number)
    if txn is None:
        raise NotFound("The receiptNumber path parameter may be incorrect.")
    return txn


@bp.get("/transactions")
@endpoint("rest-transactions")
def list_transactions() -> Response:
    """This facility's transactions, newest first, paginated."""
    state, _, facility = _caller(*SECRET)
    names = ("transactionType", "customerReferenceNumber", "paymentReferenceNumber", "status")
    filters = {n: request.args.get(n, "") for n in names}
    return _transactions(state, facility, filters, filters)


@bp.get("/transactions/<receipt_number>")
@endpoint("rest-transaction")
def get_transaction(receipt_number: str) -> Response:
    """One transaction by receipt number."""
    state, _, facility = _caller(*SECRET)
    txn = _transaction(state, facility, receipt_number)
    return _json(wire.transaction(_base(), facility, txn, state.now()))


@bp.get("/transactions/<receipt_number>/refunds")
@endpoint("rest-transaction")
def list_refunds(receipt_number: str) -> Response:
    """The refunds of one transaction, newest first."""
    state, _, facility = _caller(*SECRET)
    _transaction(state, facility, receipt_number)
    filters = {"transactionType": "REFUND", "parentReceiptNumber": receipt_number}
    return _transactions(state, facility, filters, {})


def _customer(state: State, facility: Facility, customer_id: str) -> Customer:
    found = customers.get_customer(state.store, facility, customer_id)
    if found is None:
        raise NotFound("The customerId path parameter may be incorrect.")
    return found


def _account(state: State, facility: Facility, account_token: str) -> Account:
    found = customers.find_account(state.store, facility, account_token)
    if found is None:
        raise NotFound(ACCOUNT_NOT_FOUND)
    return found


@bp.post("/customers")
@endpoint("rest-customers")
def create_customer() -> Response:
    """A new customer (secret key; Idempotency-Key)."""
    state, _, facility = _caller(*SECRET)
    data = _body()

    def run() -> idempotency.Answer:
        made = customers.create_customer(
            state.store,
            facility,
            data,
            now=state.now(),
            new_id=lambda: str(state.random.randint(10**8, 10**9 - 1)),
        )
        return 201, wire.customer(_base(), made), None

    return _keyed(state, facility, data, run)


@bp.get("/customers")
@endpoint("rest-customers")
def list_customers() -> Response:
    """Customers, searchable by customerNumber, customerName and emailAddress."""
    state, _, facility = _caller(*SECRET)
    filters = {
        n: request.args.get(n, "") for n in ("customerNumber", "customerName", "emailAddress")
    }
    found = customers.list_customers(state.store, facility, filters)
    return _listing([wire.customer(_base(), c) for c in found], filters)


@bp.get("/customers/<customer_id>")
@endpoint("rest-customer")
def get_customer(customer_id: str) -> Response:
    """One customer."""
    state, _, facility = _caller(*SECRET)
    return _json(wire.customer(_base(), _customer(state, facility, customer_id)))


@bp.post("/customers/<customer_id>/accounts")
@endpoint("rest-accounts")
def register_account(customer_id: str) -> Response:
    """Register the account of a single-use token for the customer (QuickVault)."""
    state, _, facility = _caller(*SECRET)
    data = _body()

    def run() -> idempotency.Answer:
        made = customers.register_account(
            state.store,
            facility,
            customer_id,
            data,
            now=state.now(),
            new_token=lambda: state.token_hex(10),
        )
        journal_note("accountToken", made.account_token)
        return 201, wire.account(_base(), made), None

    return _keyed(state, facility, data, run)


@bp.get("/customers/<customer_id>/accounts")
@endpoint("rest-accounts")
def list_accounts(customer_id: str) -> Response:
    """The customer's accounts, most recently registered first."""
    state, _, facility = _caller(*SECRET)
    _customer(state, facility, customer_id)
    found = customers.accounts_of(state.store, facility, customer_id)
    return _listing([wire.account(_base(), a) for a in found], {})


@bp.get("/accounts/<account_token>")
@endpoint("rest-account")
def get_account(account_token: str) -> Response:
    """One QuickVault account."""
    state, _, facility = _caller(*SECRET)
    return _json(wire.account(_base(), _account(state, facility, account_token)))


@bp.delete("/accounts/<account_token>")
@bp.delete("/customers/<customer_id>/accounts/<account_token>")
@endpoint("rest-account")
def delete_account(account_token: str, customer_id: str | None = None) -> Response:
    """Remove an account from QuickVault; answers the account as it was."""
    state, _, facility = _caller(*SECRET)
    found = _account(state, facility, account_token)
    if customer_id is not None and found.customer_id != customer_id:
        raise NotFound(ACCOUNT_NOT_FOUND)
    deleted = customers.delete_account(state.store, facility, account_token)
    if deleted is None:
        raise NotFound(ACCOUNT_NOT_FOUND)
    return _json(wire.account(_base(), deleted))


def _business(facility: Facility, code: str) -> str:
    if code not in facility.supplier_business_codes:
        raise NotFound("The supplierBusinessCode path parameter may be incorrect.")
    return code


@bp.get("/businesses")
@endpoint("rest-businesses")
def list_businesses() -> Response:
    """The facility's businesses (supplier business codes)."""
    _, _, facility = _caller(*SECRET)
    items = [wire.business(_base(), facility, c) for c in facility.supplier_business_codes]
    return _listing(items, {})


@bp.get("/businesses/<code>")
@endpoint("rest-businesses")
def get_business(code: str) -> Response:
    """One business."""
    _, _, facility = _caller(*SECRET)
    return _json(wire.business(_base(), facility, _business(facility, code)))


@bp.get("/businesses/<code>/accepted-cards")
@endpoint("rest-businesses")
def accepted_cards(code: str) -> Response:
    """The card schemes the business accepts (either key)."""
    _, _, facility = _caller(*EITHER)
    return _json(wire.accepted_cards(_base(), facility, _business(facility, code)))


@bp.get("/businesses/<code>/card-surcharges")
@endpoint("rest-businesses")
def card_surcharges(code: str) -> Response:
    """The surcharge rate per scheme and card type (either key)."""
    _, _, facility = _caller(*EITHER)
    return _json(wire.card_surcharges(_base(), facility, _business(facility, code)))


@bp.post("/businesses/<code>/query-card-surcharge")
@endpoint("rest-businesses")
def query_card_surcharge(code: str) -> Response:
    """The surcharge rate for one card number (either key)."""
    _state, _, facility = _caller(*EITHER)
    _business(facility, code)
    scheme, rate = tokens.query_surcharge(facility, _body())
    return _json(
        {
            "cardScheme": wire.SCHEME_NAMES.get(scheme, scheme),
            "cardType": "CREDIT",
            "surchargePercentage": f"{rate / 100:.2f}",
        }
    )
