"""What the dashboard console shows, as JSON for ``/_mockbank/console``.

The console's HTML carries no data: its script reads these through the control API, so a
server with a control token shows nothing to a browser that has not given the token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockbank import __version__

if TYPE_CHECKING:
    from werkzeug.routing import Map

    from mockbank.providers import Provider
    from mockbank.state import State


def summary(state: State, provider: Provider, base: str) -> dict[str, Any]:
    """A provider's card: base URL, real hosts, seeded credentials, fault names, live items."""
    emulation = provider.emulation
    seeded = emulation.credentials(state.fixtures.get(provider.name))
    return {
        "name": provider.name,
        "title": provider.title,
        "url": base + provider.prefix,
        "hosts": list(provider.hosts),
        "credentials": [[label, value] for label, value in seeded],
        "endpoints": sorted(state.endpoints.get(provider.name, ())),
        "items": emulation.dashboard(state) if emulation.dashboard else [],
    }


def overview(state: State, base: str) -> dict[str, Any]:
    return {
        "version": __version__,
        "clock": state.clock_snapshot(),
        "providers": [summary(state, p, base) for p in state.ready_providers()],
    }


def routes(url_map: Map, provider: Provider) -> list[dict[str, Any]]:
    """The provider's routes: methods, path pattern, endpoint name (faults use it)."""
    found = []
    prefix = f"{provider.emulation.blueprint.name}."
    for rule in url_map.iter_rules():
        if not rule.endpoint.startswith(prefix):
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        found.append(
            {
                "methods": methods,
                "path": rule.rule,
                "view": rule.endpoint.removeprefix(prefix),
                "page": methods == ["GET"] and not rule.arguments,
            }
        )
    return sorted(found, key=lambda r: (r["path"], r["methods"]))


def browser_pages(state: State, provider: Provider, base: str) -> list[dict[str, str]]:
    """Pages a person opens in a browser for this provider, with what each is for."""
    pages: list[dict[str, str]] = []
    if provider.name == "centagate":
        devices = getattr(state.fixtures.get("centagate"), "devices", {}) or {}
        for dev_acc_id in devices:
            pages.append(
                {
                    "label": f"device {dev_acc_id}",
                    "href": f"{base}/centagate/device/{dev_acc_id}",
                    "detail": "the simulated CENTAGATE app: pending challenges and their OTPs",
                }
            )
    dashboard = provider.emulation.dashboard
    for item in dashboard(state) if dashboard else []:
        href = item.get("href")
        if href and not any(p["href"].endswith(href) for p in pages):
            pages.append({"label": item["label"], "href": base + href, "detail": ""})
    return pages


def provider_page(state: State, provider: Provider, url_map: Map, base: str) -> dict[str, Any]:
    table = provider.emulation.magic_values
    magic = table() if table else None
    return {
        **summary(state, provider, base),
        "clock": state.clock_snapshot(),
        "routes": routes(url_map, provider),
        "pages": browser_pages(state, provider, base),
        "records": state.provider_state(provider.name),
        "magic_values": magic,
    }
