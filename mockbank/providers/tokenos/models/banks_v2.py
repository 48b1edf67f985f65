"""The bank directory as the current API reference lists it: ``GET /v2/banks`` and
``GET /bank/countries``, derived from the same model banks as the SDK's ``GET /banks``.

What the v2 fields say about a model bank follows from its fixture flags (our rule): account
information flags from ``supportsInformation``, single and scheduled payments from
``supportsSendPayment``, VRP from ``supportsSendPayment`` at a GB bank, rails from the country
(GB: Faster Payments; elsewhere SEPA and SEPA Instant).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbank.providers.tokenos.errors import InvalidArgument
from mockbank.providers.tokenos.models.common import positive_int
from mockbank.providers.tokenos.models.fixtures import Bank, Fixtures

SORTS = ("NAME", "COUNTRY", "STANDARD", "RANK")
# GET /v2/banks boolean filters = BankV2 fields.
V2_FLAGS = (
    "supportsAccountList",
    "supportsAccountDetails",
    "supportsAccountBalance",
    "supportsTransactionList",
    "supportsTransactionDetails",
    "supportsStandingOrderList",
    "supportsTransactionsDateFilter",
    "requiresOneStepPayment",
    "supportsSinglePayment",
    "supportsScheduledPayment",
    "supportsStandingOrder",
    "supportsReturnRefundAccount",
    "supportsReturnRefundAccountHolderName",
    "supportsFundsConfirmation",
    "supportsVariableRecurringPayment",
)
# GET /bank/countries bank_features.<snake>.value = a BankV2 flag.
V1_FEATURES = {
    "supports_send_payment": "supportsSendPayment",
    "supports_receive_payment": "supportsReceivePayment",
    "supports_balance": "supportsAccountBalance",
    "supports_scheduled_payment": "supportsScheduledPayment",
    "supports_standing_order": "supportsStandingOrder",
    "requires_one_step_payment": "requiresOneStepPayment",
    "supports_funds_confirmation": "supportsFundsConfirmation",
    "supports_return_refund_account": "supportsReturnRefundAccount",
    "supports_transactions_date_filter": "supportsTransactionsDateFilter",
    "supports_account_information": "supportsAccountList",
    "supports_single_payment": "supportsSinglePayment",
    "supports_variable_recurring_payment": "supportsVariableRecurringPayment",
}


def local_instruments(bank: Bank) -> list[str]:
    """The rails a model bank pays on."""
    return ["FASTER_PAYMENTS"] if bank.country == "GB" else ["SEPA", "SEPA_INSTANT"]


def open_banking_standard(bank: Bank) -> str:
    """The API standard a model bank stands for."""
    return "UK_Open_Banking_Standard" if bank.country == "GB" else "NextGenPsd2"


def capabilities(bank: Bank) -> dict[str, bool]:
    """Every BankV2 boolean of a model bank."""
    info = bank.features.get("supportsInformation", False)
    send = bank.features.get("supportsSendPayment", False)
    flags = {
        "supportsAccountList": info,
        "supportsAccountDetails": info,
        "supportsAccountBalance": info,
        "supportsTransactionList": info,
        "supportsTransactionDetails": info,
        "supportsStandingOrderList": info,
        "supportsTransactionsDateFilter": info,
        "requiresOneStepPayment": False,
        "supportsSinglePayment": send,
        "supportsScheduledPayment": send or bank.features.get("supportsScheduledPayment", False),
        "supportsSendPayment": send,
        "supportsReceivePayment": bank.features.get("supportsReceivePayment", False),
        "supportsStandingOrder": send or bank.features.get("supportsStandingOrder", False),
        "supportsReturnRefundAccount": send,
        "supportsReturnRefundAccountHolderName": send,
        "supportsFundsConfirmation": info,
        "supportsVariableRecurringPayment": send and bank.country == "GB",
    }
    return flags


def bank_v2(bank: Bank) -> dict[str, Any]:
    """The OpenAPI's ``BankV2`` for a model bank."""
    return {
        "id": bank.id,
        "bic": bank.identifier,
        "name": bank.name,
        "logoUri": f"https://mockbank.invalid/tokenos/banks/{bank.id}.png",
        "countries": [bank.country],
        "openBankingStandard": open_banking_standard(bank),
        "supportedLocalInstruments": local_instruments(bank),
        "operationalTime": "MON to SUN, 00:00 to 24:00 UTC",
        "transactionHistoryLimit": -1,
        **capabilities(bank),
    }


def _many(args: Mapping[str, list[str]], name: str) -> set[str]:
    # Repeated parameters, and comma-separated values in one (both are common REST spellings).
    return {v.strip().upper() for raw in args.get(name, []) for v in raw.split(",") if v.strip()}


def _flag(value: str, name: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise InvalidArgument(f"{name} must be true or false", field=name)
    return value.lower() == "true"


def _search(bank: Bank, text: str) -> bool:
    needle = text.strip().lower()
    return not needle or any(needle in s.lower() for s in (bank.name, bank.id, bank.identifier))


def _filtered(fixtures: Fixtures, args: Mapping[str, list[str]]) -> list[Bank]:
    """Filters common to both calls: ids, search, countries, bics/bankCode, rails, standards."""
    first = {name: (values or [""])[0] for name, values in args.items()}
    ids = {i.lower() for i in _many(args, "ids")}
    countries = _many(args, "countries")
    bics = _many(args, "bics") | _many(args, "bankCode")
    rails = _many(args, "supportedLocalInstruments") | _many(args, "supportedPaymentNetworks")
    standards = {s.lower() for s in _many(args, "openBankingStandards")}
    providers = {p.lower() for p in _many(args, "providers")}
    banks = []
    for bank in fixtures.banks.values():
        checks = (
            not ids or bank.id.lower() in ids,
            _search(bank, first.get("search", "")),
            not countries or bank.country.upper() in countries,
            not bics or bank.identifier.upper() in bics,
            not rails or bool(rails & set(local_instruments(bank))),
            not standards or open_banking_standard(bank).lower() in standards,
            not providers or bank.provider.lower() in providers,
        )
        if all(checks):
            banks.append(bank)
    return banks


def list_banks_v2(fixtures: Fixtures, args: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /v2/banks``: filters (AND between parameters, any-of within one) and paging."""
    banks = _filtered(fixtures, args)
    for name in V2_FLAGS:
        if args.get(name):
            wanted = _flag(args[name][0], name)
            banks = [b for b in banks if capabilities(b)[name] == wanted]
    for name in ("bankGroup", "bankSubGroup"):
        if (args.get(name) or [""])[0].strip():
            banks = []  # the model banks belong to no banking group
    sort = (args.get("sort") or ["NAME"])[0].strip().upper() or "NAME"
    if sort not in SORTS:
        raise InvalidArgument(f"sort must be one of {', '.join(SORTS)}", field="sort")
    keys = {
        "NAME": lambda b: b.name.lower(),
        "COUNTRY": lambda b: (b.country, b.name.lower()),
        "STANDARD": lambda b: (open_banking_standard(b), b.name.lower()),
    }
    if sort in keys:  # RANK: the fixture order
        banks.sort(key=keys[sort])
    page = positive_int((args.get("page") or [""])[0], "page", default=1, limit=1_000_000)
    per_page = positive_int((args.get("perPage") or [""])[0], "perPage", default=200, limit=200)
    total = len(banks)
    return {
        "banks": [bank_v2(b) for b in banks[(page - 1) * per_page : page * per_page]],
        "paging": {
            "page": page,
            "perPage": per_page,
            "pageCount": max(1, -(-total // per_page)),
            "totalCount": total,
        },
    }


def bank_countries(fixtures: Fixtures, args: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /bank/countries``: the countries of the banks matching the reference's filters."""
    banks = _filtered(fixtures, args)
    for name, values in args.items():
        if not name.startswith("bank_features."):
            continue
        key = name.removeprefix("bank_features.").removesuffix(".value")
        if key not in V1_FEATURES:
            raise InvalidArgument(
                f"unknown bank feature {key!r}; known: {', '.join(sorted(V1_FEATURES))}"
            )
        wanted = _flag((values or [""])[0], name)
        banks = [b for b in banks if capabilities(b)[V1_FEATURES[key]] == wanted]
    return {"countries": sorted({b.country.upper() for b in banks})}
