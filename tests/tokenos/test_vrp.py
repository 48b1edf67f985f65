"""VRP over real HTTP: consents authorised at the bank, VRPs within and over the limits, the
period reset by the clock, revocation, the consent window, and no overspending under 50
concurrent VRPs (one process, and two servers sharing one SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from mockbank import create_app
from mockbank.testing import LiveServer
from tests.tokenos.helpers_v2 import (
    advance,
    answered,
    api,
    callback_params,
    consent_initiation,
    decide,
    url,
    vrp,
)


def create_consent(live: LiveServer, **extra: Any) -> dict[str, Any]:
    body = {"initiation": consent_initiation(**extra)}
    return answered(api(live).post(url(live, "/vrp-consents"), json=body), "vrpConsent")


def get_consent(live: LiveServer, consent_id: str) -> dict[str, Any]:
    return answered(api(live).get(url(live, f"/vrp-consents/{consent_id}")), "vrpConsent")


def authorised(live: LiveServer, **extra: Any) -> dict[str, Any]:
    """A consent the payer authorised at the bank, verified by Token.io a second later."""
    consent = create_consent(live, **extra)
    assert consent["status"] == "PENDING_REDIRECT_AUTH"
    params = callback_params(decide(consent["authentication"]["redirectUrl"]))
    assert params == {"vrp-consent-id": consent["id"], "state": "vrp-state"}
    assert get_consent(live, consent["id"])["status"] == "PENDING_REDIRECT_AUTH_VERIFICATION"
    advance(live, 1)
    return get_consent(live, consent["id"])


def violation(answer: requests.Response) -> str:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert "vrpConsentId" in error
    return str(error["errorCode"])


def test_consent_is_authorised_at_the_bank_and_listed(live: LiveServer) -> None:
    consent = authorised(live)
    assert consent["status"] == "AUTHORIZED"
    assert consent["initiation"]["periodicLimits"][0]["maximumAmount"] == "100.00"
    assert consent["bankVrpConsentStatus"] == "Authorised"
    listed = api(live).get(
        url(live, "/vrp-consents"), params={"limit": 10, "statuses": "AUTHORIZED"}
    )
    assert [c["id"] for c in listed.json()["vrpConsents"]] == [consent["id"]]
    assert listed.json()["pageInfo"]["haveMore"] is False


def test_payments_within_the_limits_are_accepted_and_complete(live: LiveServer) -> None:
    consent = authorised(live)
    first = vrp(live, consent["id"], "40.00")
    assert first.status_code == 200, first.text
    payment = first.json()["payment"]
    assert payment["status"] == "INITIATION_PENDING"
    assert payment["initiation"]["consentId"] == consent["id"]
    assert vrp(live, consent["id"], "50.00").status_code == 200
    advance(live, 5)
    under = api(live).get(
        url(live, f"/vrp-consents/{consent['id']}/payments"), params={"limit": 10}
    )
    vrps = under.json()["vrps"]
    assert [v["status"] for v in vrps] == ["INITIATION_COMPLETED", "INITIATION_COMPLETED"]
    assert vrps[1]["id"] == payment["id"]
    assert vrps[1]["bankVrpStatus"] == "AcceptedCreditSettlementCompleted"
    by_type = api(live).get(
        url(live, "/v2/payments"),
        params={"limit": 10, "type": "VARIABLE_RECURRING_PAYMENT", "vrpConsentId": consent["id"]},
    )
    assert len(by_type.json()["payments"]) == 2
    single = api(live).get(url(live, "/v2/payments"), params={"limit": 10})
    assert single.json()["payments"] == []  # VRPs are not single immediate payments


def test_payment_over_the_individual_maximum_is_refused(live: LiveServer) -> None:
    consent = authorised(live)
    assert violation(vrp(live, consent["id"], "50.01")) == "Rules.VrpConsentViolation"


def test_periodic_limit_is_enforced_and_resets_with_the_clock(live: LiveServer) -> None:
    consent = authorised(live)
    assert vrp(live, consent["id"], "50.00").status_code == 200
    assert vrp(live, consent["id"], "45.00").status_code == 200
    over = vrp(live, consent["id"], "10.00")
    assert violation(over) == "Rules.VrpConsentViolation"
    assert "DAY limit" in over.json()["error"]["message"]
    assert vrp(live, consent["id"], "5.00").status_code == 200  # exactly up to the limit
    advance(live, 24 * 3600)
    assert vrp(live, consent["id"], "50.00").status_code == 200


def test_failed_vrps_do_not_count_against_the_limit(live: LiveServer) -> None:
    consent = authorised(
        live,
        maximumIndividualAmount="200.00",
        periodicLimits=[{"maximumAmount": "150.00", "periodType": "WEEK"}],
    )
    rejected = vrp(live, consent["id"], "103.00")
    assert rejected.status_code == 200
    assert violation(vrp(live, consent["id"], "100.00")) == "Rules.VrpConsentViolation"
    advance(live, 5)
    status = api(live).get(url(live, f"/v2/payments/{rejected.json()['payment']['id']}")).json()
    assert status["payment"]["status"] == "INITIATION_REJECTED"
    assert vrp(live, consent["id"], "100.00").status_code == 200


def test_revoked_consent_refuses_payments(live: LiveServer) -> None:
    consent = authorised(live)
    revoked = api(live).delete(url(live, f"/vrp-consents/{consent['id']}"))
    assert revoked.status_code == 200
    assert revoked.json()["vrpConsent"]["status"] == "REVOKED"
    assert violation(vrp(live, consent["id"], "1.00")) == "Resource.ConsentNotAuthorized"
    again = api(live).delete(url(live, f"/vrp-consents/{consent['id']}"))
    assert again.json()["vrpConsent"]["status"] == "REVOKED"


def test_payments_outside_the_consent_window_are_refused(live: LiveServer) -> None:
    soon = authorised(live, startDateTime="2999-01-01T00:00:00Z")
    assert violation(vrp(live, soon["id"], "1.00")) == "Rules.VrpConsentViolation"
    now = requests.get(f"{live.url}/_mockbank/clock", timeout=10).json()["epoch"]
    from mockbank.providers.tokenos.models.v2_common import iso

    ending = authorised(live, endDateTime=iso(now + 3600))
    assert vrp(live, ending["id"], "1.00").status_code == 200
    advance(live, 3600)
    answer = vrp(live, ending["id"], "1.00")
    assert violation(answer) == "Rules.VrpConsentViolation"
    assert "endDateTime" in answer.json()["error"]["message"]


def test_unauthorised_consent_refuses_payments(live: LiveServer) -> None:
    consent = create_consent(live)
    assert violation(vrp(live, consent["id"], "1.00")) == "Resource.ConsentNotAuthorized"
    callback_params(decide(consent["authentication"]["redirectUrl"], "deny"))
    assert get_consent(live, consent["id"])["status"] == "REJECTED"


def test_pending_consent_fails_after_30_minutes(live: LiveServer) -> None:
    consent = create_consent(live)
    advance(live, 30 * 60)
    assert get_consent(live, consent["id"])["status"] == "FAILED"


def test_consent_without_bank_goes_through_hosted_bank_selection(live: LiveServer) -> None:
    init = consent_initiation()
    del init["bankId"]
    consent = (
        api(live).post(url(live, "/vrp-consents"), json={"initiation": init}).json()["vrpConsent"]
    )
    assert consent["status"] == "PENDING_MORE_INFO"
    hosted = consent["authentication"]["redirectUrl"]
    page = requests.get(hosted, timeout=10)
    assert "Wood Bank" in page.text
    assert "Iron Bank" not in page.text
    chosen = requests.post(hosted, data={"bankId": "wood"}, allow_redirects=False, timeout=10)
    assert chosen.status_code == 302
    callback_params(decide(chosen.headers["Location"]))
    advance(live, 1)
    assert get_consent(live, consent["id"])["status"] == "AUTHORIZED"


def test_confirm_funds_answers_from_the_payers_balance(live: LiveServer) -> None:
    consent = authorised(live)
    check = url(live, f"/vrps/{consent['id']}/confirm-funds")
    assert api(live).get(check, params={"amount": "10.00"}).json() == {"fundsAvailable": True}
    assert api(live).get(check, params={"amount": "999999.00"}).json() == {"fundsAvailable": False}
    missing = api(live).get(url(live, "/vrps/vc:nope:x/confirm-funds"), params={"amount": "1"})
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        **missing.json()["error"],
        "errorCode": "Resource.NotFound",
        "vrpId": "vc:nope:x",
    }


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"periodicLimits": []}, "initiation.periodicLimits", id="no-limits"),
        pytest.param({"scheme": "COMMERCIAL"}, "initiation.scheme", id="scheme"),
        pytest.param({"localInstrument": "SEPA"}, "initiation.localInstrument", id="rail"),
        pytest.param(
            {"maximumIndividualAmount": "-1"}, "initiation.maximumIndividualAmount", id="max"
        ),
        pytest.param(
            {"periodicLimits": [{"maximumAmount": "5", "periodType": "HOUR"}]},
            "initiation.periodicLimits[0].periodType",
            id="period",
        ),
        pytest.param({"bankId": "iron"}, "initiation.localInstrument", id="sepa-bank"),
        pytest.param({"endDateTime": "2000-01-01T00:00:00Z"}, "initiation.endDateTime", id="ended"),
        pytest.param({"callbackState": None}, "initiation.callbackState", id="no-state"),
    ],
)
def test_bad_consent_is_refused_naming_the_field(
    live: LiveServer, change: dict[str, Any], path: str
) -> None:
    init = {k: v for k, v in consent_initiation(**change).items() if v is not None}
    answer = api(live).post(url(live, "/vrp-consents"), json={"initiation": init})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["paths"] == [path]


def test_unknown_consent_is_404_naming_it(live: LiveServer) -> None:
    answer = api(live).get(url(live, "/vrp-consents/vc:none:x"))
    assert answer.status_code == 404
    assert answer.json()["error"]["vrpConsentId"] == "vc:none:x"
    assert answer.json()["error"]["errorCode"] == "Resource.NotFound"


def _spent(live: LiveServer, consent_id: str) -> Decimal:
    listed = api(live).get(url(live, f"/vrp-consents/{consent_id}/payments"), params={"limit": 200})
    return sum(
        (Decimal(v["initiation"]["amount"]["value"]) for v in listed.json()["vrps"]), Decimal(0)
    )


def test_fifty_concurrent_vrps_never_overspend_the_limit(live: LiveServer) -> None:
    consent = authorised(live, maximumIndividualAmount="10.00")
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: vrp(live, consent["id"], "7.00").status_code, range(50)))
    assert codes.count(200) == 14  # 14 x 7.00 = 98.00, within 100.00
    assert set(codes) == {200, 400}
    assert _spent(live, consent["id"]) == Decimal("98.00")


@pytest.fixture
def shared_servers(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two apps, as two processes would be, sharing one SQLite store."""
    apps = [create_app({"state_path": tmp_path}) for _ in range(2)]
    with LiveServer(apps[0]) as one, LiveServer(apps[1]) as two:
        yield one, two
    for app in apps:
        app.extensions["mockbank"].close()


@pytest.mark.slow
def test_concurrent_vrps_through_two_servers_sharing_a_store_never_overspend(
    shared_servers: tuple[LiveServer, LiveServer],
) -> None:
    one, two = shared_servers
    consent = authorised(one, maximumIndividualAmount="10.00")
    bases = [one.url_for("tokenos"), two.url_for("tokenos")]
    with ThreadPoolExecutor(16) as pool:
        codes = list(
            pool.map(lambda n: vrp(one, consent["id"], "7.00", bases[n % 2]).status_code, range(50))
        )
    assert codes.count(200) == 14
    assert _spent(two, consent["id"]) == Decimal("98.00")
