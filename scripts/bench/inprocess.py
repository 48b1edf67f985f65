"""The in-process mode's cost per call against a plain ``responses`` stub, in one run.

DESIGN §4: routing a real hostname into the app through ``responses`` should cost at most
twice a static stub of the same call. Both sides use python-requests and ``responses``; the
difference is mockbank's app doing the real QuickStream token request.
"""

from __future__ import annotations

import argparse

import requests
import responses

from mockbank import create_app
from mockbank.clock import monotonic
from mockbank.testing import InProcess

URL = "https://ws.qvalent.com/services/quickweb/CommunityTokenRequestServlet"
FORM = {
    "username": "merchant", "password": "merchant-secret", "supplierBusinessCode": "SUPPLIER1",
    "connectionType": "QUICKWEB", "product": "QUICKWEB", "currencyCode": "AUD",
    "principalAmount": "100.00",
}  # fmt: skip


def per_call(calls: int) -> float:
    session = requests.Session()
    for _ in range(20):  # warm-up
        session.post(URL, data=FORM)
    started = monotonic()
    for _ in range(calls):
        response = session.post(URL, data=FORM)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text}")
    return (monotonic() - started) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, URL, body="token=stub", content_type="text/plain")
        stub = per_call(args.calls)
    app = create_app()
    with InProcess(app):
        routed = per_call(args.calls)
    app.extensions["mockbank"].close()
    print(f"plain responses stub:        {stub * 1e6:8.0f} us per call")
    print(f"mockbank in-process mode:    {routed * 1e6:8.0f} us per call")
    print(f"in-process / stub = {routed / stub:.2f} (target <= 2.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
