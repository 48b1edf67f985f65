"""mockbank's pytest plugin: fixtures only (registered through the ``pytest11`` entry point).

- ``mockbank_app``: the session's app (one per xdist worker).
- ``mockbank_server``: that app on a free port in a thread of the test process.
- ``mockbank``: per test; resets state first; ``url(provider)``, ``clock``, ``state``, ``journal``.
- ``mockbank_inprocess``: per test; routes the providers' real hostnames into the same app.
- ``mockbank_clock``: the app clock, back to real time after the test.
- ``mockbank_sandbox``: per test, a sandbox of its own on the session's live server (own clock,
  faults, journal, outbox and records): ``url(provider)``, ``clock``, ``state``, ``journal``,
  ``faults``, ``add_fault()``; removed after the test. Safe under xdist and fast (no reset).
- ``mockbank_forter_proxy``: the Forter detokenization proxy for the session app: ``url``,
  ``https_url``, ``proxies()`` (a python-requests dict with the site credentials), ``ca_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mockbank.app import create_app
from mockbank.clock import Clock
from mockbank.journal import Journal
from mockbank.state import State
from mockbank.testing import InProcess, LiveServer


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockbank_fixtures", "directory replacing mockbank's fixtures", default="")
    parser.addini("mockbank_seed", "seed for generated data", default="")
    parser.addini(
        "mockbank_hosts",
        "extra in-process hosts, one HOST=PROVIDER a line",
        type="linelist",
        default=[],
    )


class Mockbank:
    """What a test gets from the ``mockbank`` fixture."""

    def __init__(self, app: Flask, request: pytest.FixtureRequest) -> None:
        self.app = app
        self._request = request

    @property
    def state(self) -> State:
        state: State = self.app.extensions["mockbank"]
        return state

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def journal(self) -> Journal:
        return self.state.journal

    @property
    def server(self) -> LiveServer:
        server: LiveServer = self._request.getfixturevalue("mockbank_server")
        return server

    def url(self, provider: str, path: str = "") -> str:
        """The live server's base URL for `provider` (starts the server on first use)."""
        return self.server.url_for(provider, path)

    def client(self) -> Any:
        """A Flask test client for fine-grained tests."""
        return self.app.test_client()


@pytest.fixture(scope="session")
def mockbank_app(pytestconfig: pytest.Config) -> Iterator[Flask]:
    settings: dict[str, Any] = {}
    fixtures = pytestconfig.getini("mockbank_fixtures")
    if fixtures:
        settings["fixtures_dir"] = Path(pytestconfig.rootpath, fixtures)
    seed = pytestconfig.getini("mockbank_seed")
    if seed:
        settings["seed"] = int(seed)
    app = create_app(settings)
    yield app
    app.extensions["mockbank"].close()


@pytest.fixture(scope="session")
def mockbank_server(mockbank_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(mockbank_app) as server:
        yield server


def _reraise_server_errors(state: State) -> None:
    errors = state.take_server_errors()
    if errors:
        raise AssertionError(
            f"mockbank raised {len(errors)} unexpected exception(s) while serving this test"
        ) from errors[0]


@pytest.fixture
def mockbank(mockbank_app: Flask, request: pytest.FixtureRequest) -> Iterator[Mockbank]:
    state: State = mockbank_app.extensions["mockbank"]
    state.reset()
    yield Mockbank(mockbank_app, request)
    _reraise_server_errors(state)


@pytest.fixture
def mockbank_inprocess(mockbank: Mockbank, pytestconfig: pytest.Config) -> Iterator[InProcess]:
    hosts = dict(mockbank.state.config.option("inprocess_hosts") or {})
    for line in pytestconfig.getini("mockbank_hosts"):
        host, sep, provider = line.partition("=")
        if not sep:
            raise pytest.UsageError(f"mockbank_hosts: expected HOST=PROVIDER, got {line!r}")
        hosts[host.strip()] = provider.strip()
    with InProcess(mockbank.app, hosts=hosts) as router:
        yield router


@pytest.fixture
def mockbank_clock(mockbank: Mockbank) -> Iterator[Clock]:
    yield mockbank.clock
    mockbank.clock.resume()


class ForterProxyHandle:
    """What a test gets from ``mockbank_forter_proxy``: URLs, a ``proxies`` dict, the CA."""

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.url: str = proxy.url
        self.https_url: str = proxy.https_url
        self.ca_path: Path = proxy.ca_path

    def proxies(self, site_id: str = "SITE_ID", site_secret: str = "SITE_SECRET") -> dict[str, str]:
        """A python-requests ``proxies`` dict carrying the site credentials."""
        scheme, _, rest = self.url.partition("://")
        url = f"{scheme}://{site_id}:{site_secret}@{rest}"
        return {"http": url, "https": url}


@pytest.fixture(scope="session")
def mockbank_forter_proxy(
    mockbank_app: Flask, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ForterProxyHandle]:
    """The Forter detokenization proxy on a free port, feeding the session app."""
    from mockbank.providers.forter.proxy import ForterProxy

    state: State = mockbank_app.extensions["mockbank"]
    ca_dir = (
        state.config.state_path / "ca"
        if state.config.state_path
        else tmp_path_factory.mktemp("mockbank-ca")
    )
    with ForterProxy(mockbank_app, "127.0.0.1", 0, ca_dir=ca_dir) as proxy:
        yield ForterProxyHandle(proxy)


class MockbankSandbox:
    """What a test gets from ``mockbank_sandbox``: one sandbox on the session's live server."""

    def __init__(self, server: LiveServer, name: str, state: State) -> None:
        self.server = server
        self.name = name
        self.state = state

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/s/{self.name}"

    def url(self, provider: str, path: str = "") -> str:
        """The sandbox's base URL for `provider` (or ``_mockbank``, its control API)."""
        if provider not in self.state.providers and provider != "_mockbank":
            self.state.provider(provider)  # raises UnknownProvider naming the known ones
        return f"{self.base_url}/{provider}{path}"

    @property
    def clock(self) -> Clock:
        return self.state.clock

    @property
    def journal(self) -> Journal:
        return self.state.journal

    @property
    def faults(self) -> Any:
        return self.state.faults

    def add_fault(self, spec: dict[str, Any]) -> Any:
        return self.state.add_fault(spec)


@pytest.fixture
def mockbank_sandbox(
    mockbank_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[MockbankSandbox]:
    """A fresh sandbox for one test on the session's server; deleted afterwards."""
    root = mockbank_server.state
    record, state = root.sandboxes.create({})
    try:
        yield MockbankSandbox(mockbank_server, record.name, state)
    finally:
        root.sandboxes.delete(record.name)
    _reraise_server_errors(state)
