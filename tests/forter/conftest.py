"""Forter test fixtures: echo upstreams for the seed's hosts, and a local HTTPS target
(shared constants and classes live in `tests.forter.helpers`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockbank.pytest_plugin import ForterProxyHandle, Mockbank
from tests.forter.helpers import ECHO_HOSTS, Target


@pytest.fixture
def echo_upstreams(mockbank: Mockbank) -> Iterator[Mockbank]:
    """Map the seed's target hosts to the echo target (``--upstream HOST=echo``)."""
    upstreams = mockbank.state.outbound.upstreams
    saved = dict(upstreams)
    upstreams.update({host: "echo" for host in ECHO_HOSTS})
    yield mockbank
    upstreams.clear()
    upstreams.update(saved)


@pytest.fixture
def forter(echo_upstreams: Mockbank, mockbank_forter_proxy: ForterProxyHandle) -> ForterProxyHandle:
    """The proxy, with the session app reset and the seed's hosts echoing."""
    return mockbank_forter_proxy


@pytest.fixture(scope="session")
def https_target(mockbank_forter_proxy: ForterProxyHandle) -> Iterator[Target]:
    """A local HTTPS target the proxy really forwards to."""
    target = Target.start(mockbank_forter_proxy.proxy.ca.server_context("127.0.0.1"))
    yield target
    target.stop()
