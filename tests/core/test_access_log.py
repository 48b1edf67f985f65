"""The access log of `mockbank serve`: one masked line per request on stderr, text or JSON."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from mockbank import accesslog
from tests.processes import default_signals, free_port, wait_for_health

CARD = "4111111111111111"
FORTER_TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
TEXT_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<id>[0-9a-f]{16}|-) "
    r"(?P<provider>\S+) (?P<endpoint>\S+) (?P<method>[A-Z]+) (?P<path>\S+) "
    r"(?P<status>\d{3}|dropped) (?P<ms>\d+\.\d)ms$"
)


@contextmanager
def _serve(*flags: str) -> Iterator[tuple[str, str, list[str]]]:
    """Run `mockbank serve`; yields its URL, proxy URL and, after it stops, stderr's lines."""
    port, proxy_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBANK_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockbank.cli",
            "serve",
            "--port",
            str(port),
            "--proxy-port",
            str(proxy_port),
            "--upstream",
            "api.forter-secure.com=echo",
            *flags,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    lines: list[str] = []
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{proxy_port}", lines
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        lines.extend(err.splitlines())


def _traffic(url: str, proxy: str) -> None:
    requests.get(f"{url}/quickstream/no/such/{CARD}", timeout=5)
    relayed = requests.post(
        "http://api.forter-secure.com/v3/adaptive-auth/3ds/init",
        json={"last4": "{{ card_last_four }}"},
        headers={"forter-token": FORTER_TOKEN},
        proxies={"http": proxy.replace("http://", "http://SITE_ID:SITE_SECRET@")},
        timeout=10,
    )
    assert relayed.status_code == 200, relayed.text
    assert requests.get(proxy + "/", timeout=5).status_code == 400


@pytest.mark.slow
def test_text_access_log_has_one_masked_line_per_request_proxy_included() -> None:
    with _serve() as (url, proxy, lines):
        _traffic(url, proxy)
        request_id = requests.get(f"{url}/_mockbank/health", timeout=5).headers["X-Request-Id"]
    access = [m for m in map(TEXT_LINE.match, lines) if m]
    assert not any(CARD in line for line in lines)
    missing = next(m for m in access if m["provider"] != "-")
    assert missing["provider"] == "quickstream"
    assert missing["method"] == "GET"
    assert missing["path"] == "/quickstream/no/such/411111******1111"
    assert missing["status"] == "404"
    relayed = [m for m in access if m["path"].startswith("http://api.forter-secure.com/")]
    assert [(m["provider"], m["status"]) for m in relayed] == [("forter", "200")]
    assert relayed[0]["path"] == "http://api.forter-secure.com/v3/adaptive-auth/3ds/init"
    refused = [m for m in access if m["endpoint"] == "proxy" and m["status"] == "400"]
    assert refused
    assert refused[0]["provider"] == "forter"
    health = [m for m in access if m["id"] == request_id]
    assert [(m["endpoint"], m["path"], m["status"]) for m in health] == [
        ("control.health", "/_mockbank/health", "200")
    ]


@pytest.mark.slow
def test_json_access_log_is_one_object_a_line() -> None:
    with _serve("--log-format", "json") as (url, proxy, lines):
        _traffic(url, proxy)
    objects = [json.loads(line) for line in lines if line.startswith("{")]
    assert objects
    assert len(objects) == len([line for line in lines if line.strip()])
    first = next(o for o in objects if o["provider"])
    assert list(first) == [
        "time",
        "request_id",
        "provider",
        "endpoint",
        "method",
        "path",
        "status",
        "duration_ms",
    ]
    assert first["provider"] == "quickstream"
    assert first["path"] == "/quickstream/no/such/411111******1111"
    assert first["status"] == 404
    assert isinstance(first["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert any(o["path"].startswith("http://api.forter-secure.com/") for o in objects)


@pytest.mark.slow
@pytest.mark.parametrize("flags", [("--quiet",), ("--log-level", "warning")])
def test_quiet_and_warning_level_silence_the_access_log(flags: tuple[str, ...]) -> None:
    with _serve(*flags) as (url, proxy, lines):
        _traffic(url, proxy)
    assert lines == []


@pytest.fixture(autouse=True)
def _root_level() -> Iterator[None]:
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


def test_formatters_write_each_line_in_one_call() -> None:
    writes: list[str] = []

    class Recorder(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    handler = accesslog.configure("text", "info", stream=Recorder())
    try:
        entry = accesslog.Access("ab" * 8, "syspay", "token", "POST", "/syspay/x", 201, 1.25)
        accesslog.access(entry)
        logging.getLogger("mockbank.test").warning("careful")
    finally:
        logging.getLogger().removeHandler(handler)
    assert len(writes) == 2
    assert TEXT_LINE.match(writes[0].rstrip("\n"))
    assert writes[0].endswith(" abababababababab syspay token POST /syspay/x 201 1.2ms\n")
    assert writes[1].endswith(" warning mockbank.test: careful\n")


def test_access_log_formats_nothing_when_off() -> None:
    class Exploding(accesslog.Access):
        def as_dict(self, created: float) -> dict[str, object]:
            raise AssertionError("formatted while off")

    handler = accesslog.configure("json", "info", quiet=True, stream=io.StringIO())
    try:
        calls: list[logging.LogRecord] = []
        accesslog.log.addFilter(lambda record: bool(calls.append(record)))
        accesslog.access(Exploding("-", None, None, "GET", "/", 200, 0.0))
        assert calls == []
    finally:
        logging.getLogger().removeHandler(handler)
        accesslog.log.filters.clear()
        accesslog.log.setLevel(logging.NOTSET)
