"""A narrated walkthrough of mockbank's Forter: tokenize a card, detokenize it through the proxy.

Run it against a running server:

    mockbank serve --upstream api.forter-secure.com=echo
    python scripts/demo_forter.py --base-url http://127.0.0.1:8787 --proxy-url http://127.0.0.1:8788

Without the ``--upstream`` mapping the demo sends the seed's 3DS request to the echo target on
the main port instead (``{base}/forter/echo/...``, a loopback address the proxy may always call).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

SITE = ("SITE_ID", "SITE_SECRET")
SEEDED_TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
THREE_DS_BODY = (
    '{"orderId":"235631407","fullCreditCard":"{{ card_number}}",'
    '"nameOnCard":"{{ card_holder_name }}","expirationMonth":"{{ expiration_month }}",'
    '"expirationYear":"{{ expiration_year }}"}'
)


def say(text: str) -> None:
    print(f"\n== {text}")


def show(label: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value, indent=2)
    print(f"   {label}: {text}")


class Demo:
    def __init__(self, base_url: str, proxy_url: str, ca_file: Path) -> None:
        self.base = base_url.rstrip("/")
        scheme, _, rest = proxy_url.partition("://")
        self.proxy_host = rest.rstrip("/")
        self.scheme = scheme
        self.ca = str(ca_file)

    def proxies(self, user: str = SITE[0], secret: str = SITE[1]) -> dict[str, str]:
        url = f"{self.scheme}://{user}:{secret}@{self.proxy_host}"
        return {"http": url, "https": url}

    def through_proxy(
        self, url: str, body: str, headers: dict[str, str], **kwargs: Any
    ) -> requests.Response:
        return requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", **headers},
            proxies=kwargs.pop("proxies", self.proxies()),
            verify=self.ca,  # per request: REQUESTS_CA_BUNDLE would override a session's verify
            timeout=10,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8787")
    parser.add_argument("--proxy-url", default="http://127.0.0.1:8788")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")

    say("1. The server is up, and its proxy CA can be downloaded")
    health = requests.get(f"{base}/_mockbank/health", timeout=10)
    health.raise_for_status()
    show("providers", health.json()["providers"])
    pem = requests.get(f"{base}/_mockbank/ca.pem", timeout=10)
    pem.raise_for_status()
    with tempfile.TemporaryDirectory() as tmp:
        ca_file = Path(tmp) / "forter-proxy-ca.pem"
        ca_file.write_text(pem.text)
        show("CA saved to", str(ca_file))
        return run(Demo(base, args.proxy_url, ca_file))


def run(demo: Demo) -> int:
    base = demo.base
    say("2. Tokenize a card (multi-use) and a single-use card with a CVC")
    multi = requests.post(
        f"{base}/forter/v1/tokenization/tokenize",
        json={
            "cardNumber": "4444333322221111",
            "expirationMonth": 12,
            "expirationYear": 2030,
            "cardHolderName": "Ada Lovelace",
            "alias": {"key": "shop", "value": "customer-42"},
            "extra": {"zipCode": "10001"},
        },
        auth=SITE,
        timeout=10,
    )
    multi.raise_for_status()
    show("multi-use token", multi.json())
    single = requests.post(
        f"{base}/forter/v1/tokenization/tokenize-single-use",
        json={
            "cardNumber": "5555444433331111",
            "expirationMonth": 11,
            "expirationYear": 2031,
            "cvc": "321",
        },
        auth=SITE,
        timeout=10,
    )
    single.raise_for_status()
    show("single-use token", f"{single.json()['token']} (expires {single.json()['expiresAt']})")

    say("3. The seed's 3DS example through the proxy (token on the request, inside the tunnel)")
    target = "https://api.forter-secure.com/v3/adaptive-auth/3ds/init"
    headers = {"forter-token": SEEDED_TOKEN, "x-forter-siteid": "SITE_ID"}
    response = demo.through_proxy(target, THREE_DS_BODY, headers)
    if response.status_code == 502:
        show("note", "api.forter-secure.com is not mapped to echo; using the main port's echo")
        target = f"{base}/forter/echo/v3/adaptive-auth/3ds/init"
        response = demo.through_proxy(target, THREE_DS_BODY, headers)
    response.raise_for_status()
    echo = response.json()
    show("sent", THREE_DS_BODY)
    show("the PSP received", echo["body"])
    show("headers it received", echo["headers"])
    forwarded = [h for h in echo["headers"] if h.lower().startswith(("forter-", "proxy-"))]
    show("forter-*/proxy-* headers forwarded", forwarded or "none")

    say("4. A CVC from the single-use token, then the same token again")
    body = '{"cvc": "{{ cvc }}"}'
    first = demo.through_proxy(target, body, {"forter-token": single.json()["token"]})
    again = demo.through_proxy(target, body, {"forter-token": single.json()["token"]})
    show("first use", f"{first.status_code} {first.json()['body']}")
    show("second use", f"{again.status_code} {again.json()['error']}")

    say("5. Each of the proxy's own error codes")
    cases = [
        (
            "407 wrong proxy credentials",
            target,
            "{}",
            {"forter-token": SEEDED_TOKEN},
            demo.proxies("SITE_ID", "wrong"),
        ),
        ("555 unknown token", target, "{}", {"forter-token": "ftr1" + "0" * 32}, None),
        (
            "556 unknown placeholder",
            target,
            '{"x": "{{ card_pin }}"}',
            {"forter-token": SEEDED_TOKEN},
            None,
        ),
        (
            "556 cvc with a multi-use token",
            target,
            '{"x": "{{ cvc }}"}',
            {"forter-token": SEEDED_TOKEN},
            None,
        ),
        (
            "502 host not allowed",
            "https://psp.example.com/pay",
            "{}",
            {"forter-token": SEEDED_TOKEN},
            None,
        ),
    ]
    for label, url, payload, extra, proxies in cases:
        try:
            answer = demo.through_proxy(
                url, payload, extra, **({"proxies": proxies} if proxies else {})
            )
            show(label, f"{answer.status_code} {answer.json()['error']}")
        except requests.exceptions.ProxyError as error:
            show(label, f"the CONNECT was refused: {str(error)[-60:]}")
    fault = requests.post(
        f"{base}/_mockbank/faults",
        json={"provider": "forter", "endpoint": "proxy", "status": 565, "count": 1},
        timeout=10,
    )
    fault.raise_for_status()
    forced = demo.through_proxy(target, "{}", {"forter-token": SEEDED_TOKEN})
    show("565 forced with a fault rule", f"{forced.status_code} {forced.json()['error']}")

    say("6. The journal holds masked bodies only")
    entries = requests.get(
        f"{base}/_mockbank/requests",
        params={"provider": "forter", "endpoint": "proxy"},
        timeout=10,
    ).json()["requests"]
    ok = [e for e in entries if e["status"] == 200 and "forwardedBody" in e["notes"]]
    show("what the client sent", ok[0]["request_body"])
    show("what was forwarded (masked)", ok[0]["notes"]["forwardedBody"])
    leaked = "4111111111111111" in json.dumps(entries)
    show("full card number anywhere in the journal", "yes (BUG)" if leaked else "no")
    print("\nDone.")
    return 1 if leaked or forwarded else 0


if __name__ == "__main__":
    sys.exit(main())
