"""The detokenization proxy end to end: python-requests through the real proxy port."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import re
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mockbank.providers.forter.models import proxying
from mockbank.providers.forter.models.cards import FIXTURE_EPOCH, network_token_for
from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.forter.helpers import CVC_TOKEN, TOKEN, Target
from tests.processes import free_port

PAN = "4111111111111111"


def post(
    forter: ForterProxyHandle,
    url: str,
    body: str | bytes,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """POST through the proxy with the token inside the tunnel (what requests users can do)."""
    sent = {"forter-token": TOKEN, "Content-Type": "application/json", **(headers or {})}
    return requests.post(
        url,
        data=body,
        headers={k: v for k, v in sent.items() if v is not None},
        proxies=kwargs.pop("proxies", forter.proxies()),
        verify=str(forter.ca_path),
        timeout=10,
        **kwargs,
    )


def single_use(mockbank: Mockbank, cvc: str = "123", **card: Any) -> str:
    """Create a single-use token through the API on the live server."""
    body = {"cardNumber": PAN, "expirationMonth": 8, "expirationYear": 2030, "cvc": cvc, **card}
    response = requests.post(
        mockbank.url("forter", "/v1/tokenization/tokenize-single-use"),
        json={k: v for k, v in body.items() if v is not None},
        auth=("SITE_ID", "SITE_SECRET"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def test_requests_with_token_inside_tunnel_reaches_echo_with_card(
    forter: ForterProxyHandle,
) -> None:
    body = (
        '{"card": "{{ card_number }}", "name": "{{card_holder_name}}", '
        '"exp": "{{ expiration_mm }}/{{ expiration_yy }}"}'
    )
    response = post(forter, "https://api.forter-secure.com/v3/adaptive-auth/3ds/init", body)
    assert response.status_code == 200
    echo = response.json()
    assert echo["method"] == "POST"
    assert echo["path"] == "/v3/adaptive-auth/3ds/init"
    assert json.loads(echo["body"]) == {"card": PAN, "name": "John Smith", "exp": "08/30"}
    assert echo["headers"]["Content-Length"] == str(len(echo["body"]))
    assert not [h for h in echo["headers"] if h.lower().startswith(("forter-", "proxy-"))]


def test_https_proxy_url_tunnels_tls_inside_tls(forter: ForterProxyHandle) -> None:
    proxy = forter.https_url.replace("https://", "https://SITE_ID:SITE_SECRET@")
    response = post(
        forter,
        "https://api.forter-secure.com/v3/x",
        '{"n": "{{ card_number }}"}',
        proxies={"https": proxy},
    )
    assert response.status_code == 200
    assert json.loads(response.json()["body"]) == {"n": PAN}


def test_plain_http_target_through_absolute_uri(forter: ForterProxyHandle) -> None:
    response = post(forter, "http://api.forter-secure.com/plain?x=1", '{"b": "{{ card_bin }}"}')
    assert response.status_code == 200
    assert response.json()["path"] == "/plain?x=1"
    assert json.loads(response.json()["body"]) == {"b": "411111"}


def test_tunnel_is_kept_alive_across_requests(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    with requests.Session() as session:
        session.proxies = forter.proxies()
        for _ in range(5):
            # verify= per request: REQUESTS_CA_BUNDLE would override a session's verify.
            response = session.post(
                "https://api.forter-secure.com/v3/x",
                data="{}",
                headers={"forter-token": TOKEN},
                verify=str(forter.ca_path),
                timeout=10,
            )
            assert response.status_code == 200
    connects = mockbank.state.requests(provider="forter", endpoint="proxy-connect")
    assert len(connects) == 1


@pytest.mark.parametrize(
    "proxies",
    [
        pytest.param(lambda f: {"https": f.url}, id="no-credentials"),
        pytest.param(lambda f: f.proxies("SITE_ID", "wrong"), id="wrong-secret"),
        pytest.param(lambda f: f.proxies("nobody", "SITE_SECRET"), id="unknown-site"),
    ],
)
def test_connect_without_valid_credentials_is_407(forter: ForterProxyHandle, proxies: Any) -> None:
    with pytest.raises(requests.exceptions.ProxyError, match="407"):
        post(forter, "https://api.forter-secure.com/x", "{}", proxies=proxies(forter))


def test_407_on_connect_carries_proxy_authenticate(forter: ForterProxyHandle) -> None:
    host, port = forter.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"CONNECT api.forter-secure.com:443 HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(65536).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 407")
    assert 'Proxy-Authenticate: Basic realm="Forter Secure Proxy"' in head
    assert json.loads(body)["code"] == "PROXY_AUTHENTICATION_REQUIRED"


def test_absolute_uri_request_without_credentials_is_407(forter: ForterProxyHandle) -> None:
    response = post(forter, "http://api.forter-secure.com/x", "{}", proxies={"http": forter.url})
    assert response.status_code == 407
    assert response.headers["Proxy-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("headers", "needle"),
    [
        pytest.param({"forter-token": "ftr1" + "0" * 32}, "could not be found", id="unknown"),
        pytest.param({"forter-token": "tok_visa"}, "not a Forter token", id="malformed"),
        pytest.param(
            {
                "forter-token": None,
                "forter-token-alias-key": "zooz",
                "forter-token-alias-value": "NOPE",
            },
            "No token has the alias",
            id="unknown-alias",
        ),
        pytest.param(
            {"forter-cvc-token": "ftr1" + "1" * 32}, "forter-cvc-token", id="unknown-cvc-token"
        ),
    ],
)
def test_unknown_tokens_are_555(
    forter: ForterProxyHandle, headers: dict[str, str], needle: str
) -> None:
    response = post(forter, "https://api.forter-secure.com/x", "{}", headers)
    assert response.status_code == 555
    assert response.json()["code"] == "TOKEN_NOT_FOUND"
    assert needle in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "headers", "named"),
    [
        pytest.param('{"x": "{{ nope }}"}', {}, "nope", id="unknown-placeholder"),
        pytest.param('{"x": "{{ cvc }}"}', {}, "cvc", id="cvc-with-multi-use-token"),
        pytest.param('{"x": "{{ ZIPCODE }}"}', {}, "ZIPCODE", id="extra-key-is-case-sensitive"),
        pytest.param('{"x": "{{ network_token }}"}', {}, "network_token", id="no-network-token"),
        pytest.param("{}", {"forter-token": None}, "token is required", id="no-token"),
        pytest.param("{}", {"forter-token-alias-key": "zooz"}, "not both", id="token-and-alias"),
        pytest.param(
            "{}", {"forter-token": CVC_TOKEN}, "CVC-only token", id="cvc-token-as-card-token"
        ),
        pytest.param(
            "{}", {"forter-hmac-algo": "sha256"}, "forter-hmac-target-header", id="hmac-partial"
        ),
        pytest.param(
            "{}",
            {
                "forter-hmac-algo": "sha3",
                "forter-hmac-target-header": "sig",
                "forter-hmac-secret": "s",
                "forter-hmac-payload-template": "{{ request-body }}",
            },
            "sha3",
            id="hmac-unknown-algorithm",
        ),
        pytest.param(
            "{}",
            {
                "forter-hmac-algo": "sha256",
                "forter-hmac-target-header": "sig",
                "forter-hmac-secret": "s",
                "forter-hmac-payload-template": "{{ missing-header }}",
            },
            "missing-header",
            id="hmac-unknown-template-part",
        ),
    ],
)
def test_validation_errors_are_556_naming_the_input(
    forter: ForterProxyHandle, body: str, headers: dict[str, str], named: str
) -> None:
    response = post(forter, "https://api.forter-secure.com/x", body, headers)
    assert response.status_code == 556
    payload = response.json()
    assert payload["code"] == "VALIDATION_ERROR"
    assert named in payload["error"]
    assert PAN not in response.text


def test_outbound_policy_refuses_unmapped_host_with_502(forter: ForterProxyHandle) -> None:
    response = post(forter, "https://psp.example.com/pay", '{"n": "{{ card_number }}"}')
    assert response.status_code == 502
    assert "--upstream psp.example.com=URL" in response.json()["error"]


def test_unreachable_loopback_target_is_502_and_burns_no_token(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    closed_port = free_port()  # free a moment ago: nobody listens there
    token = single_use(mockbank)
    url = f"https://127.0.0.1:{closed_port}/pay"
    response = post(forter, url, '{"c": "{{ cvc }}"}', {"forter-token": token})
    assert response.status_code == 502
    assert response.json()["code"] == "TARGET_UNREACHABLE"
    again = post(
        forter, "https://api.forter-secure.com/x", '{"c": "{{ cvc }}"}', {"forter-token": token}
    )
    assert again.status_code == 200
    assert json.loads(again.json()["body"]) == {"c": "123"}


def test_forced_565_from_an_unexpected_failure(
    forter: ForterProxyHandle, mockbank: Mockbank, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(proxying, "substitute", broken)
    response = post(forter, "https://api.forter-secure.com/x", "{}")
    assert response.status_code == 565
    payload = response.json()
    assert payload["code"] == "UNEXPECTED_ERROR"
    assert payload["correlationId"] == response.headers["X-Request-Id"]
    assert "boom" not in response.text  # the traceback goes to the log, not the client
    errors = mockbank.state.take_server_errors()
    assert [str(e) for e in errors] == ["boom"]


def test_injected_fault_on_proxy_endpoint_answers_565(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    mockbank.state.add_fault({"provider": "forter", "endpoint": "proxy", "status": 565, "count": 1})
    first = post(forter, "https://api.forter-secure.com/x", "{}")
    second = post(forter, "https://api.forter-secure.com/x", "{}")
    assert (first.status_code, first.json()["code"]) == (565, "INJECTED_FAULT")
    assert second.status_code == 200


@pytest.mark.parametrize(
    ("url", "headers", "fault", "status", "code"),
    [
        pytest.param("http://api.forter-secure.com/x", {}, False, 407, None, id="407"),
        pytest.param("https://psp.example.com/x", {}, False, 502, "TARGET_UNREACHABLE", id="502"),
        pytest.param(
            "https://api.forter-secure.com/x",
            {"forter-token": "ftr1" + "0" * 32},
            False,
            555,
            "TOKEN_NOT_FOUND",
            id="555",
        ),
        pytest.param(
            "https://api.forter-secure.com/x",
            {"forter-token": None},
            False,
            556,
            "VALIDATION_ERROR",
            id="556",
        ),
        pytest.param("https://api.forter-secure.com/x", {}, True, 565, None, id="565"),
    ],
)
def test_proxy_errors_are_well_formed_json_with_json_content_type(
    forter: ForterProxyHandle,
    mockbank: Mockbank,
    url: str,
    headers: dict[str, str | None],
    fault: bool,
    status: int,
    code: str | None,
) -> None:
    if fault:
        mockbank.state.add_fault({"provider": "forter", "endpoint": "proxy", "status": 565})
    proxies = forter.proxies(site_secret="wrong") if status == 407 else forter.proxies()
    response = post(forter, url, "{}", headers, proxies=proxies)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    payload = json.loads(response.content.decode("utf-8"))  # strict: no trailing bytes
    assert isinstance(payload, dict)
    assert isinstance(payload["error"], str)
    assert payload["error"]
    assert payload["code"] == (code or payload["code"])


def test_stripe_style_form_body_gets_cvc_from_cvc_token(forter: ForterProxyHandle) -> None:
    body = "cvc_update%5Bcvc%5D=%7B%7B%20cvc%20%7D%7D&card%5Bname%5D=%7B%7Bcard_holder_name%7D%7D"
    response = post(
        forter,
        "https://api.stripe.com/v1/tokens",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "forter-cvc-token": CVC_TOKEN},
    )
    assert response.status_code == 200
    assert response.json()["body"] == "cvc_update%5Bcvc%5D=737&card%5Bname%5D=John%20Smith"


def test_cvc_token_is_single_use(forter: ForterProxyHandle) -> None:
    headers = {"forter-cvc-token": CVC_TOKEN}
    first = post(forter, "https://api.stripe.com/v1/tokens", '{"c": "{{ cvc }}"}', headers)
    second = post(forter, "https://api.stripe.com/v1/tokens", '{"c": "{{ cvc }}"}', headers)
    assert first.status_code == 200
    assert second.status_code == 555
    assert "already used" in second.json()["error"]


def test_single_use_token_is_used_once_under_50_concurrent_requests(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    token = single_use(mockbank, cvc="4321")
    barrier = threading.Barrier(50)

    def attempt(_: int) -> int:
        barrier.wait()
        response = post(
            forter,
            "https://api.forter-secure.com/x",
            '{"c": "{{ cvc }}"}',
            {"forter-token": token},
        )
        return response.status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(200) == 1
    assert statuses.count(555) == 49


def test_single_use_token_expires_after_24_hours_of_clock(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    token = single_use(mockbank)
    mockbank.clock.advance(24 * 3600 + 1)
    try:
        response = post(forter, "https://api.forter-secure.com/x", "{}", {"forter-token": token})
    finally:
        mockbank.clock.resume()
    assert response.status_code == 555


def test_alias_headers_pick_the_aliased_card(forter: ForterProxyHandle) -> None:
    headers = {
        "forter-token": None,
        "forter-token-alias-key": "zooz",
        "forter-token-alias-value": "ABC123456",
    }
    response = post(forter, "https://api.forter-secure.com/x", '"{{ card_number }}"', headers)
    assert json.loads(response.json()["body"]) == "5555444433331111"


def test_network_token_placeholders_for_network_token_cards(forter: ForterProxyHandle) -> None:
    body = (
        '{"nt": "{{ network_token }}", "c": "{{ network_token_cryptogram }}", '
        '"e": "{{ network_token_eci }}"}'
    )
    headers = {"forter-token": "ftr15eed0000000000000000000000000008"}
    response = post(forter, "https://api.forter-secure.com/x", body, headers)
    sent = json.loads(response.json()["body"])
    assert sent["nt"] == network_token_for("5353535353535351")
    assert sent["nt"] != "5353535353535351"
    assert len(base64.b64decode(sent["c"])) == 20
    assert sent["e"] == "02"


def test_values_inside_json_strings_are_escaped(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    response = requests.post(
        mockbank.url("forter", "/v1/tokenization/tokenize"),
        json={
            "cardNumber": PAN,
            "expirationMonth": 1,
            "expirationYear": 2031,
            "cardHolderName": 'Dwayne "The Rock" Johnson\\',
        },
        auth=("SITE_ID", "SITE_SECRET"),
        timeout=10,
    )
    token = response.json()["token"]
    body = '{"name": "{{ card_holder_name }}", "raw": {{ expiration_month }}}'
    echoed = post(forter, "https://api.forter-secure.com/x", body, {"forter-token": token})
    assert json.loads(echoed.json()["body"]) == {
        "name": 'Dwayne "The Rock" Johnson\\',
        "raw": 1,
    }


def test_hmac_and_ixopay_signing_headers_are_added(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    mockbank.clock.freeze(FIXTURE_EPOCH)
    try:
        response = post(
            forter,
            "https://gateway.ixopay.com/api/v3/transaction/KEY/debit",
            '{"n": "{{ card_number }}"}',
            {
                "x-api-key": "k1",
                "forter-hmac-algo": "sha512",
                "forter-hmac-target-header": "X-Hmac",
                "forter-hmac-secret": "secret",
                "forter-hmac-payload-template": (
                    "{{ http-method }} {{ http-path }}|{{ x-api-key }}|{{ request-body }}"
                ),
                "Forter-Ixopay-Signature": "ixo-shared",
            },
        )
    finally:
        mockbank.clock.resume()
    echo = response.json()
    headers = echo["headers"]
    body = echo["body"].encode()
    expected = base64.b64encode(
        hmac.new(
            b"secret", b"POST /api/v3/transaction/KEY/debit|k1|" + body, hashlib.sha512
        ).digest()
    ).decode()
    assert headers["X-Hmac"] == expected
    assert headers["Date"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    message = "\n".join(
        [
            "POST",
            hashlib.sha512(body).hexdigest(),
            "application/json",
            "Mon, 01 Jan 2024 00:00:00 GMT",
            "/api/v3/transaction/KEY/debit",
        ]
    )
    signature = hmac.new(b"ixo-shared", message.encode(), hashlib.sha512).digest()
    assert headers["X-Signature"] == base64.b64encode(signature).decode()
    assert not [h for h in headers if h.lower().startswith("forter-")]
    journal = json.dumps([e.as_dict() for e in mockbank.state.requests(provider="forter")])
    assert "ixo-shared" not in journal
    assert '"secret"' not in journal.replace('"forter-hmac-secret"', "")


def test_real_target_gets_substituted_body_and_answer_is_relayed(
    forter: ForterProxyHandle, mockbank: Mockbank, https_target: Target
) -> None:
    response = post(
        forter,
        f"{https_target.url}/teapot?q=1",
        '{"n": "{{ card_number }}"}',
        {"X-Merchant": "m1", "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1"},
    )
    assert response.status_code == 418
    assert response.headers["X-Target"] == "local"
    seen = https_target.seen[-1]
    assert seen["path"] == "/teapot?q=1"
    assert json.loads(seen["body"]) == {"n": PAN}
    assert seen["headers"]["X-Merchant"] == "m1"
    lowered = {k.lower() for k in seen["headers"]}
    assert not lowered & {"forter-token", "proxy-authorization", "x-drop-me", "proxy-connection"}


def ixopay_verifies(seen: dict[str, Any], shared_secret: str) -> bool:
    """Check a received request as Ixopay documents it: X-Date before Date, the full path."""
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    date = headers.get("x-date") or headers["date"]
    message = "\n".join(
        [
            seen["method"],
            hashlib.sha512(seen["body"].encode()).hexdigest(),
            headers.get("content-type", ""),
            date,
            seen["path"],
        ]
    )
    digest = hmac.new(shared_secret.encode(), message.encode(), hashlib.sha512).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), headers["x-signature"])


def test_ixopay_signature_verifies_at_a_real_target_as_ixopay_checks_it(
    forter: ForterProxyHandle, https_target: Target
) -> None:
    response = post(
        forter,
        f"{https_target.url}/api/v3/transaction/API-KEY/debit?trace=1",
        '{"cardData": {"pan": "{{ card_number }}", "holder": "{{ card_holder_name }}"}}',
        {
            "Content-Type": "application/json; charset=utf-8",
            "X-Date": "Mon, 01 Jan 2001 00:00:00 GMT",  # the PHP SDK sends X-Date too
            "Forter-Ixopay-Signature": "ixo-shared-secret",
        },
    )
    assert response.status_code == 200
    seen = https_target.seen[-1]
    assert json.loads(seen["body"])["cardData"]["pan"] == PAN
    assert seen["headers"]["X-Date"] == seen["headers"]["Date"]
    assert ixopay_verifies(seen, "ixo-shared-secret")
    assert not ixopay_verifies(seen, "another-secret")
    assert not [h for h in seen["headers"] if h.lower().startswith("forter-")]


def test_gzip_answers_are_relayed_compressed(
    forter: ForterProxyHandle, https_target: Target
) -> None:
    response = post(forter, f"{https_target.url}/gzip", "{}", stream=True)
    raw = response.raw.read(decode_content=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(raw))["path"] == "/gzip"


def standalone(digits: str, text: str) -> bool:
    """True if `digits` occurs in `text` other than inside a hex id or after a decimal point."""
    return re.search(rf"(?<![0-9a-fA-F.]){digits}(?![0-9a-fA-F])", text) is not None


def test_journal_never_holds_substituted_secrets(
    forter: ForterProxyHandle, mockbank: Mockbank, https_target: Target
) -> None:
    token = single_use(mockbank, cvc="9876")
    post(
        forter,
        "https://api.forter-secure.com/x",
        '{"p": "{{ card_number }}", "c": "{{ cvc }}"}',
        {"forter-token": token},
    )
    post(
        forter,
        f"{https_target.url}/x",
        "p={{ card_number }}&c={{ cvc }}",
        {"forter-cvc-token": CVC_TOKEN, "Content-Type": "text/plain"},
    )
    entries = [e.as_dict() for e in mockbank.state.requests(provider="forter")]
    dumped = json.dumps(entries)
    assert PAN not in dumped
    # As whole numbers: random hex ids and latencies such as 12.737 may contain the digits.
    assert not standalone("9876", dumped)
    assert not standalone("737", dumped)
    proxied = [e for e in entries if e["endpoint"] == "proxy"]
    assert "{{ card_number }}" in proxied[0]["request_body"]
    assert "411111******1111" in proxied[0]["notes"]["forwardedBody"]


def test_strict_x509_client_accepts_minted_leaf(forter: ForterProxyHandle) -> None:
    context = ssl.create_default_context(cafile=str(forter.ca_path))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    host, port = forter.url.removeprefix("http://").split(":")
    credentials = base64.b64encode(b"SITE_ID:SITE_SECRET").decode()
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            f"CONNECT api.forter-secure.com:443 HTTP/1.1\r\nHost: api.forter-secure.com\r\n"
            f"Proxy-Authorization: Basic {credentials}\r\n\r\n".encode()
        )
        assert raw.recv(1024).startswith(b"HTTP/1.1 200")
        with context.wrap_socket(raw, server_hostname="api.forter-secure.com") as tls:
            assert tls.selected_alpn_protocol() in (None, "http/1.1")
            cert = tls.getpeercert()
            assert ("DNS", "api.forter-secure.com") in cert["subjectAltName"]
            tls.sendall(
                f"GET /strict HTTP/1.1\r\nHost: api.forter-secure.com\r\nforter-token: {TOKEN}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_ip_hosts_get_ip_sans(forter: ForterProxyHandle) -> None:
    from cryptography import x509

    cert = forter.proxy.ca.leaf("127.0.0.1")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_ca_key_is_private_and_ca_pem_is_served(
    forter: ForterProxyHandle, mockbank: Mockbank
) -> None:
    key = forter.ca_path.parent / "ca.key"
    assert key.stat().st_mode & 0o777 == 0o600
    served = requests.get(mockbank.url("_mockbank", "/ca.pem"), timeout=10)
    assert served.status_code == 200
    assert served.text == forter.ca_path.read_text()
    assert served.text.startswith("-----BEGIN CERTIFICATE-----")


def test_direct_request_to_proxy_port_is_explained(forter: ForterProxyHandle) -> None:
    response = requests.get(forter.url + "/", timeout=10)
    assert response.status_code == 400
    assert "HTTP proxy" in response.json()["error"]


def test_upstream_mapping_to_a_url_forwards_there(
    forter: ForterProxyHandle, mockbank: Mockbank, https_target: Target
) -> None:
    mockbank.state.outbound.upstreams["psp.test"] = https_target.url + "/mapped"
    try:
        response = post(forter, "https://psp.test/pay?x=1", '{"n": "{{ card_last_four }}"}')
    finally:
        del mockbank.state.outbound.upstreams["psp.test"]
    assert response.status_code == 200
    seen = https_target.seen[-1]
    assert seen["path"] == "/mapped/pay?x=1"
    assert seen["headers"]["Host"] == "psp.test"
    assert json.loads(seen["body"]) == {"n": "1111"}
