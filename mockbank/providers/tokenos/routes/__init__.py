"""TokenOS views, one module per resource; ``bp`` is the blueprint they register on.

Views are thin: parse the request, authenticate (``routes.common``), one model call, render.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tokenos", __name__, template_folder="../templates")

# The view modules register their rules on ``bp`` as they are imported.
from mockbank.providers.tokenos.routes import (  # noqa: E402, F401
    accounts,
    banks,
    blobs,
    consent,
    hosted_pages,
    members,
    payments_v2,
    refunds,
    standing_orders,
    token_requests,
    tokens,
    transfers,
    unemulated,
    vrp,
    webhooks,
)
