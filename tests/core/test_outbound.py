"""The outbound policy: loopback, mapped or allowed hosts only, decided without DNS."""

from __future__ import annotations

import pytest

from mockbank.outbound import OutboundPolicy, OutboundRefused, is_loopback, parse_upstreams


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_resolve_maps_allows_and_refuses() -> None:
    policy = OutboundPolicy(
        upstreams=parse_upstreams(["api.psp.com=http://127.0.0.1:9000/base", "echo.psp.com=echo"]),
        allowed=frozenset({"allowed.example"}),
    )
    assert policy.resolve("https://api.psp.com/v1/pay?x=1").url == (
        "http://127.0.0.1:9000/base/v1/pay?x=1"
    )
    assert policy.resolve("https://echo.psp.com/x").echo
    assert policy.resolve("http://127.0.0.1:5000/x").url == "http://127.0.0.1:5000/x"
    assert policy.resolve("https://allowed.example/x").url == "https://allowed.example/x"
    with pytest.raises(OutboundRefused, match=r"--allow-outbound elsewhere\.example"):
        policy.resolve("https://elsewhere.example/x")


@pytest.mark.parametrize("value", ["nohost", "=http://x", "host="])
def test_bad_upstream_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="HOST=URL"):
        parse_upstreams([value])
