"""The names of this server, and the base URL its generated links use.

A browser page on another site can make a victim's browser reach a local server under the
attacker's own DNS name (DNS rebinding), so a request is served only when its ``Host`` is a
name of this server: loopback names and addresses, the bound ``--host``, the host of
``--public-url``, every provider's real hostnames (the in-process mode and the Forter proxy
present them), ``<provider>.hosts`` options and ``--upstream`` mapped hosts. Bound to a wildcard
address, any IP literal is accepted too: a literal address cannot be rebound.

Links a provider hands out (SysPay's one-time URL...) are built by `external_base_url` from
``--public-url`` (behind a reverse proxy) or the address the server is bound to, never from a
``Host`` header a client made up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from mockbank.outbound import is_loopback

if TYPE_CHECKING:
    from mockbank.config import Config

WILDCARDS = frozenset({"0.0.0.0", "::", ""})
BOUND_KEY = "mockbank.bound"
# Set by the in-process router: the request never crossed a network.
INPROCESS_KEY = "mockbank.inprocess"
PROXY_KEY = "mockbank.proxy"
NAMES_KEY = "mockbank.server_names"


def host_name(host: str) -> str:
    """The name part of a ``Host`` value, lowercased: ``[::1]:80`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ServerNames:
    """Which ``Host`` values name this server."""

    names: frozenset[str]
    provider_hosts: frozenset[str]
    any_ip: bool

    @classmethod
    def build(cls, config: Config, provider_hosts: Iterable[str]) -> ServerNames:
        """From the settings: bound host, public URL, provider hosts, upstream hosts."""
        real = frozenset(host_name(h) for h in provider_hosts)
        names = {host_name(config.host), *real}
        if config.public_url:
            names.add(host_name(urlsplit(config.public_url).netloc))
        names.update(host_name(h) for h in config.upstreams)
        return cls(frozenset(names - {""}), real, config.host.strip("[]") in WILDCARDS)

    def allows(self, host: str) -> bool:
        name = host_name(host)
        if not name:
            return False
        if name in self.names or is_loopback(name):
            return True
        return self.any_ip and _is_ip(name)


def provider_hostnames(providers: Mapping[str, Any], options: Mapping[str, Any]) -> list[str]:
    """Each provider's real hostnames plus its ``<name>.hosts`` option (list or string)."""
    found: list[str] = []
    for name, provider in providers.items():
        configured = options.get(f"{name}.hosts") or ()
        if isinstance(configured, str):
            configured = configured.replace(",", " ").split()
        found.extend(str(h) for h in (*provider.hosts, *configured))
    return found


def set_bound_address(app: Flask, host: str, port: int) -> None:
    """Record where the server listens (``mockbank serve`` and `LiveServer` call this)."""
    shown = f"[{host}]" if ":" in host else host
    app.extensions[BOUND_KEY] = (host, f"http://{shown}:{port}")


def external_base_url() -> str:
    """This server's base URL as its clients reach it, without a trailing slash.

    ``--public-url`` when given; on a provider's real hostname (the in-process mode, the
    proxy) that hostname; else the address the server is bound to; bound to a wildcard or
    not bound at all (the Flask test client), the request's ``Host``, already checked to be
    a name of this server.
    """
    state = current_app.extensions["mockbank"]
    if state.config.public_url:
        return str(state.config.public_url)
    names: ServerNames = current_app.extensions[NAMES_KEY]
    if host_name(request.host) in names.provider_hosts or request.environ.get(INPROCESS_KEY):
        return f"{request.scheme}://{request.host}"
    bound = current_app.extensions.get(BOUND_KEY)
    if bound is not None and bound[0].strip("[]") not in WILDCARDS:
        return str(bound[1])
    return request.host_url.rstrip("/")
