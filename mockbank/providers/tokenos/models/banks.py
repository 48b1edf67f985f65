"""The model banks directory: filters and paging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbank.providers.tokenos.errors import InvalidArgument
from mockbank.providers.tokenos.models.common import FEATURES, positive_int
from mockbank.providers.tokenos.models.fixtures import Fixtures


def list_banks(fixtures: Fixtures, args: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /banks`` with ids, search, country, provider, bank_features and paging."""
    # Filters combine with AND, as the SDK's getBanks options do.
    banks = list(fixtures.banks.values())
    ids = [i for i in args.get("ids", []) if i]
    if ids:
        banks = [b for b in banks if b.id in ids]
    search = (args.get("search") or [""])[0].strip().lower()
    if search:
        banks = [b for b in banks if search in b.name.lower() or search in b.id.lower()]
    for name in ("country", "provider"):
        wanted = (args.get(name) or [""])[0].strip().lower()
        if wanted:
            banks = [b for b in banks if getattr(b, name).lower() == wanted]
    # Repeatable any-of filters (SDK getBanks options `countries`, `supportedPaymentNetworks`).
    countries = {c.strip().upper() for c in args.get("countries", []) if c.strip()}
    if countries:
        banks = [b for b in banks if b.country.upper() in countries]
    networks = {n.strip().upper() for n in args.get("supportedPaymentNetworks", []) if n.strip()}
    if networks:
        banks = [
            b for b in banks if networks & set(b.to_proto()["supportedTransferDestinationTypes"])
        ]
    destination = (args.get("destinationCountry") or [""])[0].strip().upper()
    if destination:
        banks = [b for b in banks if b.country == destination]
    for name, values in args.items():
        if not name.startswith("bank_features."):
            continue
        key = name.removeprefix("bank_features.").removesuffix(".value")
        if key not in FEATURES:
            raise InvalidArgument(
                f"unknown bank feature {key!r}; known: {', '.join(sorted(FEATURES))}"
            )
        flag = (values or [""])[0].lower()
        if flag not in ("true", "false"):
            raise InvalidArgument(f"{name} must be true or false")
        banks = [b for b in banks if b.features.get(FEATURES[key], False) == (flag == "true")]
    page = positive_int((args.get("page") or ["1"])[0], "page", default=1, limit=1_000_000)
    per_page = positive_int((args.get("perPage") or ["200"])[0], "perPage", default=200, limit=200)
    total = len(banks)
    chunk = banks[(page - 1) * per_page : page * per_page]
    return {
        "banks": [b.to_proto() for b in chunk],
        "paging": {
            "page": page,
            "perPage": per_page,
            "pageCount": max(1, -(-total // per_page)),
            "totalCount": total,
        },
    }


def list_countries(fixtures: Fixtures, args: Mapping[str, list[str]]) -> list[str]:
    """``GET /banks/countries``: the countries of the banks ``GET /banks`` lists for the same
    filters, sorted."""
    return sorted({b["country"] for b in list_banks(fixtures, args)["banks"]})
