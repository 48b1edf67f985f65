"""The signed passback to returnUrl, and `mockbank.clients.quickstream.verify_passback`."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clients.quickstream import PASSBACK_ORDER, sign_passback, verify_passback
from mockbank.fixtures import FixtureError, default_dir
from mockbank.providers import quickstream as provider_package
from tests.quickstream.helpers import card_form, open_session

SECRET = "passback-secret"


def _passback(client: FlaskClient, number: str = "4242424242424242", **params: str) -> dict:
    page, csrf = open_session(client, returnUrl="https://yoursite.com.au/thankyou", **params)
    client.post(page + "/pay", data=card_form(csrf, number))
    response = client.post(page + "/return", data={"csrf": csrf})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="https://yoursite.com.au/thankyou"' in html
    assert 'method="POST"' in html
    assert "/quickstream/static/passback.js" in html  # auto-submitted by the page's script
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    return {name: unescape(value) for name, value in pairs}


def test_post_passback_carries_the_documented_fields_and_a_valid_hmac(
    client: FlaskClient,
) -> None:
    fields = _passback(client)
    assert list(fields)[: len(PASSBACK_ORDER)] == list(PASSBACK_ORDER)
    assert list(fields)[-1] == "hmac"
    assert fields["summaryCode"] == "0"
    assert fields["maskedCardNumber"] == "424242...242"
    assert verify_passback(fields, SECRET)


def test_declined_passback(client: FlaskClient) -> None:
    fields = _passback(client, "4000000000000796")
    assert fields["summaryCode"] == "1"
    assert fields["responseCode"] == "51"
    assert verify_passback(fields, SECRET)


def test_hmac_is_sha256_over_the_fields_in_order_as_a_query_string(client: FlaskClient) -> None:
    fields = _passback(client, registerPaymentAccount="true")
    # An independent computation of the documented rule.
    others = [(k, v) for k, v in fields.items() if k != "hmac"]
    message = urlencode(others).encode()
    expected = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert fields["hmac"] == expected
    assert "accountToken" in fields


def test_bank_account_passback_is_sent_in_the_order_it_is_signed(client: FlaskClient) -> None:
    page, csrf = open_session(
        client, returnUrl="https://yoursite.com.au/thankyou", product="QUICKVAULT"
    )
    bank = {"accountName": "J Citizen", "bsb": "032-000", "accountNumber": "12345678"}
    client.post(page + "/pay", data={"csrf": csrf, "paymentMethod": "bank", **bank})
    html = client.post(page + "/return", data={"csrf": csrf}).get_data(as_text=True)
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    fields = [(name, unescape(value)) for name, value in pairs]
    # The listed fields, then the others in ASCII order of their names, then hmac ...
    names = [name for name, _ in fields]
    assert names[names.index("settlementDate") + 1 :] == [
        "accountName",
        "accountToken",
        "bsb",
        "maskedAccountNumber",
        "principalAmount",
        "hmac",
    ]
    # ... so signing the fields exactly as received gives the hmac that came with them.
    message = urlencode([(k, v) for k, v in fields if k != "hmac"]).encode()
    assert dict(fields)["hmac"] == hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert verify_passback(fields, SECRET)


@pytest.mark.parametrize(
    ("change", "secret"),
    [
        ({"paymentAmount": "1.00"}, SECRET),
        ({"summaryCode": "0", "responseCode": "00"}, SECRET),
        ({"hmac": ""}, SECRET),
        ({"hmac": "zz"}, SECRET),
        ({"hmac": "é"}, SECRET),
        ({}, "wrong-secret"),
    ],
    ids=["tampered-amount", "tampered-outcome", "empty-hmac", "short-hmac", "non-ascii", "secret"],
)
def test_verify_passback_rejects_tampering(
    client: FlaskClient, change: dict[str, str], secret: str
) -> None:
    fields = _passback(client, "4000000000000796")
    assert not verify_passback({**fields, **change}, secret)


def test_verify_passback_does_not_depend_on_field_order(client: FlaskClient) -> None:
    fields = _passback(client)
    assert verify_passback(dict(reversed(list(fields.items()))), SECRET)
    assert verify_passback(list(fields.items()), SECRET)
    without = {k: v for k, v in fields.items() if k != "hmac"}
    assert not verify_passback(without, SECRET)


def test_helpers_have_one_import_path() -> None:
    assert not hasattr(provider_package, "verify_passback")
    assert not hasattr(provider_package, "sign_passback")
    fields = {"communityCode": "COMMUNITY1", "custom": "a & b"}
    assert verify_passback({**fields, "hmac": sign_passback(fields, "k")}, "k")


def test_return_without_return_url_or_csrf_is_refused(client: FlaskClient) -> None:
    page, csrf = open_session(client)
    assert client.post(page + "/return", data={"csrf": csrf}).status_code == 409
    client.post(page + "/pay", data=card_form(csrf))
    no_url = client.post(page + "/return", data={"csrf": csrf})
    assert no_url.status_code == 409
    assert "returnUrl" in no_url.get_data(as_text=True)
    assert client.post(page + "/return", data={"csrf": "x"}).status_code == 403


def _fixtures_with(tmp_path: Path, change: dict[str, object]) -> Path:
    for source in default_dir().glob("*.json"):
        shutil.copy(source, tmp_path / source.name)
    data = json.loads((tmp_path / "quickstream.json").read_text())
    data["facilities"][0].update(change)
    (tmp_path / "quickstream.json").write_text(json.dumps(data))
    return tmp_path


def test_get_passback_per_facility_redirects_with_the_fields(tmp_path: Path) -> None:
    fixtures = _fixtures_with(tmp_path, {"passback": {"secret": "s3", "method": "GET"}})
    app = create_app({"fixtures_dir": fixtures})
    try:
        client = app.test_client()
        page, csrf = open_session(client, returnUrl="https://yoursite.com.au/thankyou?a=1")
        client.post(page + "/pay", data=card_form(csrf))
        response = client.post(page + "/return", data={"csrf": csrf})
        assert response.status_code == 303
        location = urlsplit(response.headers["Location"])
        assert location.netloc == "yoursite.com.au"
        assert location.path == "/thankyou"
        fields = dict(parse_qsl(location.query))
        assert fields.pop("a") == "1"
        assert verify_passback(fields, "s3")
    finally:
        app.extensions["mockbank"].close()


def test_get_passback_keeps_the_fields_out_of_a_return_url_fragment(tmp_path: Path) -> None:
    fixtures = _fixtures_with(tmp_path, {"passback": {"secret": "s3", "method": "GET"}})
    app = create_app({"fixtures_dir": fixtures})
    try:
        client = app.test_client()
        page, csrf = open_session(client, returnUrl="https://yoursite.com.au/thankyou#done")
        client.post(page + "/pay", data=card_form(csrf))
        response = client.post(page + "/return", data={"csrf": csrf})
        location = urlsplit(response.headers["Location"])
        # The fields go in the query (sent to the merchant), the fragment stays last.
        assert location.fragment == "done"
        fields = dict(parse_qsl(location.query))
        assert fields["summaryCode"] == "0"
        assert verify_passback(fields, "s3")
    finally:
        app.extensions["mockbank"].close()


def test_sorted_rule_per_facility_signs_like_quickstreams_own_docs(tmp_path: Path) -> None:
    passback = {"secret": "merchant-secret", "method": "POST", "hmacRule": "sorted"}
    app = create_app({"fixtures_dir": _fixtures_with(tmp_path, {"passback": passback})})
    try:
        fields = _passback(app.test_client())
        # QuickStream's "Validating the hmac": drop hmac, sort by name, query string, SHA-256.
        others = sorted((k, v) for k, v in fields.items() if k != "hmac")
        message = urlencode(others).encode()
        expected = hmac.new(b"merchant-secret", message, hashlib.sha256).hexdigest()
        assert fields["hmac"] == expected
        assert verify_passback(fields, "merchant-secret", rule="sorted")
        assert not verify_passback(fields, "merchant-secret")
    finally:
        app.extensions["mockbank"].close()


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown passback hmac rule"):
        sign_passback({}, "k", rule="md5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"password": None}, "facilities.0.password: is required"),
        ({"password": 5}, "facilities.0.password: expected str"),
        ({"allowedIps": ["localhost"]}, "facilities.0.allowedIps.0: not an IP address"),
        ({"surcharges": {"VISA": "one"}}, "facilities.0.surcharges.VISA"),
        ({"surcharges": {"BITCOIN": "1.00"}}, "facilities.0.surcharges.BITCOIN"),
        ({"passback": {"secret": "x", "method": "PUT"}}, "facilities.0.passback.method"),
        ({"supplierBusinessCodes": []}, "facilities.0.supplierBusinessCodes"),
        ({"passback": {"secret": "x", "hmacRule": "md5"}}, "facilities.0.passback.hmacRule"),
    ],
    ids=[
        "missing",
        "wrong-type",
        "bad-ip",
        "bad-rate",
        "bad-scheme",
        "bad-method",
        "no-codes",
        "bad-rule",
    ],
)
def test_bad_fixtures_name_the_file_and_field(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    fixtures = _fixtures_with(tmp_path, change)
    data = json.loads((fixtures / "quickstream.json").read_text())
    facility = data["facilities"][0]
    for key in [k for k, v in facility.items() if v is None]:
        del facility[key]
    (fixtures / "quickstream.json").write_text(json.dumps(data))
    with pytest.raises(FixtureError) as raised:
        create_app({"fixtures_dir": fixtures})
    assert "quickstream.json" in str(raised.value)
    assert message in str(raised.value)


def test_passback_carries_principal_amount_and_custom_parameters(client: FlaskClient) -> None:
    fields = _passback(client, customPayeeName="Acme & Sons", customInvoice="INV 7")
    # As in QuickStream's "Validating the hmac" example: principalAmount and custom fields,
    # after the listed ones in ASCII order of their names (the order they are signed in).
    assert fields["principalAmount"] == "100.00"
    assert fields["customPayeeName"] == "Acme & Sons"
    assert fields["customInvoice"] == "INV 7"
    names = list(fields)
    assert names[names.index("expiryDateYear") + 1 :] == [
        "customInvoice",
        "customPayeeName",
        "principalAmount",
        "hmac",
    ]
    assert verify_passback(fields, SECRET)
    assert not verify_passback({**fields, "customPayeeName": "Other"}, SECRET)


def test_sorted_rule_signs_the_custom_parameters_too(tmp_path: Path) -> None:
    passback = {"secret": "merchant-secret", "method": "POST", "hmacRule": "sorted"}
    app = create_app({"fixtures_dir": _fixtures_with(tmp_path, {"passback": passback})})
    try:
        fields = _passback(app.test_client(), customParam="A custom parameter &.")
        assert fields["customParam"] == "A custom parameter &."
        assert verify_passback(fields, "merchant-secret", rule="sorted")
        assert not verify_passback({**fields, "customParam": "x"}, "merchant-secret", rule="sorted")
    finally:
        app.extensions["mockbank"].close()
