"""Checking a v2 ``PaymentInitiation`` as the OpenAPI defines it, with the field paths it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mockbank.providers.tokenos.errors_v2 import (
    BankFeatureNotSupported,
    FieldExpected,
    FieldInvalid,
    FieldInvalidFormat,
)
from mockbank.providers.tokenos.models import v2_common as f
from mockbank.providers.tokenos.models.fixtures import Bank, Fixtures, PayerAccount

FLOW_TYPES = ("API_ONLY", "FULL_HOSTED_PAGES", "EMBEDDED_HOSTED_PAGES")
LOCAL_INSTRUMENTS = (
    "SEPA",
    "SEPA_INSTANT",
    "FASTER_PAYMENTS",
    "ELIXIR",
    "EU_DOMESTIC_NON_EURO",
    "EU_DOMESTIC_NON_EURO_INSTANT",
    "BANKGIRO",
    "PLUSGIRO",
    "AUTO_SELECT",
)
CHARGE_BEARERS = ("CRED", "DEBT", "SHAR", "SLEV")
# Account forms of CreditorInformation / DebtorInformation, by identifying field.
ACCOUNT_KEYS = ("iban", "sortCode", "virtualAccountId", "bban", "bankgiroNumber", "plusgiroNumber")
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
SORT_CODE = re.compile(r"^[0-9]{6}$")
ACCOUNT_NUMBER = re.compile(r"^[0-9]{8}$")
OPTIONAL_TEXT = (
    "remittanceInformationSecondary",
    "onBehalfOfId",
    "executionDate",
    "externalPsuReference",
)


@dataclass(frozen=True)
class Initiation:
    """A checked initiation: the values the model uses, and the cleaned JSON to echo back."""

    value: dict[str, Any]
    flow_type: str
    bank_id: str | None
    ref_id: str
    amount: Decimal
    currency: str
    settlement: bool  # the payee is a Token.io settlement account


def bank_rails(bank: Bank) -> tuple[str, ...]:
    """The local instruments a model bank pays with (GB: Faster Payments, else SEPA)."""
    if bank.country == "GB":
        return ("FASTER_PAYMENTS", "AUTO_SELECT")
    return ("SEPA", "SEPA_INSTANT", "AUTO_SELECT")


def payment_banks(fixtures: Fixtures, instrument: str, code: str) -> list[Bank]:
    """Banks that can make this payment: send payments, this rail, this currency."""
    return [
        b
        for b in fixtures.banks.values()
        if b.features.get("supportsSendPayment")
        and instrument in bank_rails(b)
        and b.currency == code
    ]


def check_bank(fixtures: Fixtures, bank_id: str, instrument: str, code: str) -> Bank:
    """The bank named by ``initiation.bankId``, able to make the payment."""
    bank = fixtures.banks.get(bank_id)
    if bank is None:
        raise FieldInvalid(
            f"initiation.bankId {bank_id!r} is not a bank; GET /banks lists them",
            paths=["initiation.bankId"],
        )
    extra = {"bankId": bank_id}
    if not bank.features.get("supportsSendPayment"):
        raise BankFeatureNotSupported(
            f"bank {bank_id} does not support payments", paths=["initiation.bankId"], extra=extra
        )
    if instrument not in bank_rails(bank):
        raise BankFeatureNotSupported(
            f"bank {bank_id} does not support {instrument}; it pays with "
            f"{', '.join(bank_rails(bank)[:-1])}",
            paths=["initiation.localInstrument"],
            extra=extra,
        )
    if code != bank.currency:
        raise FieldInvalid(
            f"bank {bank_id} pays in {bank.currency}, not {code}",
            paths=["initiation.amount.currency"],
        )
    return bank


def account(
    value: Any, path: str, instrument: str | None, *, name_required: bool
) -> dict[str, Any]:
    """A creditor or debtor: one account form (matching the rail) plus the owner's name."""
    party = f.obj(value, path)
    forms = [k for k in ACCOUNT_KEYS if party.get(k) not in (None, "")]
    if not forms:
        raise FieldExpected(
            f"{path} needs account details: iban (SEPA), sortCode and accountNumber "
            "(Faster Payments) or virtualAccountId (a settlement account)",
            paths=[f"{path}.iban"],
        )
    if len(forms) > 1:
        raise FieldInvalid(
            f"{path} has more than one account form: {', '.join(forms)}", paths=[path]
        )
    form = forms[0]
    _check_form(party, path, form, instrument)
    if name_required and form != "virtualAccountId":
        f.required_text(party.get("name"), f"{path}.name", limit=140)
    for key in ("name", "ultimateCreditorName", "ultimateDebtorName", "bankName", "bic"):
        f.text(party.get(key), f"{path}.{key}", required=False, limit=140)
    return party


def _check_form(party: dict[str, Any], path: str, form: str, instrument: str | None) -> None:
    if form == "iban":
        iban = f.required_text(party.get("iban"), f"{path}.iban", limit=34).replace(" ", "")
        if not IBAN.match(iban):
            raise FieldInvalidFormat(f"{path}.iban is not an IBAN", paths=[f"{path}.iban"])
        if instrument == "FASTER_PAYMENTS":
            raise FieldInvalid(
                f"{path}: FASTER_PAYMENTS needs sortCode and accountNumber", paths=[path]
            )
    elif form == "sortCode":
        sort_code = f.required_text(party.get("sortCode"), f"{path}.sortCode", limit=6)
        number = f.required_text(party.get("accountNumber"), f"{path}.accountNumber", limit=8)
        if not SORT_CODE.match(sort_code):
            raise FieldInvalidFormat(
                f"{path}.sortCode must be 6 digits", paths=[f"{path}.sortCode"]
            )
        if not ACCOUNT_NUMBER.match(number):
            raise FieldInvalidFormat(
                f"{path}.accountNumber must be 8 digits", paths=[f"{path}.accountNumber"]
            )
        if instrument in ("SEPA", "SEPA_INSTANT"):
            raise FieldInvalid(f"{path}: {instrument} needs an iban", paths=[f"{path}.iban"])
    else:
        f.required_text(party.get(form), f"{path}.{form}", limit=140)


def parse_initiation(body: Any, fixtures: Fixtures) -> Initiation:
    """``initiation`` of ``POST /v2/payments`` (a single immediate payment)."""
    init = f.obj(f.obj(body, "body").get("initiation"), "initiation")
    flow = f.enum(init.get("flowType"), "initiation.flowType", FLOW_TYPES)
    ref = f.ref_id(init.get("refId"), "initiation.refId")
    amount, code = f.money(init.get("amount"), "initiation.amount")
    instrument = f.enum(
        init.get("localInstrument"), "initiation.localInstrument", LOCAL_INSTRUMENTS
    )
    f.required_text(
        init.get("remittanceInformationPrimary"),
        "initiation.remittanceInformationPrimary",
        limit=140,
    )
    f.callback_url(init.get("callbackUrl"), "initiation.callbackUrl")
    f.text(init.get("callbackState"), "initiation.callbackState", required=False, limit=1000)
    for key in OPTIONAL_TEXT:
        f.text(init.get(key), f"initiation.{key}", required=False, limit=140)
    f.enum(init.get("chargeBearer"), "initiation.chargeBearer", CHARGE_BEARERS, required=False)
    for key in (
        "confirmFunds",
        "returnRefundAccount",
        "disableFutureDatedPaymentConversion",
        "returnTokenizedAccount",
    ):
        f.flag(init.get(key), f"initiation.{key}")
    f.obj(init.get("risk"), "initiation.risk", required=False)
    creditor = account(init.get("creditor"), "initiation.creditor", instrument, name_required=True)
    if init.get("debtor") is not None:
        account(init.get("debtor"), "initiation.debtor", instrument, name_required=True)
    bank_id = f.text(init.get("bankId"), "initiation.bankId", required=False, limit=100)
    if flow != "FULL_HOSTED_PAGES" and bank_id is None:
        raise FieldExpected(
            f"initiation.bankId is required with flowType {flow}", paths=["initiation.bankId"]
        )
    assert flow is not None  # enum() raised otherwise
    assert instrument is not None
    if bank_id is not None:
        check_bank(fixtures, bank_id, instrument, code)
    value = dict(init)
    value["amount"] = f.amount_view(amount, code)
    return Initiation(
        value, flow, bank_id, ref, amount, code, creditor.get("virtualAccountId") is not None
    )


def debtor_account(initiation: dict[str, Any], accounts: list[PayerAccount]) -> PayerAccount | None:
    """The payer account the initiation's debtor names, if it is one of `accounts`."""
    debtor = initiation.get("debtor") or {}
    wanted = str(debtor.get("iban") or "") or str(debtor.get("sortCode") or "") + str(
        debtor.get("accountNumber") or ""
    )
    return next((a for a in accounts if wanted and a.number == wanted), None)
