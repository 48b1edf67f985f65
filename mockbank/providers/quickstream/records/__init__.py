"""What QuickWeb stores: the store namespaces, and one frozen record per stored kind.

Only the records know the stored shape (camelCase keys, as the state view shows them): every
record is built and read through ``to_value()``/``from_value()``. Amounts are kept as
QuickStream formats them (``100.00``); cards only masked (``424242...242``). The records live
in ``records.payments`` (transactions, payments, QuickVault accounts), ``records.sessions``
(tokens, sessions, registrations, recurring payments, counters) and ``records.invoices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NS_TOKEN = "quickstream.token"
NS_SESSION = "quickstream.session"
NS_PAYMENT = "quickstream.payment"
NS_VAULT = "quickstream.vault"
NS_COUNTER = "quickstream.counter"
NS_RECURRING = "quickstream.recurring"
NS_INVOICE = "quickstream.invoice"

# The paid account's fields, the one list every output takes them from (the transaction,
# QuickVault, the passback, the notification, the registration fields, the emailed receipt).
CARD_FIELDS = (
    "cardholderName",
    "maskedCardNumber",
    "cardScheme",
    "expiryDateMonth",
    "expiryDateYear",
)
BANK_FIELDS = ("accountName", "bsb", "maskedAccountNumber")
# A completed payment's outcome, as a recurring setup's ``firstPayment`` carries it.
OUTCOME_FIELDS = (
    "receiptNumber",
    "principalAmount",
    "surchargeAmount",
    "paymentAmount",
    "responseCode",
    "responseDescription",
    "summaryCode",
    "createdDateTime",
)


def optional_text(value: Mapping[str, Any], name: str) -> str | None:
    """A stored optional field as text (None when absent)."""
    found = value.get(name)
    return None if found is None else str(found)
