"""SDK calls mockbank does not emulate: a clear 501 naming the operation."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from mockbank.providers.tokenos.errors import Unimplemented
from mockbank.providers.tokenos.routes import bp
from mockbank.routing import endpoint

# Paths of @token-io/tpp@1.0.57 outside the seed's flow. A clear 501 names the operation,
# where an unknown path would only say "no endpoint".
UNEMULATED: list[tuple[str, str, str]] = [
    ("POST", "/customization", "web-app customization"),
    ("PUT", "/token-requests/<request_id>/transfer-destinations", "transfer destination callbacks"),
    ("POST", "/bulk-transfers", "bulk transfers"),
    ("GET", "/bulk-transfers/<bulk_transfer_id>", "bulk transfers"),
    ("PUT", "/eidas/register", "eIDAS"),
    ("POST", "/eidas/verifications", "eIDAS"),
    ("GET", "/eidas/verifications/<verification_id>", "eIDAS"),
    ("POST", "/banks/<bank_id>/token-requests/<request_id>", "bank authorization URLs"),
    ("POST", "/banks/<bank_id>/callback", "bank authorization URLs"),
    ("GET", "/banks/<bank_id>/info", "bank linking information"),
    ("GET", "/tokens/<token_id>/consent", "raw bank consents"),
]


def _unemulated_view(feature: str) -> Any:
    @endpoint("unimplemented")
    def view(**_: str) -> Response:
        raise Unimplemented(
            f"mockbank does not emulate TokenOS {feature} ({request.method} {request.path});"
            " see docs/providers/tokenos.md for what is covered"
        )

    return view


for _method, _rule, _feature in UNEMULATED:
    bp.add_url_rule(
        _rule,
        endpoint=f"unemulated {_method} {_rule}",
        view_func=_unemulated_view(_feature),
        methods=[_method],
    )
