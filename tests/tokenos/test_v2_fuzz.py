"""Generated bad input on the v2 endpoints and pages: always a 4xx in the v2 envelope, never a
5xx, and a refused call changes nothing."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockbank.state import State
from tests.tokenos.helpers import ODD_VALUES, api_key_headers, mutate
from tests.tokenos.helpers_v2 import consent_initiation, sepa_initiation

ROUNDS = 300


def _bodies(consent_id: str, payment_id: str) -> dict[str, Any]:
    return {
        "/tokenos/v2/payments": {"initiation": sepa_initiation()},
        "/tokenos/vrp-consents": {"initiation": consent_initiation()},
        "/tokenos/v2/payments#vrp": {
            "initiation": {
                "vrpConsentId": consent_id,
                "refId": "r",
                "remittanceInformationPrimary": "x",
                "amount": {"value": "1.00", "currency": "GBP"},
            }
        },
        "/tokenos/refunds": {
            "initiation": {
                "refId": "r",
                "amount": {"value": "1.00", "currency": "EUR"},
                "originalPaymentId": payment_id,
                "localInstrument": "SEPA",
                "description": "d",
            }
        },
        f"/tokenos/v2/payments/{payment_id}/embedded-auth": {
            "embeddedAuth": {"one-time-password": "123456"}
        },
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "target", ["payment", "consent", "vrp", "refund", "embedded"], ids=lambda t: t
)
def test_generated_bodies_never_get_a_server_error(
    client: FlaskClient, state: State, target: str
) -> None:
    headers = api_key_headers(state)
    made = client.post(
        "/tokenos/v2/payments",
        json={"initiation": sepa_initiation("201.00")},
        headers=headers,
    ).json["payment"]
    consent = client.post(
        "/tokenos/vrp-consents", json={"initiation": consent_initiation()}, headers=headers
    ).json["vrpConsent"]
    bodies = _bodies(consent["id"], made["id"])
    path = list(bodies)[["payment", "consent", "vrp", "refund", "embedded"].index(target)]
    rng = random.Random(f"v2-fuzz-{target}")
    for _ in range(ROUNDS):
        body = mutate(copy.deepcopy(bodies[path]), rng)
        answer = client.post(
            path.split("#")[0], data=json.dumps(body, allow_nan=True), headers=headers
        )
        assert answer.status_code < 500, (body, answer.data)
        if answer.status_code >= 400:
            error = answer.json["error"]
            assert {"errorCode", "message", "tokenTraceId"} <= set(error), error


QUERIES = ["/tokenos/v2/payments", "/tokenos/vrp-consents", "/tokenos/refunds"]
PARAMS = [
    "limit",
    "offset",
    "ids",
    "statuses",
    "invertIds",
    "createdAfter",
    "createdBefore",
    "refIds",
    "type",
    "partial",
    "startDate",
    "refundStatuses",
]


@pytest.mark.parametrize("path", QUERIES)
def test_generated_queries_never_get_a_server_error(
    client: FlaskClient, state: State, path: str
) -> None:
    headers = api_key_headers(state)
    rng = random.Random(path)
    for _ in range(150):
        query = {rng.choice(PARAMS): str(rng.choice(ODD_VALUES)) for _ in range(rng.randint(1, 4))}
        answer = client.get(path, query_string=query, headers=headers)
        assert answer.status_code < 500, (query, answer.data)


@pytest.mark.parametrize(
    "page",
    ["/tokenos/session/{p}", "/tokenos/mock-bank/payments/{p}", "/tokenos/app/initiation"],
)
def test_generated_page_forms_never_get_a_server_error(
    client: FlaskClient, state: State, page: str
) -> None:
    headers = api_key_headers(state)
    init = sepa_initiation(flowType="FULL_HOSTED_PAGES")
    payment = client.post("/tokenos/v2/payments", json={"initiation": init}, headers=headers)
    path = page.format(p=payment.json["payment"]["id"])
    rng = random.Random(page)
    for _ in range(100):
        form = {
            rng.choice(["decision", "bankId", "accountId", "search", "country"]): str(
                rng.choice([*ODD_VALUES, "approve", "deny", "cancel", "iron", "wood"])
            )
            for _ in range(rng.randint(1, 3))
        }
        answer = client.post(
            path, data=form, query_string={"vrp-consent-id": str(rng.choice(ODD_VALUES))}
        )
        assert answer.status_code < 500, (form, answer.data)
