"""Thousands of generated bad inputs per endpoint: always the gateway's 4xx, never a 5xx."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockbank.state import State
from tests.tokenos.helpers import (
    PAYER,
    access_payload,
    api_key_headers,
    mutate,
    transfer_payload,
)


def valid_bodies(state: State) -> dict[tuple[str, str], Any]:
    tpp = state.fixtures["tokenos"].member_by_name("tpp").member_id
    return {
        ("POST", "/tokenos/token-requests"): {
            "requestPayload": transfer_payload(),
            "requestOptions": dict(PAYER),
        },
        ("POST", "/tokenos/transfers"): {
            "payload": {
                "refId": "r",
                "tokenId": "tt:x",
                "amount": {"value": "1", "currency": "EUR"},
            },
            "payloadSignature": {"memberId": tpp, "keyId": "k", "signature": "s"},
        },
        ("PUT", "/tokenos/tokens/tt:x/cancel"): {
            "tokenId": "tt:x",
            "signature": {"memberId": tpp, "keyId": "k", "signature": "s"},
        },
        ("POST", f"/tokenos/members/{tpp}/updates"): {
            "update": {
                "memberId": tpp,
                "prevHash": "h",
                "operations": [
                    {
                        "addKey": {
                            "key": {
                                "id": "i",
                                "publicKey": "p",
                                "level": "LOW",
                                "algorithm": "ED25519",
                            }
                        }
                    },
                    {"addAlias": {"aliasHash": "a"}},
                    {"removeKey": {"keyId": "k"}},
                ],
            },
            "updateSignature": {"memberId": tpp, "keyId": "k", "signature": "s"},
            "metadata": [
                {
                    "addAliasMetadata": {
                        "aliasHash": "a",
                        "alias": {"type": "EMAIL", "value": "a@b.c"},
                    }
                }
            ],
        },
        ("POST", "/tokenos/members"): {"memberType": "BUSINESS"},
        ("PUT", "/tokenos/profile"): {"profile": {"displayNameFirst": "A"}},
        ("PUT", "/tokenos/accounts/a:iron-checking/funds-confirmation"): {
            "accountId": "a:iron-checking",
            "amount": {"currency": "EUR", "value": "1"},
        },
    }


ENDPOINTS = [
    ("POST", "/tokenos/token-requests", "transfer"),
    ("POST", "/tokenos/token-requests", "access"),
    ("POST", "/tokenos/token-requests", "funds"),
    ("POST", "/tokenos/token-requests", "destinations"),
    ("POST", "/tokenos/transfers", ""),
    ("PUT", "/tokenos/tokens/tt:x/cancel", ""),
    ("POST", "/tokenos/members/{tpp}/updates", ""),
    ("POST", "/tokenos/members", ""),
    ("PUT", "/tokenos/profile", ""),
    ("PUT", "/tokenos/accounts/a:iron-checking/funds-confirmation", ""),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path", "variant"),
    [
        pytest.param(*e, id=f"{e[0]}-{e[1].rsplit('/', 1)[-1]}{'-' + e[2] if e[2] else ''}")
        for e in ENDPOINTS
    ],
)
def test_generated_bad_json_bodies_get_4xx(
    client: FlaskClient, state: State, method: str, path: str, variant: str
) -> None:
    tpp = state.fixtures["tokenos"].member_by_name("tpp").member_id
    path = path.format(tpp=tpp)
    if variant == "access":
        body: Any = {"requestPayload": access_payload(), "requestOptions": dict(PAYER)}
    elif variant == "funds":
        # createFundsConfirmationRequest: a resource naming one bank account, a source account.
        funds = access_payload()
        funds["accessBody"] = {
            "accountResourceList": {
                "resources": [
                    {
                        "type": "ACCOUNT_FUNDS_CONFIRMATION",
                        "bankAccount": {"sepa": {"iban": "DE89370400440532013000"}},
                    }
                ]
            }
        }
        body = {
            "requestPayload": funds,
            "requestOptions": {**PAYER, "sourceAccountId": "a:iron-checking"},
        }
    elif variant == "destinations":
        transfer = transfer_payload()
        transfer["transferBody"]["destinations"] = [{"sepa": {"iban": "DE44500105175407324931"}}]
        transfer["transferBody"]["instructions"] = {
            "transferDestinations": [{"fasterPayments": {"sortCode": "1", "accountNumber": "2"}}]
        }
        body = {
            "requestPayload": transfer,
            "requestOptions": {**PAYER, "sourceAccountId": "a:iron-checking"},
        }
    else:
        body = valid_bodies(state)[(method, path)]
    rng = random.Random(f"{method} {path} {variant}")
    headers = api_key_headers(state)
    statuses = set()
    for _ in range(1000):
        broken = mutate(copy.deepcopy(body), rng)
        answer = client.open(path, method=method, data=json.dumps(broken), headers=headers)
        assert answer.status_code < 500, (path, broken, answer.get_data(as_text=True))
        assert "token-error" in answer.headers or answer.status_code == 200
        statuses.add(answer.status_code)
    assert statuses & {400, 401, 403, 404}, path
    assert state.take_server_errors() == []


@pytest.mark.parametrize(
    "query_path",
    [
        "/tokenos/banks",
        "/tokenos/tokens",
        "/tokenos/transfers",
        "/tokenos/resolve-alias",
        "/tokenos/accounts/a:iron-checking/transactions",
        "/tokenos/account-balance",
        "/tokenos/accounts/a:iron-checking/standing-orders",
    ],
)
def test_generated_bad_queries_get_4xx(client: FlaskClient, state: State, query_path: str) -> None:
    rng = random.Random(query_path)
    names = [
        "ids",
        "search",
        "page",
        "perPage",
        "country",
        "type",
        "offset",
        "limit",
        "tokenId",
        "alias.type",
        "alias.value",
        "startDate",
        "endDate",
        "account_id",
        "bank_features.supports_information.value",
        "bank_features.x",
        "page.offset",
        "page.limit",
        "countries",
        "supportedPaymentNetworks",
    ]
    headers = api_key_headers(state)
    for _ in range(300):
        query = "&".join(
            f"{rng.choice(names)}={rng.choice(['', 'x', '-1', '0', '10', 'undefined', '%FF', 'true', 'TRANSFER', 'a%00b', '%C2%B2'])}"  # noqa: E501
            for _ in range(rng.randint(0, 4))
        )
        answer = client.get(f"{query_path}?{query}", headers=headers)
        assert answer.status_code < 500, (query_path, query, answer.get_data(as_text=True))
    assert state.take_server_errors() == []


@pytest.mark.slow
def test_generated_consent_forms_never_fail_the_server(client: FlaskClient, state: State) -> None:
    headers = api_key_headers(state)
    rng = random.Random(11)
    for kind in (transfer_payload(), access_payload()):
        stored = client.post(
            "/tokenos/token-requests",
            headers=headers,
            data=json.dumps({"requestPayload": kind, "requestOptions": {}}),
        )
        url = f"/tokenos/app/request-token/{stored.get_json()['tokenRequest']['id']}"
        for _ in range(300):
            form = {
                name: rng.choice(
                    [
                        "",
                        "iron",
                        "gold",
                        "wood",
                        "payer@example.com",
                        "x@y.z",
                        "a:iron-checking",
                        "a:wood-current",
                        "approve",
                        "maybe",
                    ]
                )
                for name in rng.sample(
                    ["bankId", "email", "accountId", "decision"], rng.randint(0, 4)
                )
            }
            if form.get("decision") in ("approve", "deny"):
                form["decision"] = "maybe"  # keep the request pending for the next round
            answer = client.post(url + rng.choice(["", "?lang=de", "?lang=%FF"]), data=form)
            assert answer.status_code in (200, 400), answer.get_data(as_text=True)
    assert state.take_server_errors() == []
