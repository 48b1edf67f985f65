"""How a v2 payment moves: statuses, the model bank's magic amounts, and timed schedules.

Token.io's sandbox "mock bank" picks a payment's fate by ``amount.value`` (101 completed, 103
rejected, 104/106/112/117 declined, 105/110 processing, 108 insufficient funds, 116 rejected);
mockbank keeps those values and adds its own for the statuses that table leaves out. The
hundreds digit picks how the bank authenticates the payer in an API-only flow: 1NN redirect,
2NN embedded, 3NN decoupled (so 208 is "embedded, then insufficient funds"). Any amount that is
not in the table is a redirect payment that completes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from mockbank.providers.tokenos.records.steps import Step


class PaymentStatus(StrEnum):
    """The OpenAPI's ``PaymentStatus`` enum."""

    PENDING = "INITIATION_PENDING"
    PENDING_REDIRECT_AUTH = "INITIATION_PENDING_REDIRECT_AUTH"
    PENDING_REDIRECT_AUTH_VERIFICATION = "INITIATION_PENDING_REDIRECT_AUTH_VERIFICATION"
    PENDING_REDIRECT_HP = "INITIATION_PENDING_REDIRECT_HP"
    PENDING_REDIRECT_PBL = "INITIATION_PENDING_REDIRECT_PBL"
    PENDING_EMBEDDED_AUTH = "INITIATION_PENDING_EMBEDDED_AUTH"
    PENDING_EMBEDDED_AUTH_VERIFICATION = "INITIATION_PENDING_EMBEDDED_AUTH_VERIFICATION"
    PENDING_DECOUPLED_AUTH = "INITIATION_PENDING_DECOUPLED_AUTH"
    PENDING_REDEMPTION = "INITIATION_PENDING_REDEMPTION"
    PENDING_REDEMPTION_VERIFICATION = "INITIATION_PENDING_REDEMPTION_VERIFICATION"
    PROCESSING = "INITIATION_PROCESSING"
    COMPLETED = "INITIATION_COMPLETED"
    REJECTED = "INITIATION_REJECTED"
    REJECTED_INSUFFICIENT_FUNDS = "INITIATION_REJECTED_INSUFFICIENT_FUNDS"
    FAILED = "INITIATION_FAILED"
    DECLINED = "INITIATION_DECLINED"
    EXPIRED = "INITIATION_EXPIRED"
    NO_FINAL_STATUS_AVAILABLE = "INITIATION_NO_FINAL_STATUS_AVAILABLE"
    SETTLEMENT_IN_PROGRESS = "SETTLEMENT_IN_PROGRESS"
    SETTLEMENT_COMPLETED = "SETTLEMENT_COMPLETED"
    SETTLEMENT_INCOMPLETE = "SETTLEMENT_INCOMPLETE"
    CANCELED = "CANCELED"


S = PaymentStatus
FINAL = frozenset(
    {
        S.COMPLETED,
        S.REJECTED,
        S.REJECTED_INSUFFICIENT_FUNDS,
        S.FAILED,
        S.DECLINED,
        S.EXPIRED,
        S.NO_FINAL_STATUS_AVAILABLE,
        S.SETTLEMENT_COMPLETED,
        S.SETTLEMENT_INCOMPLETE,
        S.CANCELED,
    }
)
# What a refund needs: the payer's bank executed the payment.
COMPLETED_STATUSES = frozenset({S.COMPLETED, S.SETTLEMENT_IN_PROGRESS, S.SETTLEMENT_COMPLETED})
# The ISO 20022 code shown as bankPaymentStatus (our choice of the usual mapping).
BANK_STATUS = {
    S.PROCESSING: "ACSP",
    S.COMPLETED: "ACSC",
    S.SETTLEMENT_IN_PROGRESS: "ACSC",
    S.SETTLEMENT_COMPLETED: "ACCC",
    S.SETTLEMENT_INCOMPLETE: "ACSC",
    S.REJECTED: "RJCT",
    S.REJECTED_INSUFFICIENT_FUNDS: "RJCT",
    S.DECLINED: "CANC",
    S.CANCELED: "CANC",
    S.NO_FINAL_STATUS_AVAILABLE: "ACSP",
}


class Sca(StrEnum):
    """How the payer authenticates at the bank."""

    REDIRECT = "REDIRECT"
    EMBEDDED = "EMBEDDED"
    DECOUPLED = "DECOUPLED"


VERIFY_S = 1.0  # verification and redemption steps
PROCESSING_S = 4.0  # processing, until the bank's final answer
SLOW_BANK_S = 10.0  # the 1N02 "slow bank" answers after this
AUTH_TTL_S = 15 * 60.0  # unanswered authentication fails (Token.io's 15 minutes)
GIVE_UP_S = 30 * 24 * 3600.0  # Token.io stops polling after 30 days
EXPIRES_S = 15 * 60.0  # the bank never answers: INITIATION_EXPIRED
DECOUPLED_S = 10.0  # default: the payer approves on the phone after this
SETTLEMENT_S = 60.0  # default: the settlement account sees the money after this
SUCCESS, SLOW_BANK, TWO_STEP, SETTLEMENT_FAILS = 101, 102, 115, 114


@dataclass(frozen=True)
class Outcome:
    """The bank's answer for one magic value."""

    status: PaymentStatus
    reason: str
    processing: str | None = "processing"  # the INITIATION_PROCESSING reason, if it passes there
    after_s: float = PROCESSING_S


OUTCOMES: dict[int, Outcome] = {
    101: Outcome(S.COMPLETED, "success"),
    103: Outcome(S.REJECTED, "failure"),
    104: Outcome(S.DECLINED, "Error during payment redemption: PERMISSION_DENIED", None, 0),
    105: Outcome(S.NO_FINAL_STATUS_AVAILABLE, "no final status after 30 days", after_s=GIVE_UP_S),
    106: Outcome(S.DECLINED, "Payment initiation has been canceled.", None, 0),
    107: Outcome(S.FAILED, "UNAVAILABLE: HTTP connection to the bank failed"),
    108: Outcome(S.REJECTED_INSUFFICIENT_FUNDS, "Insufficient funds"),
    109: Outcome(S.EXPIRED, "The bank did not answer in time", after_s=EXPIRES_S),
    110: Outcome(
        S.NO_FINAL_STATUS_AVAILABLE, "no final status after 30 days", "initiated", GIVE_UP_S
    ),
    111: Outcome(S.CANCELED, "The payment has been canceled at the bank"),
    112: Outcome(S.DECLINED, "Payment initiation has been declined.", None, 0),
    113: Outcome(S.NO_FINAL_STATUS_AVAILABLE, "The bank gave no final status"),
    114: Outcome(S.COMPLETED, "success"),  # with a settlement account: SETTLEMENT_INCOMPLETE
    115: Outcome(S.COMPLETED, "success"),  # a 2-step bank: redemption states first
    116: Outcome(S.REJECTED, "Insufficient funds"),
    117: Outcome(S.DECLINED, "Permission denied", None, 0),
}


@dataclass(frozen=True)
class Scenario:
    """What the model bank will do with a payment of this amount."""

    sca: Sca
    code: int

    @property
    def outcome(self) -> Outcome:
        return OUTCOMES.get(self.code, OUTCOMES[SUCCESS])


def scenario(amount: Decimal) -> Scenario:
    """The scenario a payment amount selects (any other amount: redirect, completed)."""
    if amount == amount.to_integral_value() and 100 <= amount < 400:
        value = int(amount)
        code = 100 + value % 100
        if code in OUTCOMES or code == SLOW_BANK:
            return Scenario((Sca.REDIRECT, Sca.EMBEDDED, Sca.DECOUPLED)[value // 100 - 1], code)
    return Scenario(Sca.REDIRECT, SUCCESS)


def after_authorisation(
    at: float,
    found: Scenario,
    *,
    verification: PaymentStatus | None,
    settlement_s: float | None,
) -> list[Step]:
    """The steps from the payer's authorisation to the final status (and settlement)."""
    steps: list[Step] = []
    t = at
    if verification is not None:
        steps.append(Step(t, verification, "Token.io is verifying the authorisation with the bank"))
        t += VERIFY_S
    if found.code == TWO_STEP:
        steps.append(Step(t, S.PENDING_REDEMPTION, "The payment is ready for redemption"))
        steps.append(
            Step(t + VERIFY_S, S.PENDING_REDEMPTION_VERIFICATION, "The bank is redeeming it")
        )
        t += 2 * VERIFY_S
    outcome = found.outcome
    if outcome.processing is not None:
        steps.append(Step(t, S.PROCESSING, outcome.processing))
    final_at = t + (outcome.after_s if outcome.processing is not None else VERIFY_S)
    steps.append(Step(final_at, outcome.status, outcome.reason))
    if settlement_s is not None and outcome.status == S.COMPLETED:
        steps.append(
            Step(final_at + VERIFY_S, S.SETTLEMENT_IN_PROGRESS, "Waiting for the payee bank")
        )
        if found.code == SETTLEMENT_FAILS:
            steps.append(
                Step(final_at + settlement_s, S.SETTLEMENT_INCOMPLETE, "No matching payment")
            )
        else:
            steps.append(
                Step(final_at + settlement_s, S.SETTLEMENT_COMPLETED, "Matched in the account")
            )
    return steps


def magic_table() -> dict[str, Any]:
    """The table for ``/_mockbank/magic-values``."""
    return {
        "amounts": {
            str(code): {"status": o.status.value, "statusReasonInformation": o.reason}
            for code, o in OUTCOMES.items()
        }
        | {
            "102": {"status": "as 101, but the bank answers after 10 s (INITIATION_PENDING)"},
            "114": {
                "status": "INITIATION_COMPLETED; to a settlement account SETTLEMENT_INCOMPLETE"
            },
            "115": {"status": "INITIATION_COMPLETED through the redemption states (2-step bank)"},
        },
        "authentication_by_hundreds": {"1NN": "REDIRECT", "2NN": "EMBEDDED", "3NN": "DECOUPLED"},
        "other_amounts": "REDIRECT authentication, then INITIATION_COMPLETED",
        "seconds": {
            "verification_step": VERIFY_S,
            "processing": PROCESSING_S,
            "slow_bank": SLOW_BANK_S,
            "authentication_ttl": AUTH_TTL_S,
            "decoupled_approval_default": DECOUPLED_S,
            "settlement_default": SETTLEMENT_S,
            "expiry_109": EXPIRES_S,
            "no_final_status_105_110": GIVE_UP_S,
        },
        "embedded_one_time_password": "any 6 digits; 000000 is wrong (3 wrong: rejected)",
    }
