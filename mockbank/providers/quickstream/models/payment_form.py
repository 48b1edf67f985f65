"""Cards, bank accounts and the payment page's form checks; the test-card outcome table."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mockbank.masking import luhn_valid, mask_cards
from mockbank.providers.quickstream.models.common import (
    APPROVED_RESPONSE,
    DECLINES,
    NAME_CONTROL_CHARS,
    Facility,
    SummaryCode,
    _digits,
    amount_problem,
    parse_amount,
    surcharge_cents,
    sydney,
)
from mockbank.providers.quickstream.records.payments import PaidAccount


# -- cards and bank accounts ---------------------------------------------------------------
def card_scheme(digits: str) -> str | None:
    """The card scheme from the number's leading digits (IIN ranges)."""
    if not _digits(digits) or len(digits) < 6:
        return None
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return "VISA"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "MASTERCARD"
    if two in (34, 37):
        return "AMEX"
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:
        return "DINERS"
    if 3528 <= four <= 3589:
        return "JCB"
    if two == 62:
        return "UPOP"
    return None


CARD_LENGTHS = {
    "VISA": (13, 16, 19),
    "MASTERCARD": (16,),
    "AMEX": (15,),
    "DINERS": (14, 15, 16, 17, 18, 19),
    "JCB": (16, 17, 18, 19),
    "UPOP": (16, 17, 18, 19),
}


def mask_card_number(digits: str) -> str:
    """QuickStream's mask: first six, ``...``, last three (``456471...004``)."""
    return f"{digits[:6]}...{digits[-3:]}"


def mask_account_number(digits: str) -> str:
    """All but the last three digits starred."""
    return "*" * (len(digits) - 3) + digits[-3:]


def masked_form(form: Mapping[str, str]) -> dict[str, str]:
    """The payment form with the card number, CVN, account number and CSRF token masked."""
    masked: dict[str, str] = {}
    for name, value in form.items():
        digits = re.sub(r"[^0-9]", "", value)
        if name == "cardNumber":
            masked[name] = mask_card_number(digits) if len(digits) >= 12 else "***"
        elif name == "accountNumber":
            masked[name] = mask_account_number(digits) if len(digits) >= 4 else "***"
        elif name in ("cvn", "csrf"):
            masked[name] = "***"
        else:
            # A payer may type the card number into the wrong field (name, amount...).
            masked[name] = mask_cards(value)[:100]
    return masked


def card_outcome(digits: str) -> tuple[str, str, SummaryCode]:
    """(responseCode, responseDescription, summaryCode) from the last two digits."""
    decline = DECLINES.get(digits[-2:])
    if decline is None:
        return (*APPROVED_RESPONSE, SummaryCode.APPROVED)
    return (*decline, SummaryCode.DECLINED)


@dataclass
class PaymentForm:
    """What the payer submitted, checked; never holds the full card number after checking."""

    method: str  # "card" or "bank"
    principal: int
    surcharge: int = 0
    last_two: str = ""  # of the card number: the test outcome
    account: PaidAccount | None = None  # set once the card or bank account checks out

    @property
    def paid(self) -> PaidAccount:
        """The checked card or bank account, masked (only after a successful check)."""
        assert self.account is not None
        return self.account


class PaymentInvalid(Exception):
    """Inline validation errors by field name; the session stays open for another try."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# The payment page's fields in the order a person meets them (and tabs through them).
PAGE_FIELDS = (
    "amount",
    "paymentMethod",
    "cardholderName",
    "cardNumber",
    "expiryDateMonth",
    "expiryDateYear",
    "cvn",
    "accountName",
    "bsb",
    "accountNumber",
)


def errors_in_page_order(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Inline errors in the order of the fields on the page (the first one gets the focus)."""
    rank = {name: index for index, name in enumerate(PAGE_FIELDS)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank)))


# Never echoed back into the page after an error, so the payer has to type them again.
NOT_ECHOED = ("cardNumber", "cvn")


def focus_field(errors: Mapping[str, str], method: str) -> str | None:
    """Where the focus goes after inline errors: the first field to fix or to type again."""
    if not errors:
        return None
    retype = NOT_ECHOED if method == "card" else ()
    wanted = set(errors) | set(retype)
    return next((name for name in PAGE_FIELDS if name in wanted), None)


def custom_label(name: str) -> str:
    """``customPayeeName`` shown as ``Payee name``: the words of the name after ``custom``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9_]+", name.removeprefix("custom"))
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return (text[:1].upper() + text[1:]) if text else name


def allowed_methods(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Card, bank account, or both, per the token's accountType."""
    account_type = params.get("accountType")
    if account_type == "CREDIT_CARD":
        return ("card",)
    if account_type == "DIRECT_DEBIT":
        return ("bank",)
    return ("card", "bank")


def check_payment_form(
    facility: Facility, params: Mapping[str, Any], form: Mapping[str, str], *, now: datetime
) -> PaymentForm:
    """Validate the payment page's form: amount, card (Luhn, expiry, CVN) or bank account."""
    errors: dict[str, str] = {}
    methods = allowed_methods(params)
    method = form.get("paymentMethod") or methods[0]
    if method not in methods:
        errors["paymentMethod"] = "This payment method is not available for this payment."
        raise PaymentInvalid(errors)
    principal = parse_amount(params["principalAmount"]) if params.get("principalAmount") else None
    if principal is None:
        # A person may type the dollar sign; the token request's principalAmount may not.
        principal = parse_amount(form.get("amount", "").strip().removeprefix("$"))
        if principal is None:
            errors["amount"] = amount_problem(form.get("amount", ""))
    result = PaymentForm(method=method, principal=principal or 0)
    if method == "card":
        _check_card(facility, form, now, result, errors)
    else:
        _check_bank(form, result, errors)
    if errors:
        raise PaymentInvalid(errors)
    return result


def _check_card(
    facility: Facility,
    form: Mapping[str, str],
    now: datetime,
    result: PaymentForm,
    errors: dict[str, str],
) -> None:
    name = form.get("cardholderName", "").strip()
    if not name:
        errors["cardholderName"] = "Enter the name on the card."
    elif NAME_CONTROL_CHARS.search(name):
        # A name travels on in the passback, the notification and the emailed receipt.
        errors["cardholderName"] = "The name on the card must be one line of plain text."
    elif len(name) > 60:
        errors["cardholderName"] = "The name on the card must be at most 60 characters."
    digits = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    scheme = card_scheme(digits)
    if not digits:
        errors["cardNumber"] = "Enter the card number."
    elif not _digits(digits) or scheme is None or len(digits) not in CARD_LENGTHS[scheme]:
        errors["cardNumber"] = "This is not a valid card number."
    elif not luhn_valid(digits):
        errors["cardNumber"] = "This card number is not valid (check digit). Check the number."
    elif scheme not in facility.surcharges_bp:
        accepted = ", ".join(facility.surcharges_bp) or "none"
        errors["cardNumber"] = f"{scheme} cards are not accepted here (accepted: {accepted})."
    # A card is good to the end of its expiry month where QuickStream runs: Sydney, not UTC.
    today = sydney(now)
    month, year = form.get("expiryDateMonth", "").strip(), form.get("expiryDateYear", "").strip()
    if len(year) == 2 and _digits(year):
        year = "20" + year
    if not (_digits(month) and 1 <= int(month) <= 12):
        errors["expiryDateMonth"] = "Choose the expiry month."
    elif not (len(year) == 4 and _digits(year)):
        errors["expiryDateYear"] = "Choose the expiry year."
    elif (int(year), int(month)) < (today.year, today.month):
        errors["expiryDateYear"] = "This card has expired."
    elif int(year) > today.year + 20:
        errors["expiryDateYear"] = "The expiry year is too far in the future."
    cvn = form.get("cvn", "").strip()
    cvn_length = 4 if scheme == "AMEX" else 3
    if not (_digits(cvn) and len(cvn) == cvn_length):
        errors["cvn"] = f"Enter the {cvn_length}-digit security code (CVN)."
    if errors:
        return
    assert scheme is not None  # checked above; narrows the type
    result.account = PaidAccount(
        "card",
        cardholder_name=name,
        masked_card_number=mask_card_number(digits),
        card_scheme=scheme,
        expiry_month=f"{int(month):02d}",
        expiry_year=year,
    )
    result.last_two = digits[-2:]
    result.surcharge = surcharge_cents(result.principal, facility.surcharges_bp[scheme])


def _check_bank(form: Mapping[str, str], result: PaymentForm, errors: dict[str, str]) -> None:
    name = form.get("accountName", "").strip()
    if not name:
        errors["accountName"] = "Enter the account name."
    elif NAME_CONTROL_CHARS.search(name):
        errors["accountName"] = "The account name must be one line of plain text."
    elif len(name) > 32:
        errors["accountName"] = "The account name must be at most 32 characters."
    bsb = form.get("bsb", "").strip()
    if not re.fullmatch(r"[0-9]{3}-?[0-9]{3}", bsb):
        errors["bsb"] = "Enter a 6-digit BSB, such as 032-000."
    number = form.get("accountNumber", "").replace(" ", "")
    if not re.fullmatch(r"[0-9]{4,9}", number):
        errors["accountNumber"] = "Enter an account number of 4 to 9 digits."
    if errors:
        return
    digits = bsb.replace("-", "")
    result.account = PaidAccount(
        "bank",
        account_name=name,
        bsb=f"{digits[:3]}-{digits[3:]}",
        masked_account_number=mask_account_number(number),
    )
