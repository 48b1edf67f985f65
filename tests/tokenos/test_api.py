"""Fine-grained TokenOS API behaviour through the Flask test client: errors, banks, members,
token requests, the consent form contract, state views and the in-process mode."""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import shutil
import subprocess
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from mockbank.fixtures import FixtureError, FixtureReader, default_dir, load_json
from mockbank.providers.tokenos import models, provider
from mockbank.providers.tokenos.routes import UNEMULATED, privileged_key
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from mockbank.testing import InProcess, LiveServer
from mockbank.tokenos import (
    Member,
    TokenClient,
    TokenError,
    auth_header,
    generate_keys,
    hash_alias,
    signing_payload,
    verify_json,
)
from tests.tokenos.conftest import PAYER, access_payload, consent, mint, transfer_payload


# -- errors ----------------------------------------------------------------------------------
def test_unknown_path_is_a_text_not_found_with_the_code_header(client: FlaskClient) -> None:
    answer = client.get("/tokenos/no/such/thing")
    assert answer.status_code == 404
    assert answer.headers["token-error"] == "NOT_FOUND"
    assert answer.mimetype == "text/plain"
    assert "No endpoint" in answer.get_data(as_text=True)


def test_json_errors_on_request(client: FlaskClient) -> None:
    answer = client.get("/tokenos/members/m:nobody", headers={"token-json-error": "true"})
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert error["errorCode"] == "NOT_FOUND"
    assert "m:nobody" in error["message"]
    assert error["tokenTraceId"] == answer.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        pytest.param("DELETE", "/tokenos/banks", {}, 405, "UNIMPLEMENTED", id="wrong-method"),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": "{not json"},
            400,
            "INVALID_ARGUMENT",
            id="malformed-json",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": b"\xff\xfe"},
            400,
            "INVALID_ARGUMENT",
            id="bad-encoding",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"json": {"memberType": "ROBOT"}},
            400,
            "INVALID_ARGUMENT",
            id="member-type",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"json": ["a"]},
            400,
            "INVALID_ARGUMENT",
            id="body-not-object",
        ),
        pytest.param(
            "POST",
            "/tokenos/members",
            {"data": b"{" + b" " * (1024 * 1024 + 1)},
            413,
            "RESOURCE_EXHAUSTED",
            id="too-large",
        ),
        pytest.param(
            "GET", "/tokenos/banks?perPage=500", {}, 400, "INVALID_ARGUMENT", id="per-page-over-200"
        ),
        pytest.param(
            "GET",
            "/tokenos/banks?bank_features.supports_magic.value=true",
            {},
            400,
            "INVALID_ARGUMENT",
            id="unknown-feature",
        ),
        pytest.param(
            "GET",
            "/tokenos/aliases/normalize/FAX/123/token",
            {},
            400,
            "INVALID_ARGUMENT",
            id="alias-type",
        ),
        pytest.param(
            "GET",
            "/tokenos/aliases/normalize/EMAIL/not-an-email/token",
            {},
            400,
            "INVALID_ARGUMENT",
            id="alias-email",
        ),
        pytest.param(
            "GET", "/tokenos/token-requests/rq:nope", {}, 404, "NOT_FOUND", id="unknown-request"
        ),
        pytest.param(
            "GET", "/tokenos/tokens/tt:nope", {}, 401, "UNAUTHENTICATED", id="token-needs-auth"
        ),
    ],
)
def test_bad_input_gets_the_gateway_error_format(
    client: FlaskClient,
    state: State,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = len(state.store.records(models.NS_MEMBER))
    answer = client.open(path, method=method, **kwargs)
    assert answer.status_code == status
    assert answer.headers["token-error"] == code
    assert answer.get_data(as_text=True)
    assert len(state.store.records(models.NS_MEMBER)) == before


@pytest.mark.parametrize(
    "path",
    [
        "/tokenos/banks?page=%C2%B2",
        "/tokenos/banks?perPage=%C2%B2",
        "/tokenos/tokens?type=TRANSFER&offset=%C2%B2",
        "/tokenos/transfers?tokenId=undefined&offset=undefined&limit=%C2%B3",
        "/tokenos/banks?page=" + "9" * 5000,
        "/tokenos/tokens?type=ACCESS&offset=" + "9" * 5000,
    ],
)
def test_superscript_or_huge_numbers_in_paging_are_a_400_not_a_crash(
    client: FlaskClient, state: State, path: str
) -> None:
    # "²".isdigit() is True in Python, but int("²") raises; int() refuses 4300+ digits.
    tpp = state.fixtures["tokenos"].member_by_name("tpp").member_id
    basic = base64.b64encode(f"{tpp}:sandbox-api-key".encode()).decode()
    answer = client.get(path, headers={"Authorization": f"Basic {basic}"})
    assert (answer.status_code, answer.headers["token-error"]) == (400, "INVALID_ARGUMENT")
    assert state.take_server_errors() == []


@pytest.mark.parametrize("created", ["\u00b2", "9" * 5000], ids=["superscript", "huge"])
def test_odd_created_at_ms_is_a_401_not_a_crash(
    client: FlaskClient, state: State, created: str
) -> None:
    tpp = state.fixtures["tokenos"].member_by_name("tpp")
    key = privileged_key(tpp.key_seed)
    header = (
        f"Token-Ed25519-SHA512 member-id={tpp.member_id},key-id={key.id},"
        f"signature=AAAA,created-at-ms={created}"
    )
    answer = client.get("/tokenos/aliases", headers={"Authorization": header})
    assert (answer.status_code, answer.headers["token-error"]) == (401, "UNAUTHENTICATED")
    assert "created-at-ms must be milliseconds" in answer.get_data(as_text=True)
    assert state.take_server_errors() == []


def test_injected_fault_uses_the_gateway_format(client: FlaskClient, state: State) -> None:
    state.add_fault({"provider": "tokenos", "endpoint": "banks", "status": 503, "count": 1})
    failed = client.get("/tokenos/banks")
    assert failed.status_code == 503
    assert failed.headers["token-error"] == "UNAVAILABLE"
    assert client.get("/tokenos/banks").status_code == 200


def test_generated_garbage_never_causes_a_server_error(client: FlaskClient, state: State) -> None:
    rng = state.random
    paths = [
        "/tokenos/members",
        "/tokenos/token-requests",
        "/tokenos/transfers",
        "/tokenos/members/m:x/updates",
        "/tokenos/app/request-token/rq:x",
    ]
    shapes: list[Any] = [
        None,
        1,
        "x",
        [],
        {},
        {"update": []},
        {"requestPayload": 5},
        {"update": {"memberId": "m:x", "operations": [{"addKey": 3}]}},
        {"payload": {"amount": "x"}, "payloadSignature": {}},
    ]
    for _ in range(300):
        body = rng.choice(shapes)
        if rng.random() < 0.3:
            body = {
                "requestPayload": {
                    "transferBody": {"lifetimeAmount": rng.random()},
                    "redirectUrl": rng.choice(["", "x", None]),
                }
            }
        answer = client.post(
            rng.choice(paths),
            data=json.dumps(body),
            headers={
                "Authorization": "Basic " + rng.choice(["OnNhbmRib3gtYXBpLWtleQ==", "eA==", "!"])
            },
        )
        assert answer.status_code < 500, answer.get_data(as_text=True)
    assert state.take_server_errors() == []


@pytest.mark.parametrize(
    ("method", "rule", "feature"),
    [pytest.param(*entry, id=f"{entry[0]} {entry[1]}") for entry in UNEMULATED],
)
def test_sdk_calls_outside_the_emulation_are_a_clear_unimplemented(
    client: FlaskClient, state: State, method: str, rule: str, feature: str
) -> None:
    path = "/tokenos" + re.sub(r"<[a-z_]+>", "x", rule)
    before = state.provider_state("tokenos")
    answer = client.open(path, method=method, json={})
    assert answer.status_code == 501
    assert answer.headers["token-error"] == "UNIMPLEMENTED"
    assert f"mockbank does not emulate TokenOS {feature} ({method} {path})" in answer.text
    assert state.provider_state("tokenos") == before


# -- banks -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "ids"),
    [
        pytest.param("", ["iron", "wood", "gold"], id="all"),
        pytest.param("ids=wood&ids=gold", ["wood", "gold"], id="ids"),
        pytest.param("search=wood", ["wood"], id="search-name"),
        pytest.param("search=BANK", ["iron", "wood", "gold"], id="search-case-insensitive"),
        pytest.param("country=gb", ["wood"], id="country"),
        pytest.param("countries=GB&countries=fr&", ["wood", "gold"], id="countries"),
        pytest.param("supportedPaymentNetworks=SEPA", ["iron", "gold"], id="payment-network"),
        pytest.param(
            "supportedPaymentNetworks=FASTER_PAYMENTS&countries=DE", [], id="filters-combine"
        ),
        pytest.param("provider=FinAPI", ["gold"], id="provider"),
        pytest.param(
            "bank_features.supports_send_payment.value=false", ["gold"], id="feature-false"
        ),
        pytest.param(
            "bank_features.supports_information=true",
            ["iron", "wood", "gold"],
            id="feature-without-value-suffix",
        ),
        pytest.param("perPage=2&page=2", ["gold"], id="paging"),
        pytest.param("page=5", [], id="page-past-the-end"),
    ],
)
def test_bank_filters(client: FlaskClient, query: str, ids: list[str]) -> None:
    answer = client.get(f"/tokenos/banks?{query}")
    assert answer.status_code == 200
    assert [b["id"] for b in answer.get_json()["banks"]] == ids


def test_bank_shape_and_paging(client: FlaskClient) -> None:
    body = client.get("/tokenos/banks?perPage=2").get_json()
    assert body["paging"] == {"page": 1, "perPage": 2, "pageCount": 2, "totalCount": 3}
    wood = body["banks"][1]
    assert wood["name"] == "Wood Bank"
    assert wood["country"] == "GB"
    assert wood["supportsSendPayment"] is True
    assert wood["supportedTransferDestinationTypes"] == ["FASTER_PAYMENTS"]
    countries = client.get("/tokenos/banks/countries").get_json()
    assert countries == {"countries": ["DE", "FR", "GB"]}


# -- members ---------------------------------------------------------------------------------
def test_alias_resolves_and_cannot_be_taken_twice(
    token_client: TokenClient, merchant: Member
) -> None:
    found = token_client.call(
        "GET", "/resolve-alias?alias.value=MERCHANT.example.com&alias.type=DOMAIN&alias.realm="
    )
    assert found == {"member": {"id": merchant.member_id}}
    assert (
        token_client.call("GET", "/resolve-alias?alias.value=nobody.example.com&alias.type=DOMAIN")
        == {}
    )
    other = token_client.create_member()
    with pytest.raises(Exception, match="409 ALREADY_EXISTS"):
        other.add_alias({"type": "DOMAIN", "value": "merchant.example.com"})
    assert merchant.call("GET", "/aliases")["aliases"] == [
        {"type": "DOMAIN", "value": "merchant.example.com"}
    ]


def test_member_update_with_a_stale_prev_hash_is_refused(
    token_client: TokenClient, merchant: Member
) -> None:
    member = token_client.call("GET", f"/members/{merchant.member_id}")["member"]
    alias = {"type": "EMAIL", "value": "shop@example.com"}
    update = {
        "memberId": merchant.member_id,
        "prevHash": "stale",
        "operations": [{"addAlias": {"aliasHash": hash_alias(alias)}}],
    }
    key = merchant.keys["PRIVILEGED"]
    body = {
        "update": update,
        "updateSignature": {
            "memberId": merchant.member_id,
            "keyId": key.id,
            "signature": key.sign_json(update),
        },
        "metadata": [{"addAliasMetadata": {"aliasHash": hash_alias(alias), "alias": alias}}],
    }
    with pytest.raises(Exception, match="400 FAILED_PRECONDITION"):
        merchant.call("POST", f"/members/{merchant.member_id}/updates", body)
    assert token_client.call("GET", f"/members/{merchant.member_id}")["member"] == member


def test_profile_round_trip(merchant: Member) -> None:
    assert merchant.call("GET", f"/members/{merchant.member_id}/profile") == {
        "profile": {"displayNameFirst": "Merchant 123"}
    }
    assert merchant.call("GET", f"/members/{merchant.member_id}/profile-name") == {
        "profileName": "Merchant 123"
    }


# -- token requests and the consent form contract --------------------------------------------
def test_token_request_result_is_signed_by_the_token_member(
    token_client: TokenClient, merchant: Member, live: LiveServer
) -> None:
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    with pytest.raises(Exception, match="404 NOT_FOUND"):
        token_client.call("GET", f"/token-requests/{stored['id']}/token_request_result")
    assert consent(live, stored["id"]).status_code == 302
    result = token_client.call("GET", f"/token-requests/{stored['id']}/token_request_result")
    keys = token_client.get_token_member()["keys"]
    key = next(k for k in keys if k["id"] == result["signature"]["keyId"])
    signed = {"state": stored["requestPayload"]["callbackState"], "tokenId": result["tokenId"]}
    assert verify_json(signed, result["signature"]["signature"], key["publicKey"])
    again = token_client.call("GET", f"/token-requests/{stored['id']}")
    assert again["tokenRequest"]["id"] == stored["id"]


def test_approve_alone_grants_all_accounts_at_the_bank(merchant: Member, live: LiveServer) -> None:
    token = mint(live, merchant, access_payload(["ACCOUNTS"]), {**PAYER, "bankId": "wood"})
    assert token["payload"]["access"]["resources"] == [
        {"account": {"accountId": "a:wood-current"}},
        {"account": {"accountId": "a:wood-savings"}},
    ]
    assert token["payload"]["from"]["id"] == live.state.fixtures["tokenos"].payers[0].member_id


def test_source_account_fixes_the_bank_and_the_account(merchant: Member, live: LiveServer) -> None:
    payer = {"from": PAYER["from"], "sourceAccountId": "a:iron-savings"}
    stored = merchant.store_token_request(transfer_payload(), payer)
    page = requests.get(live.url_for("tokenos", f"/app/request-token/{stored['id']}"), timeout=10)
    # No bank choice and no email: straight to the one account the TPP named.
    assert "Choose the account(s) at Iron Bank" in page.text
    assert page.text.count('name="accountId"') == 1
    assert 'value="a:iron-savings"' in page.text
    wrong = consent(live, stored["id"], accountId="a:iron-checking")
    assert wrong.status_code == 400
    assert "a:iron-checking is not one of the payer" in wrong.text
    token = mint(live, merchant, transfer_payload(), payer)
    assert token["payload"]["issuer"] == {"id": "iron"}
    source = token["payload"]["transfer"]["instructions"]["source"]["account"]["token"]
    assert source["accountId"] == "a:iron-savings"


@pytest.mark.parametrize(
    ("options", "body", "message"),
    [
        pytest.param(
            {"bankId": "wood", "sourceAccountId": "a:iron-savings"},
            transfer_payload(),
            "is at bank iron, not requestOptions.bankId wood",
            id="other-bank",
        ),
        pytest.param(
            {"sourceAccountId": "a:wood-current"},
            transfer_payload(),
            "a:wood-current holds GBP",
            id="other-currency",
        ),
        pytest.param(
            {"sourceAccountId": "a:gold-checking"},
            transfer_payload(),
            "bank gold does not support supportsSendPayment",
            id="information-only-bank",
        ),
        pytest.param(
            {"sourceAccountId": "a:nowhere"},
            access_payload(),
            "not a known account",
            id="unknown",
        ),
    ],
)
def test_source_account_that_cannot_pay_is_refused_when_stored(
    merchant: Member, live: LiveServer, options: dict[str, Any], body: dict[str, Any], message: str
) -> None:
    with pytest.raises(TokenError) as refused:
        merchant.store_token_request(body, options)
    assert (refused.value.status, refused.value.code) == (400, "INVALID_ARGUMENT")
    assert message in refused.value.message
    assert live.state.provider_state("tokenos")["tokenRequests"] == []


def test_consent_form_contract(merchant: Member, live: LiveServer) -> None:
    stored = merchant.store_token_request(transfer_payload(), {})
    # Bank and payer unknown: approve alone re-shows the page with a 400.
    assert consent(live, stored["id"]).status_code == 400
    wrong_bank = consent(live, stored["id"], bankId="gold", email="payer@example.com")
    assert wrong_bank.status_code == 400
    assert "cannot be used" in wrong_bank.text
    foreign = consent(
        live, stored["id"], bankId="iron", email="payer@example.com", accountId="a:wood-current"
    )
    assert foreign.status_code == 400
    assert consent(live, stored["id"], decision="maybe").status_code == 400
    # The older web-app path works the same.
    older = requests.post(
        live.url_for("tokenos", f"/request-token/{stored['id']}"),
        data={
            "decision": "approve",
            "bankId": "iron",
            "email": "payer@example.com",
            "accountId": "a:iron-checking",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert older.status_code == 302
    query = parse_qs(urlsplit(older.headers["Location"]).query)
    assert query["tokenId"][0].startswith("tt:")
    assert consent(live, stored["id"]).status_code == 410
    assert consent(live, "rq:unknown").status_code == 404


# -- control API, fixtures, in-process -------------------------------------------------------
def test_state_view_and_magic_values(mockbank: Mockbank) -> None:
    control = mockbank.url("_mockbank")
    magic = requests.get(f"{control}/magic-values", timeout=10).json()["tokenos"]
    assert magic["transfer_amounts"] == {
        "103": "FAILURE_DECLINED",
        "108": "FAILURE_INSUFFICIENT_FUNDS",
        "105": "PROCESSING",
    }
    view = requests.get(f"{control}/state/tokenos", timeout=10).json()
    assert {m["type"] for m in view["members"]} == {"BUSINESS", "PERSONAL"}
    assert view["tokens"] == []
    assert view["transfers"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda d: d["banks"][0].pop("name"), "banks.0.name: is required", id="bank-name"
        ),
        pytest.param(
            lambda d: d["banks"][1].update(currency="pounds"),
            "banks.1.currency: must be a 3-letter",
            id="currency",
        ),
        pytest.param(
            lambda d: d["payers"][0]["accounts"][0].update(bank="lead"),
            "payers.0.accounts.0.bank: unknown bank",
            id="account-bank",
        ),
        pytest.param(
            lambda d: d["apiKeys"][0].update(member="ghost"),
            "apiKeys.0.member: no member named",
            id="api-key-member",
        ),
        pytest.param(
            lambda d: d["payers"][0]["accounts"][1].update(balance=12),
            "payers.0.accounts.1.balance: expected str",
            id="balance-type",
        ),
    ],
)
def test_bad_fixtures_name_the_file_and_field(change: Any, message: str) -> None:
    path, data = load_json(default_dir(), "tokenos")
    data = copy.deepcopy(data)
    change(data)
    with pytest.raises(FixtureError) as failure:
        models.load_fixtures(FixtureReader(path, data))
    assert str(path) in str(failure.value)
    assert message in str(failure.value)


def test_inprocess_mode_routes_the_real_sandbox_host(mockbank_inprocess: InProcess) -> None:
    base = "https://api.sandbox.token.io"
    banks = requests.get(f"{base}/banks?ids=iron", timeout=10).json()["banks"]
    assert [b["id"] for b in banks] == ["iron"]
    # A signed call made for the real host verifies too (uriHost has no mount prefix there).
    member_id = requests.post(
        f"{base}/members", json={"memberType": "BUSINESS"}, timeout=10
    ).json()["memberId"]
    client = TokenClient(base)
    keys = {level: generate_keys(level) for level in ("PRIVILEGED", "STANDARD", "LOW")}
    update = {
        "memberId": member_id,
        "operations": [{"addKey": {"key": k.to_proto()}} for k in keys.values()],
    }
    requests.post(
        f"{base}/members/{member_id}/updates",
        timeout=10,
        json={
            "update": update,
            "updateSignature": {
                "memberId": member_id,
                "keyId": keys["PRIVILEGED"].id,
                "signature": keys["PRIVILEGED"].sign_json(update),
            },
        },
    ).raise_for_status()
    created = str(int(time.time() * 1000))  # noqa: TID251
    payload = signing_payload("GET", client.uri_host, "/accounts", created)
    answer = requests.get(
        f"{base}/accounts",
        timeout=10,
        headers={"Authorization": auth_header(member_id, keys["LOW"], payload)},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accounts": []}
    page = requests.get("https://web-app.sandbox.token.io/app/request-token/rq:x", timeout=10)
    assert page.status_code == 404


def test_consent_page_shows_acting_as_and_narrows_banks_by_destination_country(
    merchant: Member, live: LiveServer
) -> None:
    payload = transfer_payload(
        actingAs={"displayName": "Corner Bakery", "refId": "bakery-1"},
        destinationCountry="GB",
    )
    payload["transferBody"]["currency"] = "GBP"
    stored = merchant.store_token_request(payload, {})
    page = requests.get(live.url_for("tokenos", f"/app/request-token/{stored['id']}"), timeout=10)
    assert page.status_code == 200
    assert "Corner Bakery asks for" in page.text
    assert 'value="wood"' in page.text
    assert 'value="iron"' not in page.text


def test_curl_consents_and_reads_banks_with_the_api_key(merchant: Member, live: LiveServer) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    stored = merchant.store_token_request(transfer_payload(), PAYER)
    url = live.url_for("tokenos", f"/app/request-token/{stored['id']}")
    answer = subprocess.run(
        [
            curl,
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-d",
            "decision=approve",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    status, location = answer.split(" ", 1)
    assert status == "302"
    assert location.startswith("https://tpp.example.com/callback?tokenId=tt:")
    tpp = live.state.fixtures["tokenos"].member_by_name("tpp").member_id
    listed = subprocess.run(
        [
            curl,
            "-s",
            "-u",
            f"{tpp}:sandbox-api-key",
            live.url_for("tokenos", "/tokens?type=TRANSFER"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert json.loads(listed) == {"tokens": []}  # the merchant's token is not the TPP's


def test_cli_prints_the_seeded_identities(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    provider.cli(parser.add_subparsers())
    args = parser.parse_args(["tokenos-fixtures"])
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["apiKeys"] == ["sandbox-api-key"]
    assert [a["id"] for a in printed["payers"][0]["accounts"]][:2] == [
        "a:iron-checking",
        "a:iron-savings",
    ]


def test_dashboard_lists_the_tokenos_credentials(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "sandbox-api-key" in page
    assert "payer@example.com" in page
