"""``/``: the dashboard: providers, base URLs, seeded credentials, clock, last requests."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from mockbank import __version__
from mockbank.state import current_state

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index() -> str:
    """The dashboard page; the requests table refreshes itself from the control API."""
    state = current_state()
    base = request.host_url.rstrip("/")
    providers = [
        {
            "name": p.name,
            "title": p.title,
            "url": base + p.prefix,
            "hosts": p.hosts,
            "credentials": p.credentials(state.fixtures.get(p.name)),
            "endpoints": sorted(state.endpoints.get(p.name, ())),
            "items": p.dashboard(state) if p.dashboard else [],
        }
        for p in state.providers.values()
    ]
    return render_template(
        "dashboard.html",
        version=__version__,
        providers=providers,
        clock=state.clock_snapshot(),
        requests=[e.as_dict() for e in reversed(state.requests(limit=50))],
        outbox=[m.as_dict() for m in state.outbox_messages()[-20:]],
        faults=[f.as_dict() for f in state.faults.list()],
    )
