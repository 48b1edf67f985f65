"""The in-process mode's cost per call against a plain ``responses`` stub, in one run.

The goal (issue 16): routing a real hostname into the app through ``responses`` costs at
most 1.3 times a static stub of the same call. Both sides use python-requests and
``responses``; the difference is mockbank's app doing the real QuickStream token request.

Method: both set up once, then alternating rounds (stub, mockbank, stub, ...), each timed by
the CPU time of this process (steadier than wall time on a shared machine); the ratio is the
median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import time

import requests
import responses

from mockbank import create_app
from mockbank.testing import InProcess

URL = "https://ws.qvalent.com/services/quickweb/CommunityTokenRequestServlet"
FORM = {
    "username": "merchant", "password": "merchant-secret", "supplierBusinessCode": "SUPPLIER1",
    "connectionType": "QUICKWEB", "product": "QUICKWEB", "currencyCode": "AUD",
    "principalAmount": "100.00",
}  # fmt: skip


def _rate(session: requests.Session, calls: int) -> float:
    """CPU seconds per call over `calls` calls."""
    started = time.process_time()
    for _ in range(calls):
        response = session.post(URL, data=FORM)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text}")
    return (time.process_time() - started) / calls


def measure(calls: int, rounds: int = 10) -> tuple[float, float, float]:
    """(stub s/call, mockbank s/call, median ratio) over alternating rounds."""
    import statistics

    stub_mock = responses.RequestsMock()
    stub_mock.add(responses.POST, URL, body="token=stub", content_type="text/plain")
    app = create_app()
    router = InProcess(app)
    session = requests.Session()
    per_round = max(1, calls // rounds)
    stubs: list[float] = []
    routed: list[float] = []
    try:
        for index in range(rounds + 1):  # round 0 warms both up
            # start/stop without a reset, so both keep their registrations between rounds
            stub_mock.start()
            try:
                stub = _rate(session, per_round)
            finally:
                stub_mock.stop(allow_assert=False)
            router.mock.start()
            try:
                mockbank = _rate(session, per_round)
            finally:
                router.mock.stop(allow_assert=False)
            if index:
                stubs.append(stub)
                routed.append(mockbank)
    finally:
        app.extensions["mockbank"].close()
    ratio = statistics.median(m / s for m, s in zip(routed, stubs, strict=True))
    return statistics.median(stubs), statistics.median(routed), ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    stub, routed, ratio = measure(args.calls, max(1, args.rounds))
    print(f"plain responses stub:        {stub * 1e6:8.0f} us CPU per call")
    print(f"mockbank in-process mode:    {routed * 1e6:8.0f} us CPU per call")
    print(f"in-process / stub = {ratio:.2f} (goal <= 1.30)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
