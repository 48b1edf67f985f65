"""A transfer's source named in the request itself (SDK ``setSource``), as the samples use it.

``transferBody.instructions.source = {account: {sepa: {iban}} | {iban: {iban}} |
{fasterPayments: {sortCode, accountNumber}} | {token: {accountId}}, bankId?}`` picks the payer's
account the way ``requestOptions.sourceAccountId`` does.
"""

from __future__ import annotations

from typing import Any

from mockbank.providers.tokenos.models.fixtures import Fixtures, PayerAccount


def _account_number(account: dict[str, Any]) -> str | None:
    for key in ("sepa", "iban"):
        iban = (account.get(key) or {}).get("iban") if isinstance(account.get(key), dict) else None
        if iban:
            return str(iban).replace(" ", "").upper()
    faster = account.get("fasterPayments")
    if isinstance(faster, dict) and faster.get("accountNumber"):
        return f"{faster.get('sortCode', '')}{faster['accountNumber']}".replace("-", "")
    return None


def instructed_source(fixtures: Fixtures, payload: dict[str, Any]) -> PayerAccount | None:
    """The seeded payer account the request's ``instructions.source`` names, if any."""
    body = payload.get("transferBody") or payload.get("standingOrderBody") or {}
    instructions = body.get("instructions") if isinstance(body, dict) else None
    source = (instructions or {}).get("source") if isinstance(instructions, dict) else None
    if not isinstance(source, dict) or not isinstance(source.get("account"), dict):
        return None
    account = source["account"]
    token = account.get("token")
    if isinstance(token, dict) and token.get("accountId"):
        return fixtures.payer_account(str(token["accountId"]))
    number = _account_number(account)
    if number is None:
        return None
    for payer in fixtures.payers:
        for candidate in payer.accounts:
            if candidate.number.replace(" ", "").upper() == number:
                return candidate
    return None


def instructed_bank(payload: dict[str, Any]) -> str | None:
    """``instructions.source.bankId``, if the request names one."""
    body = payload.get("transferBody") or payload.get("standingOrderBody") or {}
    instructions = body.get("instructions") if isinstance(body, dict) else None
    source = (instructions or {}).get("source") if isinstance(instructions, dict) else None
    bank = source.get("bankId") if isinstance(source, dict) else None
    return str(bank) if bank else None
