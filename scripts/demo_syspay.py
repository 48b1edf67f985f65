#!/usr/bin/env python3
"""A narrated SysPay walkthrough against a running mockbank.

    mockbank serve &            # or any LiveServer
    python scripts/demo_syspay.py --base-url http://127.0.0.1:8787

The merchant tokenizes a card naming a partner, the partner detokenizes it, opens the one-time
URL, and sees a second visit refused; then the merchant detokenizes its own token, and a partner
acts for the merchant with the hospitality API's combined header. Exit status 0 when every
step answered as documented.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mockbank.clients.syspay import wsse_header
from mockbank.masking import mask_cards

PARTNER = ("myPartnerLogin", "myPartnerPassphrase")
IMAGE_ONLY = ("imageOnlyPartner", "imageOnlyPassphrase")
MERCHANT = ("myMerchantLogin", "myMerchantPassphrase")


class Demo:
    """HTTP calls against one mockbank, and a tally of unexpected answers."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.failures = 0

    def call(
        self, method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; status, headers and body, whatever the status."""
        url = path if path.startswith("http") else self.base + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def header(
        self,
        who: tuple[str, str],
        *,
        partner: bool = True,
        acting_partner: tuple[str, str] | None = None,
    ) -> dict[str, str]:
        """A fresh X-Wsse header whose Created is the server's clock."""
        # Created must be within 300 s of the *server's* clock, which a test may have moved.
        _, _, raw = self.call("GET", "/_mockbank/clock")
        created = int(json.loads(raw)["epoch"])
        value = wsse_header(*who, partner=partner, created=created, acting_partner=acting_partner)
        return {"X-Wsse": value}

    def expect(self, what: str, status: int, wanted: int) -> bool:
        """Print the step's status and count it when it is not the documented one."""
        ok = status == wanted
        print(f"   {'ok' if ok else 'UNEXPECTED'}: {what} -> HTTP {status}")
        if not ok:
            self.failures += 1
        return ok

    @staticmethod
    def say(step: str) -> None:
        print(f"\n== {step}")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def run(base_url: str, save_png: Path | None) -> int:
    """The walkthrough; 0 when every step answered as documented."""
    demo = Demo(base_url)
    demo.say("Is mockbank up?")
    status, _, raw = demo.call("GET", "/_mockbank/health")
    if not demo.expect("GET /_mockbank/health", status, 200):
        return 1
    print(f"   server clock: {json.loads(raw)['now']}")

    demo.say("1. The merchant tokenizes a card and names who may detokenize it")
    body = {
        "creditcard": {
            "number": "5555555555554444",
            "cardholder": "Jane Roe",
            "exp_month": "11",
            "exp_year": "2031",
            "cvc": "737",
        },
        "detokenizers": [{"login": "myPartnerLogin", "types": ["TEXT", "IMAGE"]}],
    }
    status, _, raw = demo.call(
        "POST",
        "/syspay/api/v2/merchant/token",
        body=body,
        headers=demo.header(MERCHANT, partner=False),
    )
    if not demo.expect("POST /syspay/api/v2/merchant/token as myMerchantLogin", status, 201):
        print(f"   {raw.decode()}")
        return 1
    token = json.loads(raw)
    print(f"   token {token['id']}: {token['display']} ({token['creditcard']['scheme']}),")
    print("   detokenizers: " + ", ".join(d["login"] for d in token["detokenizers"]))

    demo.say("2. The merchant reads it back: masked, and never a CVC")
    status, _, raw = demo.call(
        "GET",
        f"/syspay/api/v2/merchant/token/{token['id']}",
        headers=demo.header(MERCHANT, partner=False),
    )
    demo.expect("GET the token", status, 200)
    print(f"   {json.loads(raw)['creditcard']}")

    demo.say("3. The partner asks for a TEXT detokenization URL")
    detokenize = f"/syspay/api/v2/partner/token/{token['id']}/detokenize"
    partner_header = demo.header(PARTNER)
    print(f"   X-Wsse: {partner_header['X-Wsse'][:60]}…")
    ask = {"type": "TEXT", "viewer": "Front desk, Jane", "company_reference": "4242"}
    status, _, raw = demo.call("POST", detokenize, body=ask, headers=partner_header)
    if not demo.expect("POST …/detokenize type=TEXT", status, 200):
        return 1
    url = json.loads(raw)["redirect_url"]
    print(f"   redirect_url: {url.rsplit('/', 1)[0]}/… (one use, 60 seconds)")

    demo.say("4. The viewer opens the URL: holder, number and expiry as text")
    status, headers, page = demo.call("GET", url)
    demo.expect("GET the redirect URL", status, 200)
    text = page.decode()
    shown = "5555 5555 5555 4444" in text and "Jane Roe" in text and "11/2031" in text
    print(
        f"   page shows Jane Roe, {mask_cards('5555555555554444')} (masked here), 11/2031: {shown}"
    )
    print(f"   Cache-Control: {headers.get('Cache-Control')}")
    if not shown:
        demo.failures += 1

    demo.say("5. A second visit is refused")
    status, _, page = demo.call("GET", url)
    demo.expect("GET the same URL again", status, 410)
    print("   " + page.decode().split("class='reason'>", 1)[-1].split("<", 1)[0])

    demo.say("6. The same X-Wsse header cannot be replayed")
    status, _, raw = demo.call("POST", detokenize, body=ask, headers=partner_header)
    demo.expect("replay the partner header", status, 403)
    print(f"   {json.loads(raw)['errors'][0]['message']}")

    demo.say("7. IMAGE: the same details drawn into a PNG")
    status, _, raw = demo.call(
        "POST", detokenize, body={**ask, "type": "IMAGE"}, headers=demo.header(PARTNER)
    )
    demo.expect("POST …/detokenize type=IMAGE", status, 200)
    status, headers, png = demo.call("GET", json.loads(raw)["redirect_url"])
    demo.expect("GET the image URL", status, 200)
    width, height = png_size(png)
    print(f"   {headers.get('Content-Type')}, {len(png)} bytes, {width}x{height}")
    if save_png is not None:
        save_png.write_bytes(png)
        print(f"   saved to {save_png}")

    demo.say("8. A partner that is not on the token's list is refused")
    status, _, raw = demo.call(
        "POST", detokenize, body={**ask, "type": "IMAGE"}, headers=demo.header(IMAGE_ONLY)
    )
    demo.expect("imageOnlyPartner detokenizes", status, 403)
    print(f"   {json.loads(raw)['errors'][0]['message']}")

    demo.say("9. The merchant detokenizes its own token (no detokenizer list involved)")
    status, _, raw = demo.call(
        "POST",
        f"/syspay/api/v2/merchant/token/{token['id']}/detokenize",
        body={"type": "TEXT", "viewer": "Back office, Sam"},
        headers=demo.header(MERCHANT, partner=False),
    )
    demo.expect("POST …/merchant/token/…/detokenize as myMerchantLogin", status, 200)
    if status == 200:
        status, _, page = demo.call("GET", json.loads(raw)["redirect_url"])
        demo.expect("GET the merchant's URL", status, 200)

    demo.say("10. A partner acting for the merchant: one header, both signatures")
    acting = demo.header(MERCHANT, partner=False, acting_partner=PARTNER)
    print(f"   X-Wsse: …{acting['X-Wsse'][-75:]}")
    status, _, raw = demo.call(
        "GET", f"/syspay/api/v2/merchant/token/{token['id']}", headers=acting
    )
    demo.expect("GET the token as myPartnerLogin for myMerchantLogin", status, 200)
    status, _, raw = demo.call(
        "GET",
        f"/syspay/api/v2/merchant/token/{token['id']}",
        headers=demo.header(MERCHANT, partner=False, acting_partner=IMAGE_ONLY),
    )
    demo.expect("the same as imageOnlyPartner (not linked to the merchant)", status, 403)

    demo.say("11. What mockbank recorded (GET /_mockbank/state/syspay)")
    status, _, raw = demo.call("GET", "/_mockbank/state/syspay")
    for view in json.loads(raw)["redirects"]:
        print(
            f"   {view['type']:5} token {view['token_id']} for {view['requested_by']} "
            f"{view['partner']}, viewer {view['viewer']!r} "
            f"({view['company_reference'] or 'no reference'}): {view['status']}"
        )

    print(f"\n{'All steps answered as documented.' if not demo.failures else 'Some steps failed.'}")
    return 0 if not demo.failures else 1


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8787", help="mockbank's address")
    parser.add_argument("--save-png", type=Path, help="where to save the IMAGE view")
    args = parser.parse_args(argv)
    try:
        return run(args.base_url, args.save_png)
    except urllib.error.URLError as error:
        print(f"cannot reach mockbank at {args.base_url}: {error.reason}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
