"""Three `mockbank serve` processes on one PostgreSQL behind nginx behave as one server.

Everything here is real: a throwaway PostgreSQL cluster, three server processes and an nginx
load balancer, each on free loopback ports, started and stopped by the fixtures.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockbank.clients.syspay import wsse_header
from mockbank.clock import monotonic
from tests.centagate.helpers import auth_body, b64, qr_body
from tests.core.helpers import Receiver
from tests.processes import free_port, start_serve
from tests.quickstream.helpers import pay_hosted, token_params
from tests.services import nginx, nginx_missing

pytestmark = pytest.mark.slow

INSTANCES = 3
TOKENOS_KEY = ("m", "2fH1YspCejjhxqSss5hvLGMfb2Gm:5zKtXEAq:sandbox-api-key")


@dataclass
class Instance:
    name: str
    port: int
    proxy_port: int
    process: subprocess.Popen[bytes]
    log: Any

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    dsn: str
    instances: list[Instance]
    balancer: str

    def urls(self, count: int) -> list[str]:
        """`count` base URLs spread round-robin over the instances."""
        return [self.instances[i % len(self.instances)].url for i in range(count)]


def _start(dsn: str, name: str) -> Instance:
    port, proxy_port = free_port(), free_port()
    # The server's output, read only if it fails to start; closed by _stop.
    log = tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockbank.cli",
            "serve",
            "--store",
            dsn,
            "--instance",
            name,
            "--port",
            str(port),
            "--proxy-port",
            str(proxy_port),
            "--quiet",
            "--upstream",
            "api.forter-secure.com=echo",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    instance = Instance(name, port, proxy_port, process, log)
    deadline = monotonic() + 90
    while monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"{name} exited: {log.read().decode(errors='replace')}")
        try:
            if requests.get(instance.url + "/_mockbank/health", timeout=2).status_code == 200:
                return instance
        except requests.RequestException:
            time.sleep(0.1)
    _stop(instance)
    raise AssertionError(f"{name} did not answer health within 90 s")


def _stop(instance: Instance) -> None:
    if instance.process.poll() is None:
        instance.process.send_signal(signal.SIGTERM)
        try:
            instance.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()
    instance.log.close()


@pytest.fixture(scope="module")
def cluster(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = nginx_missing()
    if missing is not None:
        pytest.skip(missing)
    dsn = postgres.database("cluster")
    instances = [_start(dsn, f"i{n + 1}") for n in range(INSTANCES)]
    try:
        upstreams = [f"127.0.0.1:{i.port}" for i in instances]
        with nginx(tmp_path_factory.mktemp("nginx"), upstreams) as balancer:
            yield Cluster(dsn, instances, balancer.url)
    finally:
        for instance in instances:
            _stop(instance)


@pytest.fixture(autouse=True)
def _reset(cluster: Cluster) -> None:
    requests.post(cluster.balancer + "/_mockbank/reset", timeout=30).raise_for_status()


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


# -- one winner per single-use thing, 50 clients spread over the three instances ----------
def test_quickstream_token_hands_off_once(cluster: Cluster) -> None:
    token = requests.post(
        cluster.balancer + "/quickstream/CommunityTokenRequestServlet",
        data=token_params(
            principalAmount="10.00", paymentReference=None, customerReferenceNumber=None
        ),
        timeout=30,
    ).text.removeprefix("token=")

    def handoff(base: str) -> Callable[[], int]:
        return lambda: (
            requests.post(
                base + "/quickstream/OnlinePaymentServlet3",
                data={"token": token, "communityCode": "COMMUNITY1"},
                allow_redirects=False,
                timeout=30,
            ).status_code
        )

    statuses = _race([handoff(base) for base in cluster.urls(50)])
    assert statuses.count(303) == 1, statuses
    assert all(s < 500 for s in statuses), statuses


def test_syspay_one_time_url_opens_once(cluster: Cluster) -> None:
    url = requests.post(
        cluster.instances[0].url + "/syspay/api/v2/partner/token/1000001/detokenize",
        headers={"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")},
        json={"type": "TEXT", "viewer": "John Doe", "company_reference": "4242"},
        timeout=30,
    ).json()["redirect_url"]
    path = urlsplit(url).path

    def look(base: str) -> Callable[[], int]:
        return lambda: requests.get(base + path, timeout=30).status_code

    statuses = _race([look(base) for base in cluster.urls(50)])
    assert statuses.count(200) == 1, statuses
    assert set(statuses) == {200, 410}, statuses


def test_centagate_challenge_signs_once(cluster: Cluster) -> None:
    api = "/centagate/v2/CentagateWS/webresources"
    now = requests.get(cluster.balancer + "/_mockbank/clock", timeout=30).json()["epoch"]
    body = qr_body(now, details=b64("Pay RM 250 to Bob"))
    issued = requests.post(cluster.balancer + api + "/req/requestQrCode", json=body, timeout=30)
    auth = auth_body(json.loads(issued.json()["object"]), now)

    def authorise(base: str) -> Callable[[], str]:
        return lambda: str(
            requests.post(base + api + "/auth/authQRCode", json=auth, timeout=30).json()["code"]
        )

    codes = _race([authorise(base) for base in cluster.urls(50)])
    assert codes.count("0") == 1, codes


def test_forter_single_use_token_detokenizes_once(cluster: Cluster) -> None:
    made = requests.post(
        cluster.balancer + "/forter/v1/tokenization/tokenize-single-use",
        auth=("SITE_ID", "SITE_SECRET"),
        json={
            "cardNumber": "4111111111111111",
            "expirationMonth": "08",
            "expirationYear": "2030",
            "cardHolderName": "John Smith",
            "cvc": "123",
        },
        timeout=30,
    )
    assert made.status_code in (200, 201), made.text
    token = made.json()["token"]

    def detokenize(instance: Instance) -> Callable[[], int]:
        proxy = f"http://SITE_ID:SITE_SECRET@127.0.0.1:{instance.proxy_port}"
        return lambda: (
            requests.post(
                "http://api.forter-secure.com/v3/pay",
                data='{"cvc": "{{ cvc }}"}',
                headers={"forter-token": token, "Content-Type": "application/json"},
                proxies={"http": proxy},
                timeout=30,
            ).status_code
        )

    statuses = _race([detokenize(cluster.instances[i % INSTANCES]) for i in range(50)])
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 555}, statuses


def test_tokenos_consent_is_answered_once(cluster: Cluster) -> None:
    stored = requests.post(
        cluster.balancer + "/tokenos/token-requests",
        auth=TOKENOS_KEY,
        json={
            "requestPayload": {
                "refId": "cluster-1",
                "to": {},
                "description": "Books",
                "transferBody": {"currency": "EUR", "lifetimeAmount": "10.00"},
                "redirectUrl": "https://tpp.example.com/callback",
            },
            "requestOptions": {
                "bankId": "iron",
                "from": {"alias": {"type": "EMAIL", "value": "payer@example.com"}},
            },
        },
        timeout=30,
    )
    request_id = stored.json()["tokenRequest"]["id"]

    def approve(base: str) -> Callable[[], str | None]:
        def call() -> str | None:
            answer = requests.post(
                f"{base}/tokenos/app/request-token/{request_id}",
                data={"decision": "approve"},
                allow_redirects=False,
                timeout=30,
            )
            location = answer.headers.get("Location", "")
            return parse_qs(urlsplit(location).query).get("tokenId", [None])[0]

        return call

    tokens = [t for t in _race([approve(base) for base in cluster.urls(50)]) if t]
    assert len(tokens) == 1, tokens


# -- one clock, one fault list, one reset, one journal --------------------------------------
def test_a_clock_move_on_one_instance_is_read_by_all(cluster: Cluster) -> None:
    first, *others = cluster.instances
    requests.post(first.url + "/_mockbank/clock", json={"advance": 86400}, timeout=30)
    for other in others:
        clock = requests.get(other.url + "/_mockbank/clock", timeout=30).json()
        assert clock["offset_s"] == pytest.approx(86400, abs=5)


def test_a_fault_with_count_one_fires_once_in_the_cluster(cluster: Cluster) -> None:
    spec = {"provider": "syspay", "endpoint": "detokenize", "status": 503, "count": 1}
    requests.post(cluster.instances[1].url + "/_mockbank/faults", json=spec, timeout=30)

    def detokenize(base: str) -> Callable[[], int]:
        return lambda: (
            requests.post(
                base + "/syspay/api/v2/partner/token/1000001/detokenize",
                headers={"X-Wsse": wsse_header("myPartnerLogin", "myPartnerPassphrase")},
                json={"type": "TEXT", "viewer": "John Doe", "company_reference": "4242"},
                timeout=30,
            ).status_code
        )

    statuses = _race([detokenize(base) for base in cluster.urls(12)])
    assert statuses.count(503) == 1, statuses
    assert statuses.count(200) == 11, statuses


def test_reset_on_one_instance_is_seen_by_all(cluster: Cluster) -> None:
    first, second, third = cluster.instances
    requests.post(first.url + "/_mockbank/clock", json={"advance": 3600}, timeout=30)
    requests.post(
        first.url + "/_mockbank/faults", json={"provider": "syspay", "status": 500}, timeout=30
    )
    requests.post(second.url + "/_mockbank/reset", timeout=30).raise_for_status()
    assert requests.get(third.url + "/_mockbank/faults", timeout=30).json()["faults"] == []
    clock = requests.get(third.url + "/_mockbank/clock", timeout=30).json()
    assert abs(clock["offset_s"]) < 5


def test_the_journal_lists_every_instances_requests(cluster: Cluster) -> None:
    for instance in cluster.instances:
        requests.get(instance.url + "/syspay/no/such/path", timeout=30)
    entries = requests.get(
        cluster.instances[0].url + "/_mockbank/requests?provider=syspay", timeout=30
    ).json()["requests"]
    assert sorted(e["instance"] for e in entries) == ["i1", "i2", "i3"]


def test_ids_are_unique_across_3000_records_made_on_three_instances(cluster: Cluster) -> None:
    def make(base: str) -> Callable[[], list[str]]:
        def call() -> list[str]:
            ids = []
            for _ in range(1000 // 4):
                answer = requests.post(
                    base + "/forter/v1/tokenization/tokenize",
                    auth=("SITE_ID", "SITE_SECRET"),
                    json={
                        "cardNumber": "4111111111111111",
                        "expirationMonth": "08",
                        "expirationYear": "2030",
                    },
                    timeout=30,
                )
                assert answer.status_code in (200, 201), answer.text
                ids.append(answer.json()["token"])
            return ids

        return call

    made = _race([make(base) for base in cluster.urls(12)])
    tokens = [t for batch in made for t in batch]
    assert len(tokens) == 3000
    assert len(set(tokens)) == 3000


# -- outbox: one delivery per message, whichever instance made it ---------------------------
def test_each_outbox_message_is_delivered_once(cluster: Cluster) -> None:
    receiver = Receiver([])
    notify_url = receiver.url + "/notify"
    try:
        references = [f"OUT-{n}" for n in range(12)]
        _race(
            [
                lambda b=b, r=r: pay_hosted(b, notify_url, r)
                for b, r in zip(cluster.urls(12), references, strict=True)
            ]
        )
        deadline = monotonic() + 60
        while len(receiver.calls) < len(references) and monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # any second delivery would arrive within the outbox's poll
        forms = [parse_qs(body.decode()) for _, _, body in receiver.calls]
        delivered = sorted(form["paymentReference"][0] for form in forms)
        assert delivered == sorted(references)
        messages = requests.get(cluster.balancer + "/_mockbank/outbox", timeout=30).json()
        attempts = [a for m in messages["messages"] for a in m["attempts"]]
        assert len(attempts) == len(references)
        assert {a["instance"] for a in attempts} <= {"i1", "i2", "i3"}
    finally:
        receiver.close()


# -- killing an instance loses nothing acknowledged ---------------------------------------
def test_killing_an_instance_mid_load_loses_no_acknowledged_record(cluster: Cluster) -> None:
    victim = _start(cluster.dsn, "victim")
    acknowledged: list[str] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            try:
                answer = requests.post(
                    victim.url + "/forter/v1/tokenization/tokenize",
                    auth=("SITE_ID", "SITE_SECRET"),
                    json={
                        "cardNumber": "4111111111111111",
                        "expirationMonth": "08",
                        "expirationYear": "2030",
                    },
                    timeout=5,
                )
            except requests.RequestException:
                return
            if answer.status_code in (200, 201):
                acknowledged.append(answer.json()["token"])

    workers = [threading.Thread(target=load) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = monotonic() + 30
    while len(acknowledged) < 40 and monotonic() < deadline:
        time.sleep(0.05)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    victim.log.close()
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert len(acknowledged) >= 40
    survivor = cluster.instances[0].url
    state = requests.get(survivor + "/_mockbank/state/forter", timeout=30).text
    missing = [t for t in acknowledged if t not in state]
    assert missing == []


def test_the_load_balancer_spreads_requests_over_every_instance(cluster: Cluster) -> None:
    seen = {
        requests.get(cluster.balancer + "/_mockbank/health", timeout=30).json()["instance"]
        for _ in range(30)
    }
    assert seen == {"i1", "i2", "i3"}
    ready = requests.get(cluster.balancer + "/_mockbank/ready", timeout=30)
    assert ready.json()["ready"] is True


def test_unreachable_store_is_one_line_and_exit_3(tmp_path: Path) -> None:
    port = free_port()
    process = start_serve(
        "--store",
        f"postgresql://nobody@127.0.0.1:{port}/none",
        "--port",
        str(free_port()),
        "--proxy-port",
        str(free_port()),
    )
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 3
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("mockbank: the store postgresql://nobody@127.0.0.1:")
    assert "Traceback" not in output


def test_a_store_url_that_is_not_postgresql_is_exit_2() -> None:
    process = start_serve("--store", "mysql://x/y", "--port", str(free_port()))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "is not a postgresql:// URL" in output
    assert "Traceback" not in output
