"""TokenOS ``GET /banks`` and ``GET /banks/countries`` as the SDK 1.0.57 calls them."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("", ["iron", "wood", "gold", "ngp-cbi-05034", "ob-modelo"], id="all"),
        pytest.param("ids=wood&ids=gold", ["wood", "gold"], id="ids"),
        pytest.param("search=wood", ["wood"], id="search-name"),
        pytest.param(
            "search=BANK",
            ["iron", "wood", "gold", "ob-modelo"],
            id="search-case-insensitive",
        ),
        pytest.param("country=gb", ["wood", "ob-modelo"], id="country"),
        pytest.param("countries=GB&countries=fr&", ["wood", "gold", "ob-modelo"], id="countries"),
        pytest.param(
            "supportedPaymentNetworks=SEPA", ["iron", "gold", "ngp-cbi-05034"], id="payment-network"
        ),
        pytest.param(
            "supportedPaymentNetworks=FASTER_PAYMENTS&countries=DE", [], id="filters-combine"
        ),
        pytest.param("provider=FinAPI", ["gold"], id="provider"),
        pytest.param(
            "bank_features.supports_send_payment.value=false", ["gold"], id="feature-false"
        ),
        pytest.param(
            "bank_features.supports_information=true",
            ["iron", "wood", "gold", "ngp-cbi-05034", "ob-modelo"],
            id="feature-without-value-suffix",
        ),
        pytest.param("perPage=2&page=2", ["gold", "ngp-cbi-05034"], id="paging"),
        pytest.param("page=5", [], id="page-past-the-end"),
    ],
)
def test_bank_filters(client: FlaskClient, query: str, ids: list[str]) -> None:
    answer = client.get(f"/tokenos/banks?{query}")
    assert answer.status_code == 200
    assert [b["id"] for b in answer.get_json()["banks"]] == ids


def test_bank_shape_and_paging(client: FlaskClient) -> None:
    body = client.get("/tokenos/banks?perPage=2").get_json()
    assert body["paging"] == {"page": 1, "perPage": 2, "pageCount": 3, "totalCount": 5}
    wood = body["banks"][1]
    assert wood["name"] == "Wood Bank"
    assert wood["country"] == "GB"
    assert wood["supportsSendPayment"] is True
    assert wood["supportedTransferDestinationTypes"] == ["FASTER_PAYMENTS"]
    countries = client.get("/tokenos/banks/countries").get_json()
    assert countries == {"countries": ["DE", "FR", "GB", "IT"]}
