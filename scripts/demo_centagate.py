#!/usr/bin/env python3
"""A narrated Centagate walkthrough against a running mockbank (``mockbank serve``).

Requests a QR for a transaction, shows the QR as a PNG file and as terminal text, computes the
OTP as alice's CENTAGATE app would, signs the transaction, then shows three refusals and their
return codes: a replayed challenge, a wrong OTP and a bad HMAC.

    python scripts/demo_centagate.py --base-url http://127.0.0.1:8787
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import segno

from mockbank.clients.centagate import device_otp, parse_qr, sign

INTEGRATION_KEY = "mockbank-integration-key"
SECRET_KEY = "mockbank-secret-key"
USERNAME = "alice"
DEVICE = "alice-device-1"
DEVICE_SECRET = "alice-device-secret"
API = "/centagate/v2/CentagateWS/webresources"


def say(text: str = "") -> None:
    print(text, flush=True)


def call(base: str, path: str, body: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    """POST JSON (or GET without a body); the decoded answer and the response headers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read()), response.headers


def server_time(base: str) -> str:
    # The server's app clock, which tests may have moved; a real client would use its own.
    clock, _ = call(base, "/_mockbank/clock")
    return str(int(clock["epoch"]))


def request_qr(base: str, details: str) -> dict[str, Any]:
    body = {
        "username": USERNAME,
        "devAccId": DEVICE,
        "details": base64.b64encode(details.encode()).decode(),
        "authToken": "",
        "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": server_time(base),
        "supportFido": "",
        "ipAddress": "127.0.0.1",
        "userAgent": "demo_centagate.py",
        "browserFp": "",
    }
    body["hmac"] = sign(body, SECRET_KEY)
    answer, headers = call(base, f"{API}/req/requestQrCode", body)
    if answer["code"] != "0":  # the server sends the code as a string
        raise SystemExit(f"requestQrCode failed: {answer}")
    say(f"  code {answer['code']} {answer['message']!r}; HMAC order matched: "
        f"{headers['X-Mockbank-Hmac-Order']}")  # fmt: skip
    issued: dict[str, Any] = json.loads(answer["object"])
    return issued


def auth_qr(
    base: str, issued: dict[str, Any], otp: str, *, secret_key: str = SECRET_KEY
) -> dict[str, Any]:
    body = {
        "username": USERNAME,
        "devAccId": DEVICE,
        "otp": otp,
        "challenge": issued["otpChallenge"],
        "details": base64.b64encode(issued["plainText"].encode()).decode(),
        "authToken": issued["authToken"],
        "integrationKey": INTEGRATION_KEY,
        "unixTimestamp": server_time(base),
        "supportFido": "",
        "ipAddress": "127.0.0.1",
        "userAgent": "demo_centagate.py",
        "browserFp": "",
        "transactionValue": "250.00",
        "isTransaction": "1",
    }
    body["hmac"] = sign(body, secret_key)
    answer, _ = call(base, f"{API}/auth/authQRCode", body)
    return answer


def expect(label: str, answer: dict[str, Any], code: int) -> bool:
    ok = answer["code"] == str(code)
    mark = "as expected" if ok else f"UNEXPECTED (wanted {code})"
    say(f"  {label}: code {answer['code']} {answer['message']!r} -- {mark}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8787")
    parser.add_argument("--out-dir", help="where to write the QR PNG (default: a temp dir)")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    out_dir = Path(args.out_dir or tempfile.mkdtemp(prefix="mockbank-centagate-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    ok = True

    say("1. The bank asks Centagate for a QR code to sign 'Transfer RM 250.00 to Bob'")
    issued = request_qr(base, "Transfer RM 250.00 to Bob")
    say(f"  otpChallenge {issued['otpChallenge']}, plainText {issued['plainText']!r}")
    say(f"  qrCode {issued['qrCode']}")

    say("\n2. The bank shows the QR; here as a PNG file and as terminal text")
    qr = segno.make_qr(issued["qrCode"], error="m")  # never a Micro QR: phones cannot read those
    png = out_dir / f"centagate-qr-{issued['otpChallenge']}.png"
    qr.save(str(png), scale=6, border=2)
    say(f"  QR image written to {png}")
    text = io.StringIO()
    qr.terminal(out=text, compact=True)
    say(text.getvalue())
    say(f"  (alice's simulated app shows the same at {base}/centagate/device/{DEVICE})")

    say("3. Alice's CENTAGATE app scans it and derives the OTP from its device secret")
    scanned = parse_qr(issued["qrCode"])
    otp = device_otp(DEVICE_SECRET, scanned.otp_challenge, scanned.plain_text)
    say(f"  the app shows OTP {otp}")

    say("\n4. The bank signs the transaction with authQRCode")
    answer = auth_qr(base, issued, otp)
    ok &= expect("authQRCode", answer, 0)
    if answer["code"] == "0":
        signed = json.loads(answer["object"])
        say(f"  signed for {signed['username']} (userId {signed['userId']}), "
            f"authToken {signed['authToken']}")  # fmt: skip

    say("\n5. Three refusals, each with its Centagate return code")
    ok &= expect("the same challenge again (replay)", auth_qr(base, issued, otp), 23001)
    second = request_qr(base, "Transfer RM 99.00 to Carol")
    wrong = "000000" if otp != "000000" else "111111"
    ok &= expect("a wrong OTP", auth_qr(base, second, wrong), 23001)
    ok &= expect(
        "an HMAC made with the wrong secret key",
        auth_qr(base, second, otp, secret_key="not-the-secret"),
        55000,
    )
    say("\nDone: " + ("every step answered as expected." if ok else "SOMETHING WAS OFF."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
