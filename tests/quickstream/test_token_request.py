"""The secure token request: the seed's example, every check, and its text/plain errors."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from mockbank import create_app
from mockbank.clock import monotonic
from mockbank.providers.quickstream import records
from mockbank.pytest_plugin import Mockbank
from mockbank.state import State
from mockbank.testing import LiveServer
from tests.quickstream.helpers import SEED_EXAMPLE, TOKEN_PATH, card_form, token_params


def _tokens(state: State) -> list[object]:
    return state.store.records(records.NS_TOKEN)


def test_seed_example_gets_a_token_through_requests(mockbank: Mockbank) -> None:
    url = mockbank.url("quickstream", "/CommunityTokenRequestServlet")
    response = requests.post(url, data=SEED_EXAMPLE, headers={"Accept": "text/plain"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    name, _, token = response.text.partition("=")
    assert name == "token"
    assert len(token) >= 40
    assert token.replace("-", "").replace("_", "").isalnum()
    assert "X-Mockbank-Warning" not in response.headers


def test_seed_example_gets_a_token_through_curl(mockbank: Mockbank) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    url = mockbank.url("quickstream", "/services/quickweb/CommunityTokenRequestServlet")
    # The body exactly as the seed writes it (one parameter per line joined with '&').
    body = urlencode(SEED_EXAMPLE)
    result = subprocess.run(
        [curl, "-sS", "-w", "\n%{http_code}", "-H", "Accept: text/plain", "--data", body, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    text, _, status = result.stdout.rpartition("\n")
    assert status == "200"
    assert text.startswith("token=")
    assert len(text) > 46


def test_token_is_stored_with_its_parameters_for_one_hour(
    client: FlaskClient, state: State
) -> None:
    response = client.post(TOKEN_PATH, data=token_params(customPayeeName="Acme Pty Ltd"))
    token = response.get_data(as_text=True).removeprefix("token=")
    record = state.store.record(records.NS_TOKEN, token)
    assert record is not None
    assert record.expires_at is not None
    assert (record.expires_at - record.created_at).total_seconds() == 3600
    assert record.value["params"]["principalAmount"] == "100.00"
    assert record.value["params"]["custom"] == {"customPayeeName": "Acme Pty Ltd"}
    assert "password" not in record.value["params"]  # the facility password is never kept


def test_unknown_parameters_are_accepted_with_a_warning(client: FlaskClient) -> None:
    response = client.post(TOKEN_PATH, data=token_params(colour="blue", sessionId="x"))
    assert response.status_code == 200
    warning = response.headers["X-Mockbank-Warning"]
    assert "colour" in warning
    assert "sessionId" in warning
    entry = client.application.extensions["mockbank"].journal.entries(provider="quickstream")[-1]
    assert entry.notes["unknown_parameters"] == ["colour", "sessionId"]


BAD_REQUESTS = [
    ("missing-username", {"username": None}, 401, "username is required"),
    ("missing-password", {"password": None}, 401, "password is required"),
    ("wrong-password", {"password": "nope"}, 401, "username or password is incorrect"),
    ("unknown-username", {"username": "mallory"}, 401, "username or password is incorrect"),
    ("missing-supplier", {"supplierBusinessCode": None}, 400, "supplierBusinessCode is required"),
    ("foreign-supplier", {"supplierBusinessCode": "OTHER"}, 400, "supplierBusinessCode"),
    ("missing-connection", {"connectionType": None}, 400, "connectionType is required"),
    ("bad-connection", {"connectionType": "QUICKPAY"}, 400, "connectionType must be one of"),
    ("missing-product", {"product": None}, 400, "product is required"),
    ("bad-product", {"product": "LOANS"}, 400, "product must be one of"),
    ("missing-currency", {"currencyCode": None}, 400, "currencyCode is required"),
    ("bad-currency", {"currencyCode": "USD"}, 400, "currencyCode must be one of AUD, NZD"),
    ("bad-account-type", {"accountType": "CHEQUE"}, 400, "accountType must be one of"),
    ("negative-amount", {"principalAmount": "-1.00"}, 400, "principalAmount"),
    ("zero-amount", {"principalAmount": "0.00"}, 400, "principalAmount"),
    ("three-decimals", {"principalAmount": "1.234"}, 400, "principalAmount"),
    ("text-amount", {"principalAmount": "ten"}, 400, "principalAmount"),
    (
        "fullwidth-amount",
        {"principalAmount": "\uff11\uff10\uff10.\uff10\uff10"},
        400,
        "principalAmount",
    ),
    ("http-return-url", {"returnUrl": "http://yoursite.com.au/x"}, 400, "returnUrl must use HTTPS"),
    ("ftp-cancel-url", {"cancelUrl": "ftp://yoursite.com.au/x"}, 400, "cancelUrl"),
    ("relative-server-url", {"serverReturnUrl": "/notify"}, 400, "serverReturnUrl"),
    ("newline-in-url", {"returnUrl": "https://a.example/x\nSet-Cookie: y"}, 400, "returnUrl"),
    ("javascript-url", {"cancelUrl": "javascript:alert(1)"}, 400, "cancelUrl"),
    ("bracketed-host", {"returnUrl": "https://[zz]/thanks"}, 400, "returnUrl has an invalid host"),
    ("unclosed-bracket", {"cancelUrl": "https://[::1/x"}, 400, "cancelUrl"),
    ("bad-email", {"errorEmailToAddress": "not-an-email"}, 400, "errorEmailToAddress"),
    ("lowercase-custom", {"customtitle": "x"}, 400, "customtitle"),
    ("long-custom", {"customTitle": "x" * 101}, 400, "customTitle must be at most 100"),
    ("long-reference", {"paymentReference": "x" * 101}, 400, "paymentReference"),
    ("bad-register-flag", {"registerPaymentAccount": "yes"}, 400, "registerPaymentAccount"),
    (
        "vault-without-customer",
        {"registerPaymentAccount": "true", "customerReferenceNumber": None},
        400,
        "customerReferenceNumber is required",
    ),
    ("control-character", {"paymentReference": "a\x00b"}, 400, "control characters"),
    ("newline-in-name", {"foo\nbar": "1"}, 400, "parameter name contains control characters"),
]


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_token_request_is_refused_naming_the_parameter(
    client: FlaskClient, state: State, overrides: dict[str, str | None], status: int, message: str
) -> None:
    response = client.post(TOKEN_PATH, data=token_params(**overrides))
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/plain")
    body = response.get_data(as_text=True)
    assert body.startswith("error=")
    assert message in body
    assert "\n" not in body
    assert _tokens(state) == []


def test_http_urls_to_loopback_are_allowed(client: FlaskClient) -> None:
    response = client.post(
        TOKEN_PATH,
        data=token_params(
            returnUrl="http://127.0.0.1:8000/thanks", serverReturnUrl="http://localhost/n"
        ),
    )
    assert response.status_code == 200


def test_repeated_parameter_is_refused(client: FlaskClient, state: State) -> None:
    body = urlencode(token_params()) + "&currencyCode=NZD"
    response = client.post(TOKEN_PATH, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "error=currencyCode is given more than once."
    assert _tokens(state) == []


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"username": "merchant"}', "application/json", "form-encoded"),
        (b"username=merchant%FF%FE", "application/x-www-form-urlencoded", "UTF-8"),
        (b"username=\xff\xfe", "application/x-www-form-urlencoded", "UTF-8"),
        (b"&".join(b"a%d=1" % i for i in range(300)), "application/x-www-form-urlencoded", "many"),
    ],
    ids=["json-body", "bad-percent-encoding", "raw-latin1-bytes", "too-many-fields"],
)
def test_malformed_bodies_get_a_text_error(
    client: FlaskClient, body: bytes, content_type: str, message: str
) -> None:
    response = client.post(TOKEN_PATH, data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("error=")
    assert message in response.get_data(as_text=True)


def test_core_errors_use_the_text_envelope(client: FlaskClient) -> None:
    not_found = client.post("/quickstream/NoSuchServlet")
    assert not_found.status_code == 404
    assert not_found.get_data(as_text=True).startswith("error=No endpoint")
    wrong_method = client.get(TOKEN_PATH)
    assert wrong_method.status_code == 405
    assert wrong_method.get_data(as_text=True).startswith("error=")
    too_big = client.post(
        TOKEN_PATH,
        data=b"a=" + b"x" * (1024 * 1024 + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert too_big.status_code == 413
    assert too_big.get_data(as_text=True).startswith("error=")


def test_injected_fault_answers_in_the_text_envelope(client: FlaskClient, state: State) -> None:
    state.add_fault({"provider": "quickstream", "endpoint": "token-request", "status": 503})
    response = client.post(TOKEN_PATH, data=token_params())
    assert response.status_code == 503
    assert response.get_data(as_text=True).startswith("error=")
    assert client.post(TOKEN_PATH, data=token_params()).status_code == 200


def test_caller_from_another_address_gets_403(mockbank: Mockbank) -> None:
    url = urlsplit(mockbank.url("quickstream", "/CommunityTokenRequestServlet"))
    # A real socket from 127.0.0.2: the allow-list holds only 127.0.0.1 and ::1.
    connection = http.client.HTTPConnection(
        url.hostname, url.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    try:
        connection.request(
            "POST",
            url.path,
            body=urlencode(token_params()),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 403
    assert body.startswith("error=")
    assert "127.0.0.2" in body
    state: State = mockbank.state
    assert _tokens(state) == []


def test_forwarded_for_is_ignored_without_trusted_proxies(client: FlaskClient) -> None:
    response = client.post(
        TOKEN_PATH,
        data=token_params(),
        headers={"X-Forwarded-For": "127.0.0.1"},
        environ_overrides={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 403
    assert "203.0.113.7" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("forwarded", "status"),
    [("127.0.0.1", 200), ("127.0.0.1, 203.0.113.9", 403), ("203.0.113.9", 403), ("junk", 403)],
    ids=["allowed-client", "forged-left-entry-ignored", "outside-client", "malformed-header"],
)
def test_forwarded_for_is_read_behind_a_trusted_proxy(forwarded: str, status: int) -> None:
    app = create_app({"trusted_proxies": {"10.0.0.5"}})
    try:
        response = app.test_client().post(
            TOKEN_PATH,
            data=token_params(),
            headers={"X-Forwarded-For": forwarded},
            environ_overrides={"REMOTE_ADDR": "10.0.0.5"},
        )
        assert response.status_code == status
    finally:
        app.extensions["mockbank"].close()


def test_inprocess_mode_routes_the_real_hostname(mockbank_inprocess: object) -> None:
    response = requests.post(
        "https://ws.qvalent.com/CommunityTokenRequestServlet", data=SEED_EXAMPLE, timeout=10
    )
    assert response.status_code == 200
    token = response.text.removeprefix("token=")
    handoff = requests.post(
        "https://quickweb.westpac.com.au/OnlinePaymentServlet3",
        data={"token": token, "communityCode": "COMMUNITY1"},
        allow_redirects=False,
        timeout=10,
    )
    assert handoff.status_code == 303
    assert handoff.headers["Location"].startswith("/quickstream/quickweb/")
    # A browser-like session follows the redirect and pays, all on the real hostnames.
    with requests.Session() as browser:
        page = browser.get(
            "https://quickweb.westpac.com.au/OnlinePaymentServlet3",
            params={"token": token, "communityCode": "COMMUNITY1"},
            timeout=10,
        )
        assert page.status_code == 410  # the token was used by the POST above
        token = requests.post(
            "https://ws.qvalent.com/CommunityTokenRequestServlet", data=SEED_EXAMPLE, timeout=10
        ).text.removeprefix("token=")
        page = browser.get(
            "https://quickweb.westpac.com.au/OnlinePaymentServlet3",
            params={"token": token, "communityCode": "COMMUNITY1"},
            timeout=10,
        )
        assert page.status_code == 200
        assert page.url.startswith("https://quickweb.westpac.com.au/quickstream/quickweb/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        # The seed's token asks for RECURRING: the page sets up a recurring payment, whose
        # first instalment (dated today, Sydney) is paid at once.
        today = re.search(
            r'id="firstPaymentDate" name="firstPaymentDate" min="([0-9-]+)"', page.text
        )
        assert today is not None
        form = card_form(csrf.group(1), amount="5.00")
        form.update(
            customerReferenceNumber="CUST-1",
            frequency="MONTHLY",
            firstPaymentDate=today.group(1),
            scheduleType="CONTINUE_UNTIL_FURTHER_NOTICE",
        )
        receipt = browser.post(page.url + "/pay", data=form, timeout=10)
        assert receipt.status_code == 200
        assert 'id="receipt-number"' in receipt.text
        assert 'id="schedule-id"' in receipt.text


def test_live_server_in_a_fresh_app_serves_tokens() -> None:
    app = create_app({})
    try:
        with LiveServer(app) as server:
            response = requests.post(
                server.url_for("quickstream", "/CommunityTokenRequestServlet"),
                data=token_params(),
                timeout=10,
            )
        assert response.status_code == 200
    finally:
        app.extensions["mockbank"].close()


def test_long_text_body_is_refused_quickly(client: FlaskClient) -> None:
    # Journal masking once took quadratic time on long words; this body took minutes.
    started = monotonic()
    response = client.post(TOKEN_PATH, data=b"a" * 500_000, content_type="text/plain")
    assert response.status_code == 400
    assert monotonic() - started < 5


def test_unknown_parameter_names_are_percent_encoded_in_the_warning(mockbank: Mockbank) -> None:
    url = mockbank.url("quickstream", "/CommunityTokenRequestServlet")
    response = requests.post(url, data={**token_params(), "héllo€": "1"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["X-Mockbank-Warning"].endswith("h%C3%A9llo%E2%82%AC")


@pytest.mark.parametrize(
    ("sent", "kept"), [("100", "100.00"), (" 100.5 ", "100.50"), ("0.1", "0.10")]
)
def test_principal_amount_is_kept_in_quickstreams_amount_format(
    client: FlaskClient, state: State, sent: str, kept: str
) -> None:
    response = client.post(TOKEN_PATH, data=token_params(principalAmount=sent))
    assert response.status_code == 200
    [record] = state.store.records("quickstream.token")
    assert record.value["params"]["principalAmount"] == kept
