"""What the payer's pages decide: Token.io's Hosted Pages (bank choice) and the model bank's page.

Each function reads the payment or VRP consent, applies the payer's form, and answers what the
page does next (`PageAnswer`): show itself again (with an error), send the payer on to the
bank's page, back to the TPP's callback, or say the payment or consent is closed. The views
only render that. Every change made on the way is in `changes`, for the webhooks (the firm
steps still ahead of the final resource are the caller's to add, as after any read).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from mockbank.providers.tokenos.errors import TokenOSError
from mockbank.providers.tokenos.models import lifecycle, vrp
from mockbank.providers.tokenos.models import payment_initiation as initiation
from mockbank.providers.tokenos.models import payments_v2 as payments
from mockbank.providers.tokenos.models.fixtures import Fixtures, PayerAccount
from mockbank.providers.tokenos.models.lifecycle import StatusChange
from mockbank.providers.tokenos.records.payments_v2 import Payment
from mockbank.providers.tokenos.records.steps import Tracked
from mockbank.providers.tokenos.records.vrp import VrpConsent
from mockbank.store import Store

S = payments.S
T = TypeVar("T", bound=Tracked)
DECISIONS = ("approve", "deny")


class Next(StrEnum):
    """Where a page goes from here."""

    SHOW = "show"  # the page again; with `error`, answered 400
    BANK = "bank"  # on to the model bank's page
    CALLBACK = "callback"  # back to the TPP's callbackUrl
    CLOSED = "closed"  # nothing left to do here (410); `error` says why, else the status does


@dataclass(frozen=True)
class PageForm:
    """The payer's request: its method and the form fields the pages use."""

    method: str = "GET"
    decision: str = ""
    bank_id: str | None = None
    account_id: str | None = None

    @property
    def posted(self) -> bool:
        return self.method == "POST"


@dataclass(frozen=True)
class PageAnswer(Generic[T]):
    """What a payer's page does next, with the resource as it now is."""

    next: Next
    resource: T
    changes: tuple[StatusChange, ...]
    error: str | None = None
    note: tuple[str, str] | None = None  # what to note in the journal


class _Seen(Generic[T]):
    """The resource as the page last saw it and every change on the way."""

    def __init__(self, resource: T, changes: list[StatusChange]) -> None:
        self.resource = resource
        self.changes = list(changes)

    def moved(self, result: tuple[T, list[StatusChange]]) -> None:
        """After an action: the steps that were ahead before it, then what it changed."""
        self.changes.extend(lifecycle.upcoming(self.resource))
        self.resource, changes = result
        self.changes.extend(changes)

    def answer(
        self, next_: Next, error: str | None = None, note: tuple[str, str] | None = None
    ) -> PageAnswer[T]:
        return PageAnswer(next_, self.resource, tuple(self.changes), error, note)


def hosted_payment(
    store: Store, fixtures: Fixtures, payment_id: str, form: PageForm, *, now: datetime
) -> PageAnswer[Payment]:
    """Token.io's Hosted Pages for a payment: choose the bank (or leave), then the bank."""
    seen = _Seen(*lifecycle.load(store, payments.PAYMENTS, payment_id, now=now))
    payment = seen.resource
    if payment.status == S.PENDING_REDIRECT_AUTH:
        return seen.answer(Next.BANK)
    if payment.status != S.PENDING_REDIRECT_HP:
        return seen.answer(Next.CLOSED)
    if form.decision == "cancel":
        seen.moved(payments.choose_bank(store, payment_id, None, fixtures, now=now))
        return seen.answer(Next.CALLBACK)
    bank_id = payment.bank_id or form.bank_id
    if bank_id is None or (not form.posted and not payment.bank_id):
        return seen.answer(Next.SHOW)
    try:
        seen.moved(payments.choose_bank(store, payment_id, bank_id, fixtures, now=now))
    except TokenOSError as failure:
        return seen.answer(Next.SHOW, failure.detail)
    return seen.answer(Next.BANK, note=("bank", bank_id))


def _payer_account(payment: Payment, fixtures: Fixtures, form: PageForm) -> str | None:
    """The account the payer pays from: the one chosen, else the debtor's, else the first."""
    accounts = payments.payer_accounts(payment, fixtures)
    allowed = [a.id for a in accounts]
    if form.account_id is not None and form.account_id not in allowed:
        raise ValueError(f"{form.account_id} is not one of your accounts here")
    if form.decision == "approve" and form.account_id is None and allowed:
        preferred = initiation.debtor_account(payment.initiation, accounts)
        return preferred.id if preferred else allowed[0]
    return form.account_id


def bank_payment(
    store: Store,
    fixtures: Fixtures,
    payment_id: str,
    form: PageForm,
    settings: payments.Settings,
    *,
    now: datetime,
) -> PageAnswer[Payment]:
    """The model bank's page for a payment: the payer approves or declines, from an account."""
    seen = _Seen(*lifecycle.load(store, payments.PAYMENTS, payment_id, now=now))
    if seen.resource.status != S.PENDING_REDIRECT_AUTH:
        return seen.answer(Next.CLOSED)
    if not form.posted or form.decision not in DECISIONS:
        return seen.answer(Next.SHOW, "decision must be approve or deny" if form.posted else None)
    try:
        account_id = _payer_account(seen.resource, fixtures, form)
    except ValueError as bad:
        return seen.answer(Next.SHOW, str(bad))
    approve = form.decision == "approve"
    try:
        seen.moved(
            payments.payer_decision(store, payment_id, approve, account_id, settings, now=now)
        )
    except TokenOSError as failure:  # answered by a concurrent POST meanwhile
        return seen.answer(Next.CLOSED, failure.detail)
    return seen.answer(Next.CALLBACK, note=("decision", form.decision))


def hosted_consent(
    store: Store, fixtures: Fixtures, consent_id: str, form: PageForm, *, now: datetime
) -> PageAnswer[VrpConsent]:
    """Hosted Pages for a VRP consent without a bank: choose the bank (or leave)."""
    seen = _Seen(*lifecycle.load(store, vrp.CONSENTS, consent_id, now=now))
    if seen.resource.status == vrp.PENDING_REDIRECT_AUTH:
        return seen.answer(Next.BANK)
    if seen.resource.status != vrp.PENDING_MORE_INFO:
        return seen.answer(Next.CLOSED)
    if not form.posted or not (form.decision == "cancel" or form.bank_id):
        return seen.answer(Next.SHOW)
    bank_id = None if form.decision == "cancel" else form.bank_id
    try:
        seen.moved(vrp.choose_bank(store, consent_id, bank_id, fixtures, now=now))
    except TokenOSError as failure:
        return seen.answer(Next.SHOW, failure.detail)
    return seen.answer(Next.CALLBACK if seen.resource.status == vrp.REJECTED else Next.BANK)


def consent_accounts(consent: VrpConsent, fixtures: Fixtures) -> list[PayerAccount]:
    """The seeded payers' accounts at the consent's bank."""
    return [a for p in fixtures.payers for a in p.accounts if a.bank_id == consent.bank_id]


def bank_consent(
    store: Store, fixtures: Fixtures, consent_id: str, form: PageForm, *, now: datetime
) -> PageAnswer[VrpConsent]:
    """The model bank's page for a VRP consent: authorise or reject, from an account."""
    seen = _Seen(*lifecycle.load(store, vrp.CONSENTS, consent_id, now=now))
    if seen.resource.status != vrp.PENDING_REDIRECT_AUTH:
        return seen.answer(Next.CLOSED)
    allowed = [a.id for a in consent_accounts(seen.resource, fixtures)]
    account_id = form.account_id or (allowed[0] if allowed else None)
    if not form.posted or form.decision not in DECISIONS or account_id not in (None, *allowed):
        error = "choose one of your accounts and approve or deny" if form.posted else None
        return seen.answer(Next.SHOW, error)
    approve = form.decision == "approve"
    try:
        seen.moved(vrp.payer_decision(store, consent_id, approve, account_id, now=now))
    except TokenOSError as failure:
        return seen.answer(Next.CLOSED, failure.detail)
    return seen.answer(Next.CALLBACK)
