"""Account information: accounts, balances, transactions, destinations, standing orders."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from mockbank.providers.tokenos import models
from mockbank.providers.tokenos.errors import InvalidArgument, NotFound, PermissionDenied
from mockbank.providers.tokenos.models.standing_orders import account_standing_orders
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


@bp.get("/accounts")
@endpoint("accounts")
def accounts() -> Response:
    """The accounts an access token (or the caller) can see."""
    state, fixtures = provider_state()
    caller = authenticate()
    grant = caller_grant(state, caller)
    found = models.visible_accounts(state.store, caller.id, grant, now=state.now())
    if grant is not None and not found:
        raise PermissionDenied("the access token grants no account information")
    return jsonify({"accounts": [models.account_proto(a, fixtures) for a in found]})


@bp.get("/accounts/<account_id>")
@endpoint("account")
def account(account_id: str) -> Response:
    """One account."""
    state, fixtures = provider_state()
    caller = authenticate()
    found = models.checked_account(
        state.store, caller.id, caller_grant(state, caller), account_id, "account", now=state.now()
    )
    return jsonify({"account": models.account_proto(found, fixtures)})


def _customer_initiated() -> bool:
    return request.headers.get("customer-initiated", "").strip().lower() == "true"


def _balance(
    state: State, fixtures: models.Fixtures, caller: Caller, account_id: str
) -> dict[str, Any]:
    found = models.checked_account(
        state.store, caller.id, caller_grant(state, caller), account_id, "balance", now=state.now()
    )
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
    caller = authenticate()
    found = models.checked_account(
        state.store,
        caller.id,
        caller_grant(state, caller),
        account_id,
        "transactions",
        now=state.now(),
    )
    return jsonify(
        models.transactions_page(
            state.store,
            found,
            arg("offset"),
            arg("limit"),
            arg("startDate"),
            arg("endDate"),
            state.seeded_faker,
            now=state.now(),
        )
    )


@bp.get("/accounts/<account_id>/transaction/<transaction_id>")
@endpoint("transaction")
def transaction(account_id: str, transaction_id: str) -> Response:
    """One transaction."""
    state, _ = provider_state()
    caller = authenticate()
    found = models.checked_account(
        state.store,
        caller.id,
        caller_grant(state, caller),
        account_id,
        "transactions",
        now=state.now(),
    )
    for item in models.transactions(state.store, found, state.seeded_faker, now=state.now()):
        if item["id"] == transaction_id:
            return jsonify({"transaction": item, "status": "SUCCESSFUL_REQUEST"})
    raise NotFound(f"transaction {transaction_id} not found in {account_id}")


@bp.get("/accounts/<account_id>/transfer-destinations")
@endpoint("transfer-destinations")
def transfer_destinations(account_id: str) -> Response:
    """The account's payment details (IBAN, or sort code and account number)."""
    state, fixtures = provider_state()
    caller = authenticate()
    found = models.checked_account(
        state.store,
        caller.id,
        caller_grant(state, caller),
        account_id,
        "transferDestinations",
        now=state.now(),
    )
    return jsonify({"transferDestinations": models.transfer_destinations(found, fixtures)})


@bp.get("/accounts/<account_id>/standing-orders")
@endpoint("standing-orders")
def standing_orders(account_id: str) -> Response:
    """The account's standing orders (``page.offset``, ``page.limit``)."""
    state, _ = provider_state()
    caller = authenticate()
    models.checked_account(
        state.store,
        caller.id,
        caller_grant(state, caller),
        account_id,
        "standingOrders",
        now=state.now(),
    )
    return jsonify(
        models.standing_orders_page(
            state.store, account_id, arg("page.offset"), arg("page.limit"), now=state.now()
        )
    )


@bp.get("/accounts/<account_id>/standing-orders/<standing_order_id>")
@endpoint("standing-order")
def standing_order(account_id: str, standing_order_id: str) -> Response:
    """One standing order set up from the account."""
    state, _ = provider_state()
    caller = authenticate()
    models.checked_account(
        state.store,
        caller.id,
        caller_grant(state, caller),
        account_id,
        "standingOrders",
        now=state.now(),
    )
    for order in account_standing_orders(state.store, account_id, now=state.now()):
        if order["id"] == standing_order_id:
            return jsonify({"standingOrder": order, "status": "SUCCESSFUL_REQUEST"})
    raise NotFound(f"standing order {standing_order_id} not found in {account_id}")


@bp.put("/accounts/<account_id>/funds-confirmation")
@endpoint("funds-confirmation")
def funds_confirmation(account_id: str) -> Response:
    """Whether the account holds at least the amount."""
    state, fixtures = provider_state()
    caller = authenticate()
    grant = caller_grant(state, caller)
    store, now = state.store, state.now()
    try:
        found = models.checked_account(
            store, caller.id, grant, account_id, "fundsConfirmation", now=now
        )
    except PermissionDenied:
        # A balance grant answers the narrower yes/no question too.
        found = models.checked_account(store, caller.id, grant, account_id, "balance", now=now)
    available = models.confirm_funds(store, fixtures, found, request_body(), now=now)
    return jsonify({"fundsAvailable": available})
