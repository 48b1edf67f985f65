"""Members, aliases and profiles: create, update (signed and hash-chained), resolve."""

from __future__ import annotations

from flask import Response, jsonify, request

from mockbank.providers.tokenos.errors import Unauthenticated
from mockbank.providers.tokenos.models import members
from mockbank.providers.tokenos.models import members as member_models
from mockbank.providers.tokenos.routes import bp
from mockbank.providers.tokenos.routes.common import (
    arg,
    authenticate,
    lenient_signatures,
    provider_state,
    request_body,
)
from mockbank.routing import endpoint


@bp.post("/members")
@endpoint("create-member")
def create_member() -> Response:
    """Reserve a member id; keys follow in the first (self-signed) update."""
    state, _ = provider_state()
    member_id = members.create_member(
        state.store, request_body(), now=state.now(), rng=state.token_bytes
    )
    return jsonify({"memberId": member_id})


@bp.post("/members/<member_id>/updates")
@endpoint("member-update")
def update_member(member_id: str) -> Response:
    """Apply a signed, hash-chained member update (keys, aliases, recovery rules)."""
    state, _ = provider_state()
    if request.headers.get("Authorization"):
        caller = authenticate()
        if caller.id != member_id:
            raise Unauthenticated("a member can only update itself")
    member = members.apply_member_update(
        state.store, member_id, request_body(), now=state.now(), lenient=lenient_signatures(state)
    )
    return jsonify({"member": members.member_proto(member)})


@bp.get("/members/<member_id>")
@endpoint("get-member")
def get_member(member_id: str) -> Response:
    """A member's public keys and last hash."""
    state, _ = provider_state()
    member = members.get_member(state.store, member_id, now=state.now())
    return jsonify({"member": members.member_proto(member)})


@bp.get("/aliases/normalize/<alias_type>/<path:value>/<realm>")
@endpoint("normalize-alias")
def normalize_alias(alias_type: str, value: str, realm: str) -> Response:
    """The canonical spelling of an alias."""
    return jsonify({"alias": members.normalize_alias(alias_type, value, realm)})


@bp.get("/resolve-alias")
@endpoint("resolve-alias")
def resolve_alias() -> Response:
    """The member an alias belongs to (``{}`` when none)."""
    state, _ = provider_state()
    alias = members.normalize_alias(arg("alias.type"), arg("alias.value"))
    member_id = members.resolve_alias(state.store, alias, now=state.now())
    return jsonify({"member": {"id": member_id}} if member_id else {})


@bp.get("/aliases")
@endpoint("aliases")
def aliases() -> Response:
    """The caller's aliases."""
    caller = authenticate()
    return jsonify({"aliases": [a["alias"] for a in caller.member["aliases"]]})


@bp.put("/profile")
@endpoint("set-profile")
def set_profile() -> Response:
    """Set the caller's display name (shown on the consent pages)."""
    state, _ = provider_state()
    caller = authenticate()
    profile = member_models.set_profile(state.store, caller.id, request_body(), now=state.now())
    return jsonify({"profile": profile})


def _profile(member_id: str) -> dict[str, str]:
    """A member's profile, for any authenticated caller."""
    state, _ = provider_state()
    authenticate()
    return dict(members.get_member(state.store, member_id, now=state.now())["profile"])


@bp.get("/members/<member_id>/profile")
@endpoint("get-profile")
def get_profile(member_id: str) -> Response:
    """A member's profile."""
    return jsonify({"profile": _profile(member_id)})


@bp.get("/members/<member_id>/profile-name")
@endpoint("get-profile-name")
def get_profile_name(member_id: str) -> Response:
    """A member's display name."""
    return jsonify({"profileName": member_models.profile_name(_profile(member_id))})
