"""QuickWeb's rules called directly (no HTTP): the session checks the views used to make, the
notification plan and its retry table, the page's submit dispatch, and the typed records."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

import pytest

from mockbank import create_app
from mockbank.clients.quickstream import verify_passback
from mockbank.providers.quickstream.errors import AlreadyProcessed, NotCompleted, SessionCheckFailed
from mockbank.providers.quickstream.models import paying, products
from mockbank.providers.quickstream.models import token_request as tokens
from mockbank.providers.quickstream.models.common import Facility, QuickStreamFixtures
from mockbank.providers.quickstream.records import (
    BANK_FIELDS,
    CARD_FIELDS,
    NS_COUNTER,
    NS_PAYMENT,
    NS_SESSION,
    NS_TOKEN,
    NS_VAULT,
)
from mockbank.providers.quickstream.records.payments import Payment, Transaction, VaultAccount
from mockbank.providers.quickstream.records.sessions import Counter, Registration, Session
from mockbank.state import State
from tests.quickstream.helpers import PAN_VISA, token_params

COUNTER = itertools.count()


def _fixtures(state: State) -> QuickStreamFixtures:
    fixtures: QuickStreamFixtures = state.fixtures["quickstream"]
    return fixtures


def _facility(state: State) -> Facility:
    facility = _fixtures(state).facility_by_username("merchant")
    assert facility is not None
    return facility


def _session(state: State, **overrides: str | None) -> tuple[str, Session]:
    """A token request and handoff through the models; returns (session id, session)."""
    values = {k: v for k, v in token_params(**overrides).items()}
    grant = tokens.issue_token(
        state.store,
        _facility(state),
        values,
        now=state.now(),
        new_token=lambda: f"token-{next(COUNTER)}",
    )
    return tokens.handoff(
        state.store,
        _fixtures(state),
        grant.token,
        "COMMUNITY1",
        now=state.now(),
        new_secret=lambda: f"secret-{next(COUNTER)}",
    )


def _card(csrf: str, number: str = PAN_VISA) -> dict[str, str]:
    return {
        "csrf": csrf,
        "paymentMethod": "card",
        "cardholderName": "Jane Citizen",
        "cardNumber": number,
        "expiryDateMonth": "12",
        "expiryDateYear": "2035",
        "cvn": "123",
    }


def _sent(
    state: State, session_id: str, session: Session, form: dict[str, str], token: str = "acct-1"
) -> paying.Submission:
    """The page's submit as the browser makes it: its cookie and the page's CSRF token."""
    return paying.Submission(
        session_id, form, session.csrf, session.binding, state.now(), lambda: token
    )


def _pay(state: State, session_id: str, session: Session) -> Transaction:
    return paying.pay(
        state.store, _facility(state), _sent(state, session_id, session, _card(session.csrf))
    )


# -- the passback's CSRF check (was in the view) ---------------------------------------------
def test_returning_session_needs_the_cookie_and_the_csrf_token(state: State) -> None:
    session_id, session = _session(state)
    now = state.now()
    back = tokens.returning_session(
        state.store, session_id, csrf=session.csrf, binding=session.binding, now=now
    )
    assert back == session
    with pytest.raises(SessionCheckFailed):
        tokens.returning_session(
            state.store, session_id, csrf="forged", binding=session.binding, now=now
        )
    with pytest.raises(SessionCheckFailed):
        tokens.returning_session(
            state.store, session_id, csrf=session.csrf, binding="other-browser", now=now
        )
    with pytest.raises(SessionCheckFailed):
        tokens.returning_session(state.store, session_id, csrf="", binding=session.binding, now=now)


def test_open_session_refuses_a_completed_one_and_a_forged_form(state: State) -> None:
    session_id, session = _session(state)
    with pytest.raises(SessionCheckFailed):
        tokens.open_session(
            state.store, session_id, csrf="forged", binding=session.binding, now=state.now()
        )
    _pay(state, session_id, session)
    with pytest.raises(AlreadyProcessed):
        tokens.open_session(
            state.store, session_id, csrf=session.csrf, binding=session.binding, now=state.now()
        )


def test_a_session_completes_exactly_once(state: State) -> None:
    session_id, session = _session(state)
    transaction = _pay(state, session_id, session)
    with pytest.raises(AlreadyProcessed):
        tokens.complete_session(state.store, session_id, transaction, now=state.now())
    assert len(state.store.records(NS_PAYMENT)) == 1


# -- the notification plan and its retry table (was in the view) ------------------------------
def test_notification_plan_carries_the_retry_table_and_the_failure_email(state: State) -> None:
    session_id, session = _session(
        state,
        serverReturnUrl="https://merchant.example/notify",
        errorEmailToAddress="ops@merchant.example",
    )
    transaction = _pay(state, session_id, session)
    session = tokens.load_session(state.store, session_id, now=state.now())
    planned = paying.plan_notification(_facility(state), session, transaction)
    assert planned is not None
    assert planned.url == "https://merchant.example/notify"
    assert planned.retry_delays == paying.NOTIFY_RETRY_DELAYS == (0.0, 10.0, 60.0)
    assert planned.error_email == "ops@merchant.example"
    receipt = transaction.receipt_number
    assert planned.label == f"notification for receipt {receipt}"
    assert receipt in planned.failure_subject
    assert f"after {len(paying.NOTIFY_RETRY_DELAYS)} attempts" in planned.failure_body
    assert f"{transaction.payment_amount} AUD" in planned.failure_body


def test_no_notification_without_a_server_return_url(state: State) -> None:
    session_id, session = _session(state)
    facility = replace(_facility(state), server_return_url=None)
    transaction = _pay(state, session_id, session)
    assert paying.plan_notification(facility, session, transaction) is None


def test_a_registration_notification_sends_no_failure_email(state: State) -> None:
    session_id, session = _session(
        state,
        product="QUICKVAULT",
        principalAmount=None,
        serverReturnUrl="https://merchant.example/notify",
        errorEmailToAddress="ops@merchant.example",
    )
    _, registration = products.submit(
        state.store,
        _fixtures(state),
        _sent(state, session_id, session, _card(session.csrf), "acct-9"),
    )
    assert isinstance(registration, Registration)
    session = tokens.load_session(state.store, session_id, now=state.now())
    planned = products.plan_registration_notification(_facility(state), session, registration)
    assert planned is not None
    assert planned.label == "notification for account acct-9"
    assert planned.failure_subject == ""
    assert planned.retry_delays == paying.NOTIFY_RETRY_DELAYS


# -- the page's submit: one model call whatever the page does ----------------------------------
def test_submit_pays_a_payment_page_and_registers_a_registration_page(state: State) -> None:
    session_id, session = _session(state)
    facility, paid = products.submit(
        state.store,
        _fixtures(state),
        _sent(state, session_id, session, _card(session.csrf), "unused"),
    )
    assert facility.username == "merchant"
    assert isinstance(paid, Transaction)
    assert paid.approved
    session_id, session = _session(state, product="QUICKVAULT", principalAmount=None)
    _, registered = products.submit(
        state.store,
        _fixtures(state),
        _sent(state, session_id, session, _card(session.csrf), "acct-2"),
    )
    assert isinstance(registered, Registration)
    assert registered.kind == "registration"
    assert [r.key for r in state.store.records(NS_VAULT)] == ["acct-2"]
    assert len(state.store.records(NS_PAYMENT)) == 1  # a registration takes no payment


# -- typed records: one shape, one field list ------------------------------------------------
def test_records_round_trip_through_their_stored_value(state: State) -> None:
    session_id, session = _session(state, registerPaymentAccount="true")
    transaction = _pay(state, session_id, session)
    assert transaction.account_token == "acct-1"
    stored = state.store.record(NS_SESSION, session_id)
    assert stored is not None
    session = Session.from_value(stored.value)
    assert session.completed == transaction
    assert Session.from_value(session.to_value()) == session
    payment = state.store.record(NS_PAYMENT, transaction.receipt_number)
    assert payment is not None
    assert Payment.from_value(payment.value).transaction == transaction
    vault = state.store.record(NS_VAULT, "acct-1")
    assert vault is not None
    account = VaultAccount.from_value(vault.value)
    assert account.account == transaction.account
    assert VaultAccount.from_value(account.to_value()) == account
    assert Transaction.from_value(transaction.to_value()) == transaction


def test_the_account_fields_come_from_one_list(state: State) -> None:
    session_id, session = _session(state, registerPaymentAccount="true")
    transaction = _pay(state, session_id, session)
    session = tokens.load_session(state.store, session_id, now=state.now())
    facility = _facility(state)
    passback = paying.passback_fields(facility, session, transaction)
    notified = dict(paying.notification_fields(session, transaction))
    vault = state.store.record(NS_VAULT, "acct-1")
    assert vault is not None
    for name in CARD_FIELDS:
        assert passback[name] == notified[name] == vault.value[name] == transaction.to_value()[name]
    assert not set(BANK_FIELDS) & set(passback)
    assert "424242...242" in paying.receipt_email_body(facility, session, transaction)


def test_a_bank_payment_keeps_the_bank_fields_only(state: State) -> None:
    session_id, session = _session(state)
    form = {
        "csrf": session.csrf,
        "paymentMethod": "bank",
        "accountName": "Jane Citizen",
        "bsb": "032000",
        "accountNumber": "12345678",
    }
    transaction = paying.pay(state.store, _facility(state), _sent(state, session_id, session, form))
    assert transaction.account.details() == {
        "accountName": "Jane Citizen",
        "bsb": "032-000",
        "maskedAccountNumber": "*****678",
    }
    value = transaction.to_value()
    assert not set(CARD_FIELDS) & set(value)
    assert isinstance(datetime.fromisoformat(value["createdAt"]), datetime)


# -- the passback and QuickConnect's refusal (were decided in the views) ----------------------
def test_passback_needs_a_completed_session_and_a_return_url(state: State) -> None:
    facility = _facility(state)
    session_id, session = _session(state, returnUrl="https://merchant.example/back")
    with pytest.raises(NotCompleted):
        products.passback(facility, session)
    _pay(state, session_id, session)
    session = tokens.load_session(state.store, session_id, now=state.now())
    url, fields = products.passback(facility, session)
    assert url == "https://merchant.example/back"
    assert verify_passback(fields, facility.passback_secret, rule=facility.passback_rule)
    session_id, session = _session(state, returnUrl=None)
    _pay(state, session_id, session)
    session = tokens.load_session(state.store, session_id, now=state.now())
    with pytest.raises(NotCompleted):
        products.passback(facility, session)


def test_quickconnect_refuses_bad_card_details_before_taking_the_token(state: State) -> None:
    values = token_params(connectionType="QUICKCONNECT", returnUrl="https://merchant.example/b")
    grant = tokens.issue_token(
        state.store, _facility(state), values, now=state.now(), new_token=lambda: "qc-token"
    )
    with pytest.raises(products.QuickConnectInvalid) as refused:
        products.quickconnect(
            state.store,
            _fixtures(state),
            grant.token,
            "COMMUNITY1",
            {**_card(""), "cvn": "1"},
            now=state.now(),
            new_secret=lambda: f"secret-{next(COUNTER)}",
            new_account_token=lambda: "unused",
        )
    assert refused.value.return_url == "https://merchant.example/b"
    assert refused.value.refused_fields() == {
        "summaryCode": "3",
        "responseDescription": "Invalid payment details",
        "errorFields": "cvn",
    }
    token = state.store.record(NS_TOKEN, "qc-token")
    assert token is not None
    assert not token.used


def _first_receipt_counter(seed: int, draws_before: int) -> int:
    app = create_app({"state_path": None, "seed": seed})
    state = app.extensions["mockbank"]
    for _ in range(draws_before):  # another provider, used first, draws ids
        state.random.random()
    state.provider("quickstream")  # seeded on first use
    counter = state.store.get(NS_COUNTER, "receipt", now=state.now())
    state.close()
    assert counter is not None
    return Counter.from_value(counter).next


def test_the_receipt_numbers_start_from_the_seed_whatever_was_used_first() -> None:
    assert _first_receipt_counter(7, 0) == _first_receipt_counter(7, 5)
    assert _first_receipt_counter(7, 0) != _first_receipt_counter(8, 0)
