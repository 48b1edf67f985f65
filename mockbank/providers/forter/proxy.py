"""Forter's Detokenization Proxy listener: the generic `mockbank.proxy` mounted on Forter's views.

Forter owns the proxy's paths in the app, the phrases of its own statuses (555, 556, 565) and
the JSON a refused request reads; `mockbank.proxy` knows none of them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mockbank.providers import Service
from mockbank.providers.forter.errors import (
    ProxyTokenNotFound,
    ProxyUnexpectedError,
    ProxyValidationError,
)
from mockbank.proxy.server import ForwardProxy
from mockbank.proxy.tenant import Tenant

if TYPE_CHECKING:
    from flask import Flask

    from mockbank.config import Config

PROXY_PATH = "/forter/proxy"
CONNECT_PATH = "/forter/proxy/connect"


def _refusal(message: str) -> bytes:
    return json.dumps({"error": message, "code": "BAD_PROXY_REQUEST"}).encode()


TENANT = Tenant(
    provider="forter",
    path=PROXY_PATH,
    connect_path=CONNECT_PATH,
    label="the Forter proxy",
    phrases={
        ProxyTokenNotFound.status: "Token Not Found",
        ProxyValidationError.status: "Validation Error",
        ProxyUnexpectedError.status: "Unexpected Error",
    },
    refusal=_refusal,
    unexpected_status=ProxyUnexpectedError.status,
    unexpected_body=json.dumps(
        {"error": ProxyUnexpectedError.message, "code": ProxyUnexpectedError.code}
    ).encode(),
    usage=(
        "This is the Forter detokenization proxy: use it as an HTTP proxy (absolute-URI "
        "requests or CONNECT), not as a web server."
    ),
)


class ForterProxy(ForwardProxy):
    """The Detokenization Proxy on its own port (`mockbank serve --proxy-port`)."""

    label = "forter proxy"
    default_tenant = TENANT


def services(app: Flask, config: Config) -> list[Service]:
    """The detokenization proxy listener on ``--proxy-port``."""
    return [ForterProxy(app, config.host, config.proxy_port, ca_dir=config.state_dir / "ca")]
