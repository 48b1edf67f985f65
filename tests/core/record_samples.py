"""Representative instances of every stored record kind, for the stored-shape golden test.

Each kind has a full sample (every optional field set, nested records, enums) and, where it has
optional fields, a minimal one (each left unset). `LEGACY` holds stored values an older version
wrote (keys missing, nulls) that must still read back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockbank.providers.centagate import records as centagate
from mockbank.providers.forter import records as forter
from mockbank.providers.quickstream.records import invoices as qs_invoices
from mockbank.providers.quickstream.records import payments as qs_payments
from mockbank.providers.quickstream.records import sessions as qs_sessions
from mockbank.providers.quickstream.rest import records as qs_rest
from mockbank.providers.syspay import records as syspay
from mockbank.providers.syspay.auth import LoginKind
from mockbank.providers.tokenos.records import accounts as to_accounts
from mockbank.providers.tokenos.records import blobs as to_blobs
from mockbank.providers.tokenos.records import members as to_members
from mockbank.providers.tokenos.records import nonces as to_nonces
from mockbank.providers.tokenos.records import payments_v2 as to_payments
from mockbank.providers.tokenos.records import refunds as to_refunds
from mockbank.providers.tokenos.records import standing_orders as to_so
from mockbank.providers.tokenos.records import steps as to_steps
from mockbank.providers.tokenos.records import token_requests as to_requests
from mockbank.providers.tokenos.records import tokens as to_tokens
from mockbank.providers.tokenos.records import vrp as to_vrp
from mockbank.providers.tokenos.records import webhooks as to_webhooks


def _name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _centagate() -> list[Any]:
    challenge = dict(
        otp_challenge="12345678",
        request_id="req-1",
        username="alice",
        dev_acc_id="dev-1",
        integration_key="ik",
        app_id="app",
        plain_text="dev-1|req-1|pay 10",
        details="pay 10",
        auth_token="tok",
        created_at="2026-01-01T00:00:00Z",
        expires_at="2026-01-01T00:05:00Z",
    )
    return [
        centagate.UserState("alice", centagate.Status.ACTIVE, 1767225600000),
        centagate.UserState("bob", centagate.Status.INACTIVE),
        centagate.DeviceState("dev-1", "alice", centagate.Status.ACTIVE, 2, True),
        centagate.DeviceState("dev-2", "bob", centagate.Status.INACTIVE),
        centagate.Challenge(**challenge, approved_at="2026-01-01T00:01:00Z"),
        centagate.Challenge(**challenge),
        centagate.Transaction(
            "req-1", "sign", "alice", "dev-1", "12345678", "pay 10", "10", "app", "2026-01-01"
        ),
        centagate.DeviceApproval("2026-01-01T00:01:00Z"),
    ]


def _forter() -> list[Any]:
    card = forter.StoredCard("4111111111111111", 12, 2030, "A Holder", "VISA", "ntok")
    return [
        forter.Alias("customer", "c-1"),
        card,
        forter.StoredCard("5555555555554444", 1, 2031, None, "MASTERCARD"),
        forter.TokenRecord(
            type=forter.TokenType.MULTI_USE,
            card=card,
            cvc="123",
            alias=forter.Alias("customer", "c-1"),
            extra={"note": "x"},
            used=True,
            upgraded_to="ftok-2",
            upgraded_from="ftok-0",
            created_at="2026-01-01T00:00:00Z",
        ),
        forter.TokenRecord(forter.TokenType.SINGLE_USE, None, None, None),
        forter.AliasRecord("ftok-1"),
    ]


def _paid_accounts() -> tuple[qs_payments.PaidAccount, qs_payments.PaidAccount]:
    card = qs_payments.PaidAccount(
        "card",
        cardholder_name="A Holder",
        masked_card_number="424242...242",
        card_scheme="VISA",
        expiry_month="12",
        expiry_year="30",
    )
    bank = qs_payments.PaidAccount(
        "bank", account_name="A Holder", bsb="032-000", masked_account_number="*****678"
    )
    return card, bank


def _qs_transactions() -> tuple[qs_payments.Transaction, qs_payments.Transaction]:
    card, bank = _paid_accounts()
    common: dict[str, Any] = dict(
        principal_amount="100.00",
        surcharge_amount="1.50",
        payment_amount="101.50",
        currency_code="AUD",
        response_code="08",
        response_description="Honour with identification",
        summary_code="0",
        created_date_time="01 Jan 2026 10:00",
        settlement_date="20260101",
        created_at="2026-01-01T00:00:00+00:00",
    )
    allocation = qs_payments.Allocation("INV-1", "100.00", "paid", "0.00")
    full = qs_payments.Transaction(
        "1001", card, **common, account_token="acct-1", allocations=(allocation,)
    )
    declined = qs_payments.Transaction("1002", bank, **{**common, "summary_code": "1"})
    return full, declined


def _qs_schedules() -> tuple[qs_sessions.Schedule, qs_sessions.Schedule]:
    count = qs_sessions.Schedule("CRN1", "MONTHLY", "2026-02-01", "NUMBER", number_of_payments=3)
    until = qs_sessions.Schedule(
        "CRN2", "WEEKLY", "2026-02-01", "DATE", final_payment_date="2026-06-01"
    )
    return count, until


def _quickstream() -> list[Any]:
    card, bank = _paid_accounts()
    full, declined = _qs_transactions()
    count, until = _qs_schedules()
    registration = qs_sessions.Registration("registration", card, "acct-1", "01 Jan 2026 10:00")
    recurring = qs_sessions.Registration(
        "recurring",
        bank,
        "acct-2",
        "01 Jan 2026 10:00",
        success_flag=False,
        schedule=count,
        regular_payment_amount="10.00",
        currency_code="AUD",
        first_payment=full.outcome(),
        schedule_id="S-1",
    )
    params = {"supplierBusinessCode": "SBC", "principalAmount": "100.00", "customA": "1"}
    return [
        qs_invoices.LineItem("Widget", 1000),
        qs_invoices.Invoice(
            "F1", "CRN1", "INV-1", "2026-02-01", 2000, 1000, (qs_invoices.LineItem("W", 2000),)
        ),
        qs_invoices.Invoice("F1", "CRN1", "INV-2", "2026-02-01", 2000, 0),
        card,
        bank,
        qs_payments.Allocation("INV-1", "100.00", "paid", "0.00"),
        full,
        declined,
        qs_payments.Payment(full, "F1", "C1", "SBC", "CRN1", "PR1", "abcdef", "S-1"),
        qs_payments.Payment(declined, "F1", "C1", "SBC", "CRN1", "PR1"),
        qs_payments.VaultAccount("acct-1", "F1", "CRN1", card, "2026-01-01T00:00:00+00:00"),
        qs_payments.VaultAccount("acct-2", "F1", "CRN1", bank, "2026-01-01T00:00:00+00:00"),
        qs_sessions.Counter(1001),
        qs_sessions.TokenRecord("F1", "C1", params, ("foo",)),
        qs_sessions.TokenRecord("F1", "C1", params),
        count,
        until,
        registration,
        recurring,
        qs_sessions.Session("F1", "C1", params, "csrf", "bind", "open", "abc"),
        qs_sessions.Session("F1", "C1", params, "csrf", "bind", "completed", "abc", full),
        qs_sessions.Session("F1", "C1", params, "csrf", "bind", "completed", "abc", recurring),
        qs_sessions.RecurringPayment("S-1", count, "acct-2", "10.00", "AUD", "F1", "CANCELLED", 2),
        qs_sessions.RecurringPayment("S-2", until, "acct-2", "10.00", "AUD", "F1"),
    ]


def _rest_accounts() -> tuple[qs_rest.PaymentAccount, qs_rest.PaymentAccount]:
    card = qs_rest.Card("424242...242", "4242", "VISA", "12", "30", "A Holder")
    return qs_rest.PaymentAccount(card=card), qs_rest.PaymentAccount(
        bank=qs_rest.BankAccount("A Holder", "032-000", "*****678")
    )


def _quickstream_rest() -> list[Any]:
    card, bank = _rest_accounts()
    base: dict[str, Any] = dict(
        receipt_number="R1",
        facility="F1",
        transaction_type=qs_rest.TransactionType.PAYMENT,
        status=qs_rest.Status.APPROVED,
        response_code="00",
        response_description="Approved or completed successfully",
        summary_code="0",
        supplier_business_code="SBC",
        currency="AUD",
        principal=10000,
        surcharge=150,
        account=card,
        created="2026-01-01T00:00:00+00:00",
        settles_at="2026-01-02T00:00:00+00:00",
        settlement_date="2026-01-02",
        transaction_time="2026-01-01T00:00:00+00:00",
    )
    return [
        card.card,
        bank.bank,
        card,
        bank,
        qs_rest.PaymentAccount(),
        qs_rest.SingleUseToken("sut-1", "F1", "SBC", card, "2026-01-01T00:00:00+00:00"),
        qs_rest.Customer("c-1", "F1", "CN1", "A Customer", "SBC", "a@b.c", "0400", "2026"),
        qs_rest.Customer("c-2", "F1", "CN2", "B Customer", "SBC", None, None, "2026"),
        qs_rest.Account("acct-1", "F1", "c-1", bank, True, "2026-01-01T00:00:00+00:00"),
        qs_rest.Transaction(**base),
        qs_rest.Transaction(
            **{
                **base,
                "transaction_type": qs_rest.TransactionType.REFUND,
                "status": qs_rest.Status.DECLINED,
                "account": bank,
            },
            customer_reference_number="CRN1",
            payment_reference_number="PRN1",
            comment="refund",
            eci="INTERNET",
            ip_address="127.0.0.1",
            account_token="acct-1",
            customer_id="c-1",
            parent_receipt_number="R0",
            refunded=100,
            captured=200,
            voided=True,
        ),
        qs_rest.IdempotencyEntry(
            "key-1", "F1", "fp", "2026", 201, {"receiptNumber": "R1", "nested": [1, 2]}, "R1"
        ),
        qs_rest.IdempotencyEntry("key-2", "F1", "fp", "2026"),
    ]


def _syspay() -> list[Any]:
    card = syspay.CreditCard("4111111111111111", "A Holder", 12, 2030)
    detokenizer = syspay.Detokenizer(
        "partner", (syspay.DetokenizeType.TEXT, syspay.DetokenizeType.IMAGE)
    )
    return [
        card,
        detokenizer,
        syspay.Detokenizer("other", ()),
        syspay.Token("1", "merchant", card, (detokenizer,), 1767225600),
        syspay.Token("2", "merchant", card, (), 1767225600),
        syspay.Redirect("r1", "1", "partner", syspay.DetokenizeType.TEXT, "viewer", "ref"),
        syspay.Redirect(
            "r2", "1", "merchant", syspay.DetokenizeType.IMAGE, "", "", LoginKind.MERCHANT
        ),
        syspay.Nonce("partner", LoginKind.PARTNER),
        syspay.Sequence(7),
    ]


def _tracked() -> dict[str, Any]:
    return dict(
        id="pm-1",
        member_id="m-1",
        initiation={"amount": {"value": "10.00", "currency": "GBP"}, "refId": "ref"},
        status="INITIATION_PROCESSING",
        reason="",
        created=1767225600.5,
        updated=1767225601.25,
    )


def _tokenos_v2() -> list[Any]:
    step = to_steps.Step(1767225610.0, "INITIATION_COMPLETED", "done")
    hold = to_payments.RefundHold("rf-1", "1.00", 1767225620.0, None)
    vrp_hold = to_vrp.VrpHold("pm-2", "2.00", 1767225600.0, 1767225660.0)
    return [
        step,
        to_steps.Step(1767225620.0, "INITIATION_REJECTED", "timeout", firm=False),
        to_steps.Due(1767225610.0),
        to_steps.RefId("m-1", "ref", "vrp-consent"),
        to_steps.RefId("m-1", "ref2"),
        hold,
        to_payments.RefundHold("rf-2", "2.00", None, 1767225630.0),
        to_payments.Payment(
            **_tracked(),
            schedule=(step,),
            flow_type="FULL_HOSTED_PAGES",
            sca="REDIRECT",
            code=0,
            bank_id="ngp-cbi",
            payer_account="acc-1",
            wrong_codes=1,
            vrp_consent_id="vc-1",
            refunds=(hold,),
        ),
        to_payments.Payment(
            **_tracked(), flow_type="API_ONLY", sca="EMBEDDED", code=3, bank_id=None
        ),
        to_payments.PaymentId("pm-3", "m-1"),
        to_refunds.Refund(**_tracked(), schedule=(step,)),
        to_refunds.Refund(**_tracked()),
        to_refunds.RefundReservation(),
        vrp_hold,
        to_vrp.VrpHold("pm-3", "3.00", 1767225600.0, None),
        to_vrp.VrpConsent(
            **_tracked(),
            schedule=(step,),
            start=1767225600.0,
            end=1769904000.0,
            bank_id="ngp-cbi",
            payer_account="acc-1",
            holds=(vrp_hold,),
        ),
        to_vrp.VrpConsent(**_tracked(), start=1767225600.0, end=None, bank_id=None),
    ]


def _transfer(transfer_id: str, outcome: str, executes: int | None = None) -> Any:
    return to_tokens.Transfer(
        transfer={"id": transfer_id},
        token_id="tt-1",
        to_member_id="m-2",
        from_member_id="m-1",
        source_account_id="a-1",
        created_at_ms=1767225600000,
        outcome=outcome,
        executes_at_ms=executes,
    )


def _tokenos() -> list[Any]:
    return [
        to_accounts.Account("a-1", "m-1", "ngp-cbi", "Main", "12345678", "GBP", Decimal("10.50")),
        to_accounts.History({"seed": 1, "anchorMs": 2, "count": 3}, ({"id": "t-1"},)),
        to_accounts.History({"seed": 1, "anchorMs": 2, "count": 3}),
        to_accounts.BalanceCache(Decimal("99.99"), 1767225600000),
        to_blobs.Blob("b-1", {"ownerId": "m-1", "type": "image/png", "data": "AA=="}),
        to_blobs.ProfilePicture("b-1"),
        to_members.Member(
            "m-1",
            "PERSONAL",
            ({"id": "k-1", "level": "PRIVILEGED"},),
            ({"hash": "h", "alias": {"type": "EMAIL", "value": "a@b.c"}},),
            "lh",
            {"displayNameFirst": "A"},
            {"primaryAgent": "m-0"},
        ),
        to_members.Member("m-2", "BUSINESS"),
        to_members.Alias("m-1", {"type": "EMAIL", "value": "a@b.c"}),
        to_nonces.Nonce(),
        to_so.Submission("s-1", "tt-1", "so-1", 1767225600000, {"amount": "1"}, "m-2", "m-1"),
        to_so.SubmissionOfToken("s-1"),
        to_requests.TokenRequest(
            "rq-1", "m-1", {"to": {"id": "m-1"}}, {"bankId": "b"}, 1767225600000, "TRANSFER"
        ),
        to_requests.RequestResult("PROCESSED", "tt-1", {"memberId": "m-0", "signature": "s"}),
        to_requests.RequestResult("REJECTED"),
        to_tokens.StoredToken(
            {"id": "tt-1", "payload": {}},
            "TRANSFER",
            "m-2",
            "m-1",
            1767225600000,
            (to_tokens.TokenTransfer(id="t-1", amount="1.00", created_at_ms=1, outcome="SUCCESS"),),
        ),
        to_tokens.StoredToken({"id": "tt-2"}, "ACCESS", "m-2", "m-1", 1767225600000),
        _transfer("t-1", "SUCCESS", 1767312000000),
        _transfer("t-2", "FAILURE"),
        to_tokens.TransferRef("t-1"),
        to_tokens.TokenTransfer(
            id="t-3",
            amount="2.00",
            created_at_ms=1767225600000,
            outcome="PROCESSING",
            executes_at_ms=1767312000000,
        ),
        to_tokens.TokenTransfer(
            id="t-4", amount="3.00", created_at_ms=1767225600000, outcome="SUCCESS"
        ),
        to_webhooks.WebhookConfig("m-1", "https://example.test/hook", ("PAYMENT_STATUS",)),
        to_webhooks.WebhookEvent("m-1", "PAYMENT_STATUS", "pm-1|COMPLETED"),
        *_tokenos_v2(),
    ]


def samples() -> dict[str, list[Any]]:
    """Every sample, by the kind's dotted name (module and class)."""
    found: dict[str, list[Any]] = {}
    for sample in _centagate() + _forter() + _quickstream() + _quickstream_rest():
        found.setdefault(_name(type(sample)), []).append(sample)
    for sample in _syspay() + _tokenos():
        found.setdefault(_name(type(sample)), []).append(sample)
    return found


def _without(value: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key not in names}


# Stored values an older version wrote: keys absent or null where a field has a default.
LEGACY: dict[str, list[dict[str, Any]]] = {
    _name(syspay.Redirect): [
        {
            "id": "r0",
            "token_id": "1",
            "partner": "p",
            "type": "TEXT",
            "viewer": "v",
            "company_reference": "c",
        }
    ],
    _name(centagate.UserState): [{"username": "u", "status": "active"}],
    _name(forter.TokenRecord): [
        {"type": "multi-use", "card": None, "alias": {}, "extra": None},
        {"type": "single-use", "cvc": "1", "used": None, "createdAt": None, "upgradedTo": None},
    ],
    _name(forter.StoredCard): [
        {"number": "4111", "expirationMonth": 1, "expirationYear": 2030, "brand": "VISA"}
    ],
    _name(qs_invoices.Invoice): [
        {
            "facility": "F",
            "customerReferenceNumber": "C",
            "invoiceNumber": "I",
            "dueDate": "d",
            "amount": 1,
            "outstanding": 1,
        }
    ],
    _name(qs_rest.PaymentAccount): [{"card": {}, "bank": None}, {}],
    _name(qs_rest.Customer): [
        {
            "id": "c",
            "facility": "F",
            "customerNumber": "N",
            "customerName": "n",
            "supplierBusinessCode": "S",
            "created": "2026",
        }
    ],
    _name(qs_sessions.TokenRecord): [{"facility": "F", "communityCode": "C", "params": {}}],
    _name(qs_sessions.RecurringPayment): [
        {
            "scheduleId": "S",
            "customerReferenceNumber": "C",
            "frequency": "WEEKLY",
            "firstPaymentDate": "d",
            "scheduleType": "NUMBER",
            "numberOfPayments": 2,
            "accountToken": "a",
            "regularPaymentAmount": "1.00",
            "currencyCode": "AUD",
            "facility": "F",
        }
    ],
    _name(qs_payments.Payment): [
        _without(_quickstream()[9].to_value(), "paymentReference", "session")
    ],
    _name(qs_sessions.Registration): [_without(_quickstream()[17].to_value(), "successFlag")],
    _name(to_steps.Step): [{"at": 1, "status": "S", "reason": "r"}],
    _name(to_steps.RefId): [{"memberId": "m", "refId": "r"}],
    _name(to_members.Member): [
        {"id": "m", "type": "PERSONAL", "keys": None, "lastHash": None, "profile": None}
    ],
    _name(to_accounts.History): [{}, {"recipe": None, "items": None}],
    _name(to_tokens.StoredToken): [
        {
            "token": {},
            "type": "TRANSFER",
            "toMemberId": "a",
            "fromMemberId": "b",
            "createdAtMs": "1",
        }
    ],
}
