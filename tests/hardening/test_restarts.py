"""`mockbank serve --state`: a restart never hands out an old id or revives a used record."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.hardening.clients import (
    CENTAGATE_LOCKED,
    CENTAGATE_WRONG_OTP,
    FORTER_CVC_TOKEN,
    FORTER_TOKEN,
    Server,
    centagate_authorize,
    centagate_challenge,
    centagate_request,
    forter_detokenize,
    forter_tokenize,
    quickstream_handoff,
    quickstream_receipt,
    quickstream_token,
    serve,
    syspay_redirect,
    syspay_token,
    tokenos_member,
)

RUNS = 3
PER_RUN = 334  # 1,002 records over the three runs


def _make_records(server: Server, run: int) -> dict[str, list[str]]:
    """About `PER_RUN` new records over every provider that makes ids."""
    made: dict[str, list[str]] = {}

    def keep(kind: str, value: str) -> None:
        made.setdefault(kind, []).append(value)

    for _ in range(12):
        keep("quickstream receipt", quickstream_receipt(server))
    for n in range(46):
        keep("quickstream token", quickstream_token(server, run * 1000 + n))
        keep("syspay token", syspay_token(server, f"{run}{n:03d}"))
        keep("syspay one-time URL", syspay_redirect(server))
        keep("centagate challenge", centagate_challenge(server)["qr"]["otpChallenge"])
        keep("forter token", forter_tokenize(server))
        keep("forter single-use token", forter_tokenize(server, single_use=True))
        keep("tokenos member", tokenos_member(server))
    for _ in range(2):
        keep("request id", server.get("/_mockbank/health").headers.get("X-Request-Id") or "")
    return made


@pytest.mark.slow
def test_new_ids_never_equal_old_ones_across_three_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seen: dict[str, list[str]] = {}
    first_syspay: str | None = None
    for run in range(RUNS):
        server = serve(state)
        try:
            made = _make_records(server, run)
            if first_syspay is None:
                first_syspay = made["syspay token"][0]
            for kind, values in made.items():
                seen.setdefault(kind, []).extend(values)
            # An old record still answers as itself: its card was not overwritten.
            answer = forter_detokenize(server, seen["forter token"][0])
            assert answer.status_code == 200
            assert '"last4": "1111"' in answer.json()["body"]
        finally:
            # One run ends with kill -9: nothing may depend on a clean stop.
            server.stop(kill=run == 1)
    total = sum(len(v) for k, v in seen.items() if k != "request id")
    assert total >= 1000
    for kind, values in seen.items():
        repeated = [value for value, count in Counter(values).items() if count > 1]
        assert repeated == [], f"{kind}: {len(repeated)} ids handed out twice"
    receipts = [int(r) for r in seen["quickstream receipt"]]
    assert receipts == sorted(receipts)  # receipt numbers keep counting up across restarts


@pytest.mark.slow
def test_used_and_locked_seeded_records_stay_so_across_a_restart_until_reset(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    server = serve(state)
    try:
        used = forter_detokenize(server, FORTER_TOKEN, FORTER_CVC_TOKEN)
        assert used.status_code == 200
        assert '"cvc": "737"' in used.json()["body"]
        # Five wrong OTPs lock alice's seeded device.
        for _ in range(5):
            code = centagate_authorize(server, centagate_challenge(server), wrong=True)
            assert code in (CENTAGATE_WRONG_OTP, CENTAGATE_LOCKED)
        handed = quickstream_token(server, 1)
        assert quickstream_handoff(server, handed) == 200
    finally:
        server.stop(kill=True)

    server = serve(state)
    try:
        again = forter_detokenize(server, FORTER_TOKEN, FORTER_CVC_TOKEN)
        assert again.status_code == 555, again.text  # the seeded CVC token stays used
        view = server.get("/_mockbank/state/forter").json()
        cvc_token = next(t for t in view["tokens"] if t["token"] == FORTER_CVC_TOKEN)
        assert cvc_token["hasCvc"] is False  # and its CVC is gone, not just hidden
        locked = centagate_request(server)["envelope"]
        assert int(locked["code"]) == CENTAGATE_LOCKED, locked  # the seeded device stays locked
        assert quickstream_handoff(server, handed) != 200  # a used token stays used

        assert server.post("/_mockbank/reset").status_code == 200
        assert forter_detokenize(server, FORTER_TOKEN, FORTER_CVC_TOKEN).status_code == 200
        assert centagate_authorize(server, centagate_challenge(server)) == 0
    finally:
        server.stop()
