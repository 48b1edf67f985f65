# The seed's curl commands below are kept verbatim, long lines and all.
# ruff: noqa: E501
"""The seed's curl examples, run with curl as written except for the proxy address and CA file.

The seed's proxy host (pci-proxy-sandbox.checkouttools.com) becomes the test proxy's
``https://127.0.0.1:<port>``; ``[your CA certificate file path]`` becomes the local CA, passed
to ``--proxy-cacert`` as well because the proxy URL is ``https://``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
from typing import Any

import pytest

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

MANAGED_ORDER = r"""curl 'https://api.forter-secure.com/v3/managed/orders/ORDER_ID' \
-x https://SITE_ID:SITE_SECRET@PROXY \
--proxy-header 'forter-token: ftr1df95272f9e204c5791427722cc4ef407' \
--cacert CA_FILE \
-X POST \
-H 'Content-type: application/json' \
-H 'x-forter-siteid: SITE_ID' \
-H 'api-version: API_VERSION' \
-H 'authorization: Basic dGVzdDo=' \
--data '
{
"orderId": "2356fdse0rr489",
"orderType": "WEB",
"authorizationStep": "PRE_AUTHORIZATION",
"totalAmount": {
"amountUSD": "99.95",
"amountLocalCurrency": "105.55",
"currency": "CAD",
"amountMerchantMainCurrency": "125.95",
"merchantMainCurrency": "EUR"
},
"totalDiscount": {
"couponCodeUsed": "FATHERSDAY2015",
"discountType": "COUPON"
},
"payment": [
{
"creditCard": {
"nameOnCard": "{{ card_holder_name }}",
"bin": "{{ card_bin }}",
"lastFourDigits": "{{ card_last_four }}",
"cardType": "credit",
"expirationMonth": "{{ expiration_mm }}",
"expirationYear": "{{ expiration_year }}"
"fullCreditCard": "{{ card_number }}"
},
"billingDetails": {
"personalDetails": {
"fullName": "Or Paul",
"email": "[email protected]"
},
"phone": [],
"address": {
"zip": "90043",
"address1": "123 17th St",
"city": "Santa Monica",
"region": "CA",
"country": "US"
}
},
"amount": { // amount on first card
"currency": "EUR",
"amountLocalCurrency": "90.00",
"amountUSD": "100.00"
}
},
"primaryRecipient": {
"personalDetails": {
"firstName": "John",
"lastName": "Smith",
"gender": "MALE",
"birthdate": "1987-05-22",
"email": "[email protected]"
},
"address": {
"address1": "235 Montgomery st.",
"address2": "Ste. 1110",
"zip": "94104",
"city": "San Francisco",
"region": "CA",
"country": "US",
"company": "Generic Corp. ltd.",
"savedData": {
"usedSavedData": true,
"choseToSaveData": false
}
},
"comments": {
"userCommentsToMerchant": "Please wrap with care!!",
"messageToBeneficiary": "Enjoy the gift John!",
"merchantComments": "Shipping delayed"
}
},
"phoneOrderInformation": {
"customerWebId": "123456789",
"callerFirstName": "John",
"callerLastName": "Smith",
"callerId": "2121234567",
"callStartTime": 1412345911,
"callDuration": 4,
"remarks": "The customer is buying the product for a friend",
"merchantAgentData": {
"merchantAgentName": "John Smith",
"merchantAgentId": "HG36885TZ"
}
},
"historicalData": {
"orderStatus": "COMPLETED",
"merchantOrderStatus": "Shipped",
"fraud": "FRAUD_CHARGEBACK"
}
}
'"""

# The seed's line ends '...}'}' (a stray "}'" that leaves the shell quote open); the
# intended body is the JSON object before it.
ADAPTIVE_AUTH_INIT = r"""curl 'https://api.forter-secure.com/v3/adaptive-auth/3ds/init' \
-x https://SITE_ID:SITE_SECRET@PROXY \
--proxy-header 'forter-token: ftr1df95272f9e204c5791427722cc4ef407' \
--cacert CA_FILE \
-X POST \
-H 'Content-type: application/json' \
-H 'x-forter-siteid: SITE_ID' \
-H 'api-version: API_VERSION' \
-u "SITE_SECRET:''" \
-d '{"orderId":"235631407","fullCreditCard":"{{ card_number}}","nameOnCard":"{{ card_holder_name }}","expirationMonth":"{{ expiration_month }}","expirationYear":"{{ expiration_year }}"}'"""

FISERV = r"""curl 'https://prod.emea.api.fiservapps.com/sandbox/ipp/payments-gateway/v2/payments/' \
-x 'https://SITE_ID:SITE_SECRET@PROXY' \
--proxy-header 'forter-token: ftr1df95272f9e204c5791427722cc4ef407' \
-X POST \
-H 'Content-type: application/json' \
-H 'client-request-id: 123456' \
-H 'api-key: FISERV_API_KEY' \
-H 'timestamp: 655846200000' \
-H 'forter-hmac-target-header: message-signature' \
-H 'forter-hmac-algo: sha256' \
-H 'forter-hmac-secret: signing-secret' \
-H 'forter-hmac-payload-template: {{ api-key }}{{ client-request-id }}{{ timestamp }}{{ request-body }}' \
-d '
{
fullCreditCard: "{{ card_number }}",
nameOnCard: "{{ card_holder_name }}",
expirationMM: "{{ expiration_mm }}",
expirationYY: "{{ expiration_yy }}",
}'"""


def run_curl(command: str, forter: ForterProxyHandle) -> dict[str, Any]:
    """Run a seed curl command with the local proxy address and CA file put in."""
    proxy = forter.https_url.removeprefix("https://")
    ca = str(forter.ca_path)
    command = command.replace("PROXY", proxy).replace("CA_FILE", ca)
    # The https:// proxy's own certificate comes from the same CA.
    command = command.replace(
        "curl '", f"curl --silent --show-error --proxy-cacert {ca} --cacert {ca} '", 1
    )
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def header(echo: dict[str, Any], name: str) -> str:
    """A forwarded header by case-insensitive name (the echo keeps the client's casing)."""
    values = [v for k, v in echo["headers"].items() if k.lower() == name]
    assert len(values) == 1, (name, echo["headers"])
    return str(values[0])


def assert_no_proxy_headers(echo: dict[str, Any]) -> None:
    names = [name.lower() for name in echo["headers"]]
    assert not [n for n in names if n.startswith(("forter-", "proxy-"))]


def test_seed_curl_managed_order_3ds(forter: ForterProxyHandle) -> None:
    echo = run_curl(MANAGED_ORDER, forter)
    assert echo["path"] == "/v3/managed/orders/ORDER_ID"
    body = echo["body"]
    for expected in (
        '"nameOnCard": "John Smith"',
        '"bin": "411111"',
        '"lastFourDigits": "1111"',
        '"expirationMonth": "08"',
        '"expirationYear": "2030"',
        '"fullCreditCard": "4111111111111111"',
        "// amount on first card",
    ):
        assert expected in body
    assert header(echo, "authorization") == "Basic dGVzdDo="
    assert_no_proxy_headers(echo)


def test_seed_curl_adaptive_auth_init(forter: ForterProxyHandle) -> None:
    echo = run_curl(ADAPTIVE_AUTH_INIT, forter)
    assert json.loads(echo["body"]) == {
        "orderId": "235631407",
        "fullCreditCard": "4111111111111111",
        "nameOnCard": "John Smith",
        "expirationMonth": "8",
        "expirationYear": "2030",
    }
    assert header(echo, "x-forter-siteid") == "SITE_ID"
    assert header(echo, "authorization") == "Basic U0lURV9TRUNSRVQ6Jyc="  # -u SITE_SECRET:''
    assert_no_proxy_headers(echo)


def test_seed_curl_fiserv_hmac_is_the_base64_message_signature_fiserv_verifies(
    forter: ForterProxyHandle,
) -> None:
    """Fiserv's Message-Signature is Base64(HMAC-SHA256(secret, api-key + client-request-id +
    timestamp + body)); the seed's example must produce exactly what Fiserv would compute."""
    # The seed's Fiserv example has no --cacert line: the target CA is added by run_curl.
    echo = run_curl(FISERV, forter)
    body = echo["body"]
    assert 'fullCreditCard: "4111111111111111"' in body
    assert 'expirationYY: "30"' in body
    raw = hmac.new(
        b"signing-secret",
        b"FISERV_API_KEY" + b"123456" + b"655846200000" + body.encode(),
        hashlib.sha256,
    ).digest()
    signature = header(echo, "message-signature")
    assert signature == base64.b64encode(raw).decode("ascii")
    assert base64.b64decode(signature, validate=True) == raw  # 44 characters, not 64 hex
    assert_no_proxy_headers(echo)


TOKEN_SOURCES = """curl 'https://api.forter-secure.com/v3/sources' \
-x https://SITE_ID:SITE_SECRET@PROXY \
--proxy-header 'forter-token: CONNECT_TOKEN' \
--proxy-header 'forter-cvc-token: ftr1c0ffee00000000000000000000000001' \
--cacert CA_FILE \
-H 'Content-type: application/json' \
INNER \
--data '{"bin": "{{ card_bin }}", "c": "{{ cvc }}"}'"""


@pytest.mark.parametrize(
    ("connect_token", "inner", "bin", "source"),
    [
        pytest.param(
            "ftr1df95272f9e204c5791427722cc4ef407", "", "411111", "connect", id="connect-only"
        ),
        pytest.param(
            "ftr1" + "0" * 32,  # unknown on the CONNECT, overridden inside the tunnel
            "-H 'forter-token: ftr1df95272f9e204c5791427722cc4ef407'",
            "411111",
            "request",
            id="inside-wins-over-connect",
        ),
        pytest.param(
            "ftr1df95272f9e204c5791427722cc4ef407",
            "-H 'forter-token-alias-key: zooz' -H 'forter-token-alias-value: ABC123456'",
            "555544",  # the alias's card, not the CONNECT token's
            "request",
            id="inside-alias-wins-over-connect-token",
        ),
    ],
)
def test_connect_headers_give_the_token_and_in_tunnel_headers_win(
    forter: ForterProxyHandle,
    mockbank: Mockbank,
    connect_token: str,
    inner: str,
    bin: str,
    source: str,
) -> None:
    # Backslash-newlines vanish in these (non-raw) strings: the command is one line.
    command = TOKEN_SOURCES.replace("CONNECT_TOKEN", connect_token).replace("INNER", inner)
    echo = run_curl(command, forter)
    body = json.loads(echo["body"])
    assert body["c"] == "737"  # the CVC token from the CONNECT applies either way
    assert body["bin"] == bin
    [entry] = mockbank.state.requests(provider="forter", endpoint="proxy")
    assert entry.notes["tokenSource"] == source
    assert_no_proxy_headers(echo)
