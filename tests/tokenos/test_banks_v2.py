"""``GET /v2/banks`` (filters, sorting, paging) and ``GET /bank/countries`` (by requests)."""

from __future__ import annotations

import pytest
import requests

from mockbank.testing import LiveServer


def _get(live: LiveServer, path: str) -> requests.Response:
    return requests.get(live.url_for("tokenos", path), timeout=5)


def _ids(live: LiveServer, query: str) -> list[str]:
    answer = _get(live, f"/v2/banks?{query}")
    assert answer.status_code == 200, answer.text
    return [b["id"] for b in answer.json()["banks"]]


def test_v2_bank_shape(live: LiveServer) -> None:
    body = _get(live, "/v2/banks?ids=wood").json()
    (wood,) = body["banks"]
    assert wood["id"] == "wood"
    assert wood["bic"] == "WOODGB2LXXX"
    assert wood["countries"] == ["GB"]
    assert wood["openBankingStandard"] == "UK_Open_Banking_Standard"
    assert wood["supportedLocalInstruments"] == ["FASTER_PAYMENTS"]
    assert wood["supportsSinglePayment"] is True
    assert wood["supportsVariableRecurringPayment"] is True
    assert body["paging"] == {"page": 1, "perPage": 200, "pageCount": 1, "totalCount": 1}


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("countries=DE&countries=GB", ["iron", "ob-modelo", "wood"], id="countries"),
        pytest.param("countries=de,fr", ["gold", "iron"], id="countries-comma"),
        pytest.param("search=wood", ["wood"], id="search-name"),
        pytest.param("search=IRONDE", ["iron"], id="search-bic"),
        pytest.param("bics=irondeffxxx", ["iron"], id="bics"),
        pytest.param(
            "supportedLocalInstruments=SEPA_INSTANT", ["ngp-cbi-05034", "gold", "iron"], id="rails"
        ),
        pytest.param("supportsSinglePayment=false", ["gold"], id="flag-false"),
        pytest.param("supportsVariableRecurringPayment=true", ["ob-modelo", "wood"], id="vrp"),
        pytest.param(
            "openBankingStandards=NextGenPsd2", ["ngp-cbi-05034", "gold", "iron"], id="standard"
        ),
        pytest.param("bankGroup=HSBC", [], id="group"),
        pytest.param(
            "sort=COUNTRY",
            ["iron", "gold", "ob-modelo", "wood", "ngp-cbi-05034"],
            id="sort-country",
        ),
        pytest.param(
            "sort=RANK", ["iron", "wood", "gold", "ngp-cbi-05034", "ob-modelo"], id="sort-rank"
        ),
        pytest.param("perPage=2&page=2", ["iron", "ob-modelo"], id="paging"),
        pytest.param("page=9", [], id="past-the-end"),
    ],
)
def test_v2_bank_filters(live: LiveServer, query: str, ids: list[str]) -> None:
    assert _ids(live, query) == ids


@pytest.mark.parametrize(
    "query", ["perPage=201", "page=0", "sort=SIZE", "supportsSinglePayment=yes"]
)
def test_bad_v2_bank_queries_are_400(live: LiveServer, query: str) -> None:
    answer = _get(live, f"/v2/banks?{query}")
    assert answer.status_code == 400
    assert answer.headers["token-error"] == "INVALID_ARGUMENT"
    # A v2 path: the current API's v2 envelope, with an errorCode.
    error = answer.json()["error"]
    assert error["errorCode"]
    assert error["message"]
    assert error["tokenTraceId"] == answer.headers["X-Request-Id"]


def test_bank_countries_with_the_references_filters(live: LiveServer) -> None:
    assert _get(live, "/bank/countries").json() == {"countries": ["DE", "FR", "GB", "IT"]}
    paying = _get(live, "/bank/countries?bank_features.supports_single_payment.value=true")
    assert paying.json() == {"countries": ["DE", "GB", "IT"]}
    assert _get(live, "/bank/countries?ids=gold&ids=wood").json() == {"countries": ["FR", "GB"]}
    assert _get(live, "/bank/countries?providers=FinAPI").json() == {"countries": ["FR"]}
    bad = _get(live, "/bank/countries?bank_features.supports_teleport.value=true")
    assert bad.status_code == 400
