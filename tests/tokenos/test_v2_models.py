"""Unit tests of the v2 rules moved out of the views: the shared lifecycle, the payer's pages,
confirm-funds, a consent's VRPs, payment initiation, webhook publishing, and the typed records."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from mockbank.providers.tokenos import events
from mockbank.providers.tokenos.errors_v2 import (
    ConsentNotAuthorized,
    FieldNotUnique,
    InvalidStatus,
    PaymentNotFound,
    ResourceNotFound,
)
from mockbank.providers.tokenos.models import lifecycle, refunds, v2_operations, vrp
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_query as query
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models.fixtures import Fixtures
from mockbank.providers.tokenos.models.hosted_pages import (
    Next,
    PageForm,
    bank_consent,
    bank_payment,
    hosted_consent,
    hosted_payment,
)
from mockbank.providers.tokenos.records.payments_v2 import (
    NS_PAYMENT,
    NS_PAYMENT_REF,
    Payment,
    PaymentId,
    RefundHold,
)
from mockbank.providers.tokenos.records.refunds import (
    NS_REFUND,
    Refund,
    RefundReservation,
)
from mockbank.providers.tokenos.records.steps import NS_DUE, Due, RefId, Step
from mockbank.providers.tokenos.records.vrp import VrpConsent, VrpHold
from mockbank.providers.tokenos.records.webhooks import NS_EVENT, WebhookConfig, WebhookEvent
from mockbank.state import State
from tests.tokenos.helpers_v2 import consent_initiation, sepa_initiation

MEMBER = "m:tpp"
OTHER = "m:other"
SETTINGS = payments.Settings()


def _fixtures(state: State) -> Fixtures:
    fixtures: Fixtures = state.fixtures["tokenos"]
    return fixtures


def _payment(state: State, amount: str = "10.00", **extra: Any) -> Payment:
    body = {"initiation": sepa_initiation(amount, **extra)}
    init = initiation.parse_initiation(body, _fixtures(state))
    payment, _ = payments.create_payment(
        state.store,
        MEMBER,
        init,
        now=state.now(),
        rng=state.token_bytes,
        settings=SETTINGS,
        timeout=None,
    )
    return payment


def _consent(state: State, **extra: Any) -> VrpConsent:
    body = {"initiation": consent_initiation(**extra)}
    consent, _ = vrp.create_consent(
        state.store, MEMBER, body, _fixtures(state), now=state.now(), rng=state.token_bytes
    )
    return consent


def _stored(state: State, payment_id: str) -> Payment:
    return lifecycle.load(state.store, payments.PAYMENTS, payment_id, now=state.now())[0]


# -- records ---------------------------------------------------------------------------------
def test_every_v2_record_reads_back_what_it_stores() -> None:
    steps = (Step(1.0, "A", "a"), Step(2.0, "B", "b", firm=False))
    shared: dict[str, Any] = {
        "id": "x:1",
        "member_id": MEMBER,
        "initiation": {"refId": "r", "amount": {"value": "1.00", "currency": "EUR"}},
        "status": "S",
        "reason": "why",
        "created": 1.0,
        "updated": 2.0,
        "schedule": steps,
    }
    records: list[Any] = [
        Payment(
            **shared,
            flow_type="API_ONLY",
            sca="REDIRECT",
            code=101,
            bank_id="iron",
            payer_account="a:iron-checking",
            wrong_codes=1,
            refunds=(RefundHold("rf:1", "0.50", 9.0, None),),
        ),
        VrpConsent(
            **shared, start=0.0, end=None, bank_id=None, holds=(VrpHold("pm2:1", "1", 3.0, 4.0),)
        ),
        Refund(**shared),
        RefId(MEMBER, "r", "vrp-consent"),
        PaymentId("pm2:1", MEMBER),
        RefundReservation(),
        Due(5.0),
        WebhookConfig(MEMBER, "https://h.example", ("PAYMENT_STATUS_CHANGED",)),
        WebhookEvent(MEMBER, "PAYMENT_STATUS_CHANGED", "payment:x:S"),
        *steps,
    ]
    for record in records:
        assert type(record).from_value(record.to_value()) == record


def test_record_keys_and_wire_spelling() -> None:
    assert RefId(MEMBER, "r").key == f"{MEMBER}\nr"
    assert RefId(MEMBER, "r", "vrp-consent").key == f"vrp-consent:{MEMBER}\nr"
    assert WebhookEvent(MEMBER, "E", "k").key == f"{MEMBER}|E|k"
    config = WebhookConfig(MEMBER, "https://h.example", ("A", "B"))
    assert config.to_wire() == {"type": ["A", "B"], "url": "https://h.example"}


# -- lifecycle -------------------------------------------------------------------------------
def test_advance_applies_due_steps_in_order_and_reports_each(state: State) -> None:
    payment = _payment(state)
    at = state.now().timestamp()
    later = replace(payment, schedule=(Step(at + 2, "B", "b"), Step(at + 1, "A", "a")))
    moved, changes = lifecycle.advance(later, at + 1.5)
    assert moved.status == "A"
    assert moved.schedule == (Step(at + 2, "B", "b"),)
    assert [(c.kind, c.status, c.at) for c in changes] == [("payment", "A", at + 1)]
    assert lifecycle.advance(moved, at + 1.5) == (moved, [])


def test_a_refused_action_leaves_the_record_as_it_was(state: State) -> None:
    payment = _payment(state)
    before = state.store.get(NS_PAYMENT, payment.id, now=state.now())

    def refuse(p: Payment) -> Payment:
        lifecycle.require(p, "NOT_ITS_STATUS")
        return p  # pragma: no cover

    with pytest.raises(InvalidStatus, match="needs NOT_ITS_STATUS") as caught:
        lifecycle.transition(state.store, payments.PAYMENTS, payment.id, refuse, now=state.now())
    assert caught.value.extra == {"paymentId": payment.id}
    assert state.store.get(NS_PAYMENT, payment.id, now=state.now()) == before


def test_another_members_or_an_unknown_resource_is_not_found(state: State) -> None:
    payment = _payment(state)
    with pytest.raises(PaymentNotFound):
        lifecycle.owned(state.store, payments.PAYMENTS, OTHER, payment.id, now=state.now())
    with pytest.raises(ResourceNotFound):
        lifecycle.load(state.store, vrp.CONSENTS, "vc:nope", now=state.now())


def test_an_id_reserved_while_a_refund_is_checked_is_not_a_refund(state: State) -> None:
    state.store.add(NS_REFUND, "rf:held", RefundReservation().to_value(), now=state.now())
    with pytest.raises(ResourceNotFound, match="rf:held"):
        lifecycle.load(state.store, refunds.REFUNDS, "rf:held", now=state.now())


def test_a_ref_id_is_claimed_once(state: State) -> None:
    payments.claim_ref_id(state.store, MEMBER, "once", now=state.now())
    with pytest.raises(FieldNotUnique) as caught:
        payments.claim_ref_id(state.store, MEMBER, "once", now=state.now())
    assert caught.value.paths == ["initiation.refId"]
    payments.claim_ref_id(state.store, OTHER, "once", now=state.now())  # per member
    stored = state.store.get(NS_PAYMENT_REF, RefId(MEMBER, "once").key, now=state.now())
    assert stored is not None
    assert RefId.from_value(stored) == RefId(MEMBER, "once")


def test_fresh_id_skips_ids_already_taken(state: State) -> None:
    state.store.add("tokenos.test", "a", {}, now=state.now())
    ids = iter(["a", "b"])
    found = lifecycle.fresh_id(
        state.store, "tokenos.test", lambda: next(ids), lambda key: {"id": key}, now=state.now()
    )
    assert found == "b"
    assert state.store.get("tokenos.test", "b", now=state.now()) == {"id": "b"}


def test_sweep_applies_due_steps_unpolled_and_forgets_them(state: State) -> None:
    state.clock.freeze()
    payment = _payment(state, "301.00")  # decoupled
    assert payment.status == "INITIATION_PENDING_DECOUPLED_AUTH"
    assert v2_operations.sweep(state.store, now=state.now()) == []
    state.clock.advance(SETTINGS.decoupled_s + 60)
    changes = v2_operations.sweep(state.store, now=state.now())
    assert [c.status for c in changes][-1] == "INITIATION_COMPLETED"
    assert _stored(state, payment.id).status == "INITIATION_COMPLETED"
    assert state.store.get(NS_DUE, Due.key(NS_PAYMENT, payment.id), now=state.now()) is None
    assert v2_operations.sweep(state.store, now=state.now()) == []


def test_member_resources_are_the_members_newest_first_with_due_steps_applied(
    state: State,
) -> None:
    state.clock.freeze()
    first = _payment(state, "301.00")  # decoupled: approved on the phone later
    second = _payment(state)
    theirs = _payment(state)
    state.store.update(NS_PAYMENT, theirs.id, lambda v: v | {"memberId": OTHER}, now=state.now())
    state.store.add(NS_REFUND, "rf:held", RefundReservation().to_value(), now=state.now())
    state.clock.advance(SETTINGS.decoupled_s + 60)
    found = lifecycle.member_resources(state.store, payments.PAYMENTS, MEMBER, now=state.now())
    assert [p.id for p in found] == [second.id, first.id]
    assert found[1].status == "INITIATION_COMPLETED"
    assert lifecycle.stored(state.store, refunds.REFUNDS) == []
    summary = query.state_summary(state.store)
    assert [p["id"] for p in summary["paymentsV2"]] == [first.id, second.id, theirs.id]
    assert summary["paymentsV2"][2]["memberId"] == OTHER
    assert summary["paymentsV2"][0]["amount"] == {"value": "301.00", "currency": "EUR"}
    assert summary["refunds"] == []


# -- initiation, confirm funds, a consent's VRPs ---------------------------------------------
def test_a_vrp_consent_id_makes_an_initiation_a_vrp() -> None:
    assert v2_operations.is_vrp({"initiation": {"vrpConsentId": "vc:1"}})
    assert not v2_operations.is_vrp({"initiation": {"vrpConsentId": ""}})
    assert not v2_operations.is_vrp({"initiation": "x"})
    assert not v2_operations.is_vrp([])


def _authorised(state: State) -> VrpConsent:
    consent = _consent(state)
    store, now = state.store, state.now()
    vrp.payer_decision(store, consent.id, True, "a:wood-current", now=now)
    state.clock.advance(vrp.VERIFY_S)
    authorised = lifecycle.load(store, vrp.CONSENTS, consent.id, now=state.now())[0]
    assert authorised.status == vrp.AUTHORIZED
    return authorised


def test_confirm_funds_needs_an_authorised_consent_of_the_caller(state: State) -> None:
    store, fixtures = state.store, _fixtures(state)
    pending = _consent(state)
    with pytest.raises(ConsentNotAuthorized, match="PENDING_REDIRECT_AUTH"):
        v2_operations.confirm_funds(store, fixtures, MEMBER, pending.id, "1.00", now=state.now())
    consent = _authorised(state)
    with pytest.raises(ResourceNotFound) as caught:
        v2_operations.confirm_funds(store, fixtures, OTHER, consent.id, "1.00", now=state.now())
    assert caught.value.extra == {"vrpId": consent.id}
    assert v2_operations.confirm_funds(store, fixtures, MEMBER, consent.id, "1.00", now=state.now())
    assert not v2_operations.confirm_funds(
        store, fixtures, MEMBER, consent.id, "9999999.00", now=state.now()
    )


def test_consent_vrps_lists_only_that_consents_payments(state: State) -> None:
    consent = _authorised(state)
    _payment(state)  # a single immediate payment of the same member
    body = {
        "initiation": {
            "vrpConsentId": consent.id,
            "refId": "vrp-1",
            "remittanceInformationPrimary": "Sweep",
            "amount": {"value": "5.00", "currency": "GBP"},
        }
    }
    made, _ = v2_operations.initiate_payment(
        state.store,
        MEMBER,
        body,
        _fixtures(state),
        SETTINGS,
        timeout=None,
        now=state.now(),
        rng=state.token_bytes,
    )
    assert made.vrp_consent_id == consent.id
    chunk, info = v2_operations.consent_vrps(
        state.store, MEMBER, consent.id, {"limit": ["10"]}, now=state.now()
    )
    assert [p.id for p in chunk] == [made.id]
    assert info["haveMore"] is False
    with pytest.raises(ResourceNotFound):
        v2_operations.consent_vrps(
            state.store, OTHER, consent.id, {"limit": ["10"]}, now=state.now()
        )


def _completed(state: State) -> Payment:
    payment = _payment(state)
    bank_payment(
        state.store,
        _fixtures(state),
        payment.id,
        PageForm("POST", decision="approve"),
        SETTINGS,
        now=state.now(),
    )
    state.clock.advance(60)
    done = _stored(state, payment.id)
    assert done.status == "INITIATION_COMPLETED"
    return done


def test_a_payments_refunds_are_listed_only_for_its_owner(state: State) -> None:
    payment = _completed(state)
    body = {
        "initiation": {
            "refId": "rf-1",
            "amount": {"value": "2.00", "currency": "EUR"},
            "originalPaymentId": payment.id,
            "localInstrument": "SEPA",
            "description": "Returned book",
        }
    }
    refund, _ = refunds.create_refund(
        state.store, MEMBER, body, now=state.now(), rng=state.token_bytes
    )
    args = {"limit": ["10"]}
    chunk, _ = v2_operations.payment_refunds(state.store, MEMBER, payment.id, args, now=state.now())
    assert [r.id for r in chunk] == [refund.id]
    assert v2_operations.refund_payment(state.store, refund, now=state.now()) == _stored(
        state, payment.id
    )
    with pytest.raises(PaymentNotFound):
        v2_operations.payment_refunds(state.store, OTHER, payment.id, args, now=state.now())


# -- the payer's pages -----------------------------------------------------------------------
def _hosted(state: State) -> Payment:
    payment = _payment(state, flowType="FULL_HOSTED_PAGES", bankId=None)
    assert payment.status == "INITIATION_PENDING_REDIRECT_HP"
    return payment


def test_hosted_page_shows_the_bank_choice_then_sends_the_payer_to_the_bank(state: State) -> None:
    store, fixtures, payment = state.store, _fixtures(state), _hosted(state)
    shown = hosted_payment(store, fixtures, payment.id, PageForm(), now=state.now())
    assert (shown.next, shown.error) == (Next.SHOW, None)
    bad = hosted_payment(
        store, fixtures, payment.id, PageForm("POST", bank_id="nope"), now=state.now()
    )
    assert bad.next == Next.SHOW
    assert bad.error
    assert _stored(state, payment.id).status == "INITIATION_PENDING_REDIRECT_HP"
    chosen = hosted_payment(
        store, fixtures, payment.id, PageForm("POST", bank_id="iron"), now=state.now()
    )
    assert (chosen.next, chosen.note) == (Next.BANK, ("bank", "iron"))
    assert [c.status for c in chosen.changes] == ["INITIATION_PENDING_REDIRECT_AUTH"]
    again = hosted_payment(store, fixtures, payment.id, PageForm(), now=state.now())
    assert again.next == Next.BANK


def test_leaving_the_hosted_page_declines_and_returns_to_the_tpp(state: State) -> None:
    store, fixtures, payment = state.store, _fixtures(state), _hosted(state)
    left = hosted_payment(
        store, fixtures, payment.id, PageForm("POST", decision="cancel"), now=state.now()
    )
    assert left.next == Next.CALLBACK
    assert left.resource.status == "INITIATION_DECLINED"
    closed = hosted_payment(store, fixtures, payment.id, PageForm(), now=state.now())
    assert (closed.next, closed.error) == (Next.CLOSED, None)


def test_bank_page_checks_the_decision_and_the_account(state: State) -> None:
    store, fixtures = state.store, _fixtures(state)
    payment = _payment(state)  # API_ONLY at Iron Bank, waiting at the bank

    def post(**form: str) -> Any:
        return bank_payment(
            store, fixtures, payment.id, PageForm("POST", **form), SETTINGS, now=state.now()
        )

    shown = bank_payment(store, fixtures, payment.id, PageForm(), SETTINGS, now=state.now())
    assert (shown.next, shown.error) == (Next.SHOW, None)
    assert post(decision="maybe").error == "decision must be approve or deny"
    foreign = post(decision="approve", account_id="a:wood-current")
    assert (foreign.next, foreign.error) == (
        Next.SHOW,
        "a:wood-current is not one of your accounts here",
    )
    assert _stored(state, payment.id).status == "INITIATION_PENDING_REDIRECT_AUTH"
    approved = post(decision="approve")
    assert (approved.next, approved.note) == (Next.CALLBACK, ("decision", "approve"))
    assert approved.resource.payer_account == "a:iron-checking"  # the payer's first account
    assert post(decision="approve").next == Next.CLOSED


def test_bank_page_pays_from_the_debtor_account_the_initiation_names(state: State) -> None:
    payment = _payment(state, debtor={"iban": "DE02120300000000202051", "name": "Pat"})
    approved = bank_payment(
        state.store,
        _fixtures(state),
        payment.id,
        PageForm("POST", decision="approve"),
        SETTINGS,
        now=state.now(),
    )
    assert approved.resource.payer_account == "a:iron-savings"


def test_consent_pages_choose_the_bank_then_authorise_from_an_account(state: State) -> None:
    store, fixtures = state.store, _fixtures(state)
    consent = _consent(state, bankId=None)
    assert consent.status == vrp.PENDING_MORE_INFO
    shown = hosted_consent(store, fixtures, consent.id, PageForm("POST"), now=state.now())
    assert (shown.next, shown.error) == (Next.SHOW, None)
    chosen = hosted_consent(
        store, fixtures, consent.id, PageForm("POST", bank_id="wood"), now=state.now()
    )
    assert chosen.next == Next.BANK
    foreign = bank_consent(
        store,
        fixtures,
        consent.id,
        PageForm("POST", decision="approve", account_id="a:iron-checking"),
        now=state.now(),
    )
    assert foreign.error == "choose one of your accounts and approve or deny"
    approved = bank_consent(
        store, fixtures, consent.id, PageForm("POST", decision="approve"), now=state.now()
    )
    assert approved.next == Next.CALLBACK
    assert approved.resource.payer_account == "a:wood-current"
    assert approved.resource.status == vrp.PENDING_REDIRECT_AUTH_VERIFICATION


def test_leaving_the_consent_hosted_page_rejects_it(state: State) -> None:
    consent = _consent(state, bankId=None)
    left = hosted_consent(
        state.store,
        _fixtures(state),
        consent.id,
        PageForm("POST", decision="cancel"),
        now=state.now(),
    )
    assert (left.next, left.resource.status) == (Next.CALLBACK, vrp.REJECTED)


# -- webhooks --------------------------------------------------------------------------------
def test_each_status_change_is_published_once_at_its_moment(state: State) -> None:
    state.clock.freeze()
    now: datetime = state.now()
    events.set_config(
        state.store,
        MEMBER,
        {"config": {"url": "http://127.0.0.1:9/hook", "type": ["REFUND_STATUS_CHANGED"]}},
        now=now,
    )
    refund = Refund(
        id="rf:1",
        member_id=MEMBER,
        initiation={},
        status="INITIATION_PENDING",
        reason="Received",
        created=now.timestamp(),
        updated=now.timestamp(),
    )
    later = replace(refund, status="INITIATION_COMPLETED")
    changes = [
        lifecycle.change_of(refund, now.timestamp()),
        lifecycle.change_of(later, now.timestamp() + 30),
    ]
    notes = events.publish_changes(state, changes * 2, lambda c: {"refund": {"id": c.id}}, now=now)
    assert notes[:2] == ["refund rf:1 INITIATION_PENDING", "refund rf:1 INITIATION_COMPLETED"]
    messages = state.outbox.messages("tokenos")
    assert len(messages) == 2
    assert len(state.store.records(NS_EVENT)) == 2
    other = lifecycle.change_of(replace(refund, member_id=OTHER), now.timestamp())
    events.publish_changes(state, [other], lambda c: {}, now=now)  # not subscribed
    assert len(state.outbox.messages("tokenos")) == 2
