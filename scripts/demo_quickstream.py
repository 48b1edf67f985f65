#!/usr/bin/env python3
"""A narrated QuickStream / QuickWeb walkthrough against a running mockbank.

    mockbank serve &                       # in another terminal
    python scripts/demo_quickstream.py     # or --base-url http://127.0.0.1:8787
    python scripts/demo_quickstream.py --interactive   # you pay in a browser

It plays the merchant: a local web server (127.0.0.1, a free port) receives the passback and
the server-to-server notification; the script requests a security token, prints the handoff
URL, pays as a browser would (or waits for you to), and shows what came back, hmac checked.
Only the standard library and mockbank's own helper are used.
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import re
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from mockbank.clients.quickstream import verify_passback
from mockbank.clock import monotonic

FACILITY = {
    "username": "merchant",
    "password": "merchant-secret",
    "supplierBusinessCode": "SUPPLIER1",
}
COMMUNITY_CODE = "COMMUNITY1"
PASSBACK_SECRET = "passback-secret"


class Merchant:
    """The merchant's own server: receives the passback (/thankyou) and notifications."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
        self.arrived = threading.Condition()
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                fields = dict(parse_qsl(body or parts.query, keep_blank_values=True))
                page = b"<html><body><h1>Thank you (merchant site)</h1></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                self.wfile.flush()
                # Only once the answer is out: the demo may end (and this thread with it) as
                # soon as it hears of this request.
                with merchant.arrived:
                    merchant.received.append(
                        (self.command, parts.path, dict(self.headers.items()), fields)
                    )
                    merchant.arrived.notify_all()

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, path: str, timeout: float) -> dict[str, Any] | None:
        """The first request to `path` within `timeout` seconds (wall time: a person waits)."""
        deadline = monotonic() + timeout
        with self.arrived:
            while True:
                for method, got, headers, fields in self.received:
                    if got == path:
                        return {"method": method, "headers": headers, "fields": fields}
                remaining = deadline - monotonic()
                if remaining <= 0:
                    return None
                self.arrived.wait(min(remaining, 0.5))

    def stop(self) -> None:
        self.server.shutdown()


def say(text: str = "") -> None:
    print(text, flush=True)


def show(fields: dict[str, str], indent: str = "    ") -> None:
    for name, value in fields.items():
        say(f"{indent}{name:<26} {value}")


class Browser:
    """Just enough of a browser: cookies, redirects, forms."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=15) as r:
                return r.status, r.geturl(), r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, url, error.read().decode()


def hidden_fields(page: str) -> dict[str, str]:
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in pairs}


def request_token(base: str, params: dict[str, str]) -> str:
    request = urllib.request.Request(
        base + "/CommunityTokenRequestServlet",
        data=urlencode({**FACILITY, **params}).encode(),
        headers={"Accept": "text/plain", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        body: str = response.read().decode()
    say(f"  <- 200 {body}")
    return body.removeprefix("token=")


def pay_as_browser(handoff_url: str, card: str) -> dict[str, str]:
    """Open the handoff link, pay with `card`, press 'Return to merchant', post the passback."""
    browser = Browser()
    status, page_url, page = browser.open(handoff_url)
    if status != 200 or "payment-form" not in page:
        raise SystemExit(f"the payment page did not open (HTTP {status})")
    csrf = hidden_fields(page)["csrf"]
    say(f"  payment page: {page_url}")
    form = {
        "csrf": csrf,
        "paymentMethod": "card",
        "cardholderName": "Jane Citizen",
        "cardNumber": card,
        "expiryDateMonth": "12",
        "expiryDateYear": "2030",
        "cvn": "123",
    }
    say(f"  paying with card {card[:6]}...{card[-3:]} (12/2030, CVN 123)")
    status, receipt_url, receipt = browser.open(page_url + "/pay", form)
    match = re.search(r'id="receipt-number">(\d+)<', receipt)
    if status != 200 or match is None:
        raise SystemExit(f"no receipt (HTTP {status})")
    outcome = re.search(r'id="outcome">\s*([^<]+?)\s*<', receipt)
    say(f"  receipt page: {receipt_url}")
    say(f"  receipt number {match.group(1)}: {outcome.group(1) if outcome else '?'}")
    say("  pressing 'Return to merchant' (QuickWeb answers an auto-submitting form)")
    status, _, passback_page = browser.open(
        receipt_url.rsplit("/", 1)[0] + "/return", {"csrf": csrf}
    )
    action = re.search(r'<form id="passback" method="POST" action="([^"]+)"', passback_page)
    if status != 200 or action is None:
        raise SystemExit(f"no passback form (HTTP {status})")
    fields = hidden_fields(passback_page)
    browser.open(html.unescape(action.group(1)), fields)
    return fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--base-url", default="http://127.0.0.1:8787")
    parser.add_argument(
        "--interactive", action="store_true", help="wait for a person to pay in a browser"
    )
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for a person")
    args = parser.parse_args(argv)
    root = args.base_url.rstrip("/")
    base = root + "/quickstream"

    say("QuickStream / QuickWeb walkthrough")
    say("=" * 34)
    try:
        with urllib.request.urlopen(root + "/_mockbank/health", timeout=5) as response:
            response.read()
    except OSError as error:
        say(f"mockbank is not answering at {root} ({error}). Start it with: mockbank serve")
        return 2
    merchant = Merchant()
    say(f"The merchant's server listens at {merchant.url} (passback and notifications).")
    try:
        say()
        say("1. The merchant's server asks QuickStream for a security token")
        params = {
            "connectionType": "QUICKWEB",
            "product": "QUICKWEB",
            "currencyCode": "AUD",
            "principalAmount": "150.00",
            "paymentReference": "INV-2024-001",
            "customerReferenceNumber": "CUST-7",
            "returnUrl": merchant.url + "/thankyou",
            "cancelUrl": merchant.url + "/cancelled",
            "serverReturnUrl": merchant.url + "/notify",
            "customPayeeName": "Acme Plumbing Pty Ltd",
        }
        say(f"  -> POST {base}/CommunityTokenRequestServlet")
        show({**{k: v for k, v in FACILITY.items() if k != "password"}, **params})
        token = request_token(base, params)

        say()
        say("2. The handoff: the payer's browser goes to QuickWeb with the token")
        handoff_url = f"{base}/OnlinePaymentServlet3?" + urlencode(
            {"token": token, "communityCode": COMMUNITY_CODE}
        )
        say(f"  {handoff_url}")
        say("  (the token works once, within 1 hour)")

        say()
        if args.interactive:
            say("3. Open the URL above in a browser and pay. Test cards: 4242 4242 4242 4242")
            say("   approves; a number ending in 90-99 declines (…96: not sufficient funds).")
            say("   Any future expiry, any 3-digit CVN. Then press 'Return to merchant'.")
            arrived = merchant.wait("/thankyou", args.wait)
            if arrived is None:
                say(f"  no passback within {args.wait:.0f} s; giving up")
                return 1
            passback = arrived["fields"]
        else:
            say("3. The payer pays on the QuickWeb page (played here by a tiny browser)")
            passback = pay_as_browser(handoff_url, "4242424242424242")

        say()
        say("4. The passback the merchant received at its returnUrl")
        show(passback)
        valid = verify_passback(passback, PASSBACK_SECRET)
        say(f"  hmac {'verified' if valid else 'DOES NOT VERIFY'} with the facility secret")

        say()
        say("5. The server-to-server notification (form POST with HTTP Basic)")
        notification = merchant.wait("/notify", 15)
        if notification is None:
            say("  no notification arrived; see GET /_mockbank/outbox")
            return 1
        say(f"  Authorization: {notification['headers'].get('Authorization', '')[:10]}… (notify)")
        show(notification["fields"])

        if not args.interactive:
            say()
            say("6. A card ending in 96 is declined the same way (summaryCode 1, code 51)")
            token = request_token(base, params)
            declined = pay_as_browser(
                f"{base}/OnlinePaymentServlet3?"
                + urlencode({"token": token, "communityCode": COMMUNITY_CODE}),
                "4000000000000796",
            )
            say(
                f"  passback: summaryCode={declined['summaryCode']} "
                f"responseCode={declined['responseCode']} ({declined['responseDescription']})"
            )
            valid = valid and verify_passback(declined, PASSBACK_SECRET)
        say()
        say(f"See the requests at {root}/_mockbank/requests?provider=quickstream")
        say(f"and the notifications at {root}/_mockbank/outbox?provider=quickstream")
        return 0 if valid else 1
    finally:
        merchant.stop()


if __name__ == "__main__":
    sys.exit(main())
