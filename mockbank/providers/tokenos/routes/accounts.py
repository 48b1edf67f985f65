"""Account information: accounts, balances, transactions, destinations, standing orders."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from mockbank.providers.tokenos.errors import InvalidArgument
from mockbank.providers.tokenos.models import accounts as account_models
from mockbank.providers.tokenos.models import accounts as accounts_rules
from mockbank.providers.tokenos.models import fixtures as fixtures_rules
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import (
    Caller,
    arg,
    authenticate,
    caller_grant,
    provider_state,
    request_body,
)
from mockbank.providers.tokenos.settings import settings
from mockbank.routing import endpoint
from mockbank.state import State


def _account(caller: Caller, account_id: str, resource: str) -> dict[str, Any]:
    """The account, if the caller (or its access token) may read `resource` of it."""
    state, _ = provider_state()
    grant = caller_grant(state, caller)
    return accounts_rules.checked_account(
        state.store, caller.id, grant, account_id, resource, now=state.now()
    )


@bp.get("/accounts")
@endpoint("accounts")
def accounts() -> Response:
    """The accounts an access token (or the caller) can see."""
    state, fixtures = provider_state()
    caller = authenticate()
    grant = caller_grant(state, caller)
    found = account_models.readable_accounts(state.store, caller.id, grant, now=state.now())
    return jsonify({"accounts": [accounts_rules.account_proto(a, fixtures) for a in found]})


@bp.get("/accounts/<account_id>")
@endpoint("account")
def account(account_id: str) -> Response:
    """One account."""
    _, fixtures = provider_state()
    found = _account(authenticate(), account_id, "account")
    return jsonify({"account": accounts_rules.account_proto(found, fixtures)})


def _customer_initiated() -> bool:
    return request.headers.get("customer-initiated", "").strip().lower() == "true"


def _balance(
    state: State, fixtures: fixtures_rules.Fixtures, caller: Caller, account_id: str
) -> dict[str, Any]:
    found = _account(caller, account_id, "balance")
    balance = accounts_rules.balance_view(
        state.store,
        fixtures,
        found,
        now=state.now(),
        customer_initiated=_customer_initiated(),
        cache_s=settings(state).balance_cache_s,
    )
    return {"balance": balance, "status": "SUCCESSFUL_REQUEST"}


@bp.get("/accounts/<account_id>/balance")
@endpoint("balance")
def balance(account_id: str) -> Response:
    """A balance; cached unless the call is customer-initiated."""
    state, fixtures = provider_state()
    return jsonify(_balance(state, fixtures, authenticate(), account_id))


@bp.get("/account-balance")
@endpoint("balances")
def balances() -> Response:
    """Several balances at once (``account_id`` repeated)."""
    state, fixtures = provider_state()
    caller = authenticate()
    ids = request.args.getlist("account_id")
    if not ids:
        raise InvalidArgument("name at least one account_id")
    return jsonify({"response": [_balance(state, fixtures, caller, i) for i in ids]})


@bp.get("/accounts/<account_id>/transactions")
@endpoint("transactions")
def transactions(account_id: str) -> Response:
    """A page of transactions, newest first."""
    state, _ = provider_state()
    found = _account(authenticate(), account_id, "transactions")
    window = (arg("offset"), arg("limit"), arg("startDate"), arg("endDate"))
    page = accounts_rules.transactions_page(
        state.store, found, *window, state.seeded_faker, now=state.now()
    )
    return jsonify(page)


@bp.get("/accounts/<account_id>/transaction/<transaction_id>")
@endpoint("transaction")
def transaction(account_id: str, transaction_id: str) -> Response:
    """One transaction."""
    state, _ = provider_state()
    found = _account(authenticate(), account_id, "transactions")
    item = account_models.find_transaction(
        state.store, found, transaction_id, state.seeded_faker, now=state.now()
    )
    return jsonify({"transaction": item, "status": "SUCCESSFUL_REQUEST"})


@bp.get("/accounts/<account_id>/transfer-destinations")
@endpoint("transfer-destinations")
def transfer_destinations(account_id: str) -> Response:
    """The account's payment details (IBAN, or sort code and account number)."""
    _, fixtures = provider_state()
    found = _account(authenticate(), account_id, "transferDestinations")
    return jsonify({"transferDestinations": accounts_rules.transfer_destinations(found, fixtures)})


@bp.get("/accounts/<account_id>/standing-orders")
@endpoint("standing-orders")
def standing_orders(account_id: str) -> Response:
    """The account's standing orders (``page.offset``, ``page.limit``)."""
    state, _ = provider_state()
    _account(authenticate(), account_id, "standingOrders")
    return jsonify(
        accounts_rules.standing_orders_page(
            state.store, account_id, arg("page.offset"), arg("page.limit"), now=state.now()
        )
    )


@bp.get("/accounts/<account_id>/standing-orders/<standing_order_id>")
@endpoint("standing-order")
def standing_order(account_id: str, standing_order_id: str) -> Response:
    """One standing order set up from the account."""
    state, _ = provider_state()
    _account(authenticate(), account_id, "standingOrders")
    order = account_models.find_standing_order(
        state.store, account_id, standing_order_id, now=state.now()
    )
    return jsonify({"standingOrder": order, "status": "SUCCESSFUL_REQUEST"})


@bp.put("/accounts/<account_id>/funds-confirmation")
@endpoint("funds-confirmation")
def funds_confirmation(account_id: str) -> Response:
    """Whether the account holds at least the amount."""
    state, fixtures = provider_state()
    caller = authenticate()
    store, now = state.store, state.now()
    grant = caller_grant(state, caller)
    found = account_models.funds_account(store, caller.id, grant, account_id, now=now)
    available = accounts_rules.confirm_funds(store, fixtures, found, request_body(), now=now)
    return jsonify({"fundsAvailable": available})
