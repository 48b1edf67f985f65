"""Members, keys and aliases: creation, hash-chained signed updates, alias lookup."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mockbank.clients.tokenos import (
    KEY_LEVELS,
    KeyPair,
    base58,
    base64url_decode,
    canonical_json,
    hash_alias,
    key_id,
    verify_json,
)
from mockbank.providers.tokenos.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
    Unimplemented,
)
from mockbank.providers.tokenos.models.common import (
    ALIAS_TYPES,
    MEMBER_REALM_SUFFIX,
    MEMBER_TYPES,
    new_id,
    object_field,
    text_field,
)
from mockbank.providers.tokenos.records.members import NS_ALIAS, NS_MEMBER, Alias, Member
from mockbank.store import Store, add_new


def create_member(store: Store, body: Any, *, now: datetime, rng: Callable[[int], bytes]) -> str:
    """``POST /members``: a new member id with no keys yet."""
    body = object_field(body, "body")
    # The SDK's createMemberId defaults to PERSONAL; the TPP SDK asks for BUSINESS.
    member_type = body.get("memberType") or "PERSONAL"
    if member_type not in MEMBER_TYPES:
        raise InvalidArgument(f"memberType must be one of {', '.join(MEMBER_TYPES)}")
    member_id = new_id("m", rng, MEMBER_REALM_SUFFIX)
    add_new(store, NS_MEMBER, member_id, Member(member_id, member_type).to_value(), now=now)
    return member_id


def seed_member(
    store: Store,
    member_id: str,
    member_type: str,
    keys: list[KeyPair],
    aliases: list[dict[str, str]],
    profile: Mapping[str, str],
    *,
    now: datetime,
) -> None:
    """Write a fixture member with its keys and verified aliases, where absent."""
    claimed = []
    for alias in aliases:
        alias_hash = hash_alias(alias)
        claimed.append({"hash": alias_hash, "alias": alias})
        store.add(NS_ALIAS, alias_hash, Alias(member_id, alias).to_value(), now=now)
    member = Member(
        id=member_id,
        type=member_type,
        keys=tuple(k.to_proto() for k in keys),
        aliases=tuple(claimed),
        last_hash=base58(hashlib.sha256(member_id.encode()).digest()),
        profile=dict(profile),
    )
    store.add(NS_MEMBER, member_id, member.to_value(), now=now)


def get_member(store: Store, member_id: str, *, now: datetime) -> dict[str, Any]:
    """A member record, or NOT_FOUND."""
    member = store.get(NS_MEMBER, member_id, now=now)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


def member_proto(member: dict[str, Any]) -> dict[str, Any]:
    """The public `Member` message: id, lastHash, aliasHashes, keys."""
    proto: dict[str, Any] = {
        "id": member["id"],
        "lastHash": member["lastHash"],
        "aliasHashes": [a["hash"] for a in member["aliases"]],
        "keys": member["keys"],
        "type": member["type"],
    }
    if member.get("recoveryRules"):
        proto["recoveryRule"] = member["recoveryRules"]
    return proto


def find_key(member: dict[str, Any], kid: str) -> dict[str, Any] | None:
    """The member's key with this id, or None."""
    return next((k for k in member["keys"] if k.get("id") == kid), None)


def _validate_key(key: Any, where: str) -> dict[str, Any]:
    key = object_field(key, where, required=True)
    public = text_field(key.get("publicKey"), f"{where}.publicKey")
    try:
        raw = base64url_decode(public or "")
    except ValueError:
        raise InvalidArgument(f"{where}.publicKey must be base64url") from None
    if len(raw) != 32:
        raise InvalidArgument(f"{where}.publicKey must be a 32-byte Ed25519 key")
    if key.get("algorithm") != "ED25519":
        raise InvalidArgument(f"{where}.algorithm must be ED25519 (mockbank verifies Ed25519)")
    if key.get("level") not in KEY_LEVELS:
        raise InvalidArgument(f"{where}.level must be one of {', '.join(KEY_LEVELS)}")
    if key.get("id") != key_id(raw):
        raise InvalidArgument(f"{where}.id must be base64url(SHA-256(publicKey))[:16]")
    expires = key.get("expiresAtMs")
    if expires is not None and not re.fullmatch(r"[0-9]{1,15}", str(expires)):
        raise InvalidArgument(f"{where}.expiresAtMs must be milliseconds")
    clean = {k: key[k] for k in ("id", "publicKey", "level", "algorithm")}
    if expires is not None:
        clean["expiresAtMs"] = str(expires)
    return clean


# Token.io's sandbox verifies no alias whose value carries "+noverify"; its samples commit a
# DOMAIN alias shaped like an email for that reason (msjs-<nonce>+noverify@example.com).
NOVERIFY = "+noverify"
ALIAS_MAX = 255


def _domain_alias(value: str) -> bool:
    if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value):
        return True
    return NOVERIFY in value and re.fullmatch(r"[^\s/?#]+", value) is not None


def normalize_alias(alias_type: str, value: str, realm: str | None = None) -> dict[str, str]:
    """``GET /aliases/normalize``: EMAIL and DOMAIN lower-cased and trimmed."""
    if alias_type not in ALIAS_TYPES:
        raise InvalidArgument(f"alias type must be one of {', '.join(ALIAS_TYPES)}")
    value = value.strip()
    if not value:
        raise InvalidArgument("alias value is empty")
    if len(value) > ALIAS_MAX:
        raise InvalidArgument(f"alias value is longer than {ALIAS_MAX} characters")
    if alias_type in ("EMAIL", "DOMAIN"):
        value = value.lower()
    if alias_type == "EMAIL" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
        raise InvalidArgument(f"{value!r} is not an email address")
    if alias_type == "DOMAIN" and not _domain_alias(value):
        raise InvalidArgument(
            f"{value!r} is not a domain name (nor a sandbox alias carrying +noverify)"
        )
    alias = {"type": alias_type, "value": value}
    if realm:
        alias["realm"] = realm
    return alias


def resolve_alias(store: Store, alias: dict[str, str], *, now: datetime) -> str | None:
    """The member id an alias belongs to, or None."""
    found = store.get(NS_ALIAS, hash_alias(alias), now=now)
    return None if found is None else str(found["memberId"])


def _parse_update(
    body: Any, member_id: str
) -> tuple[dict[str, Any], dict[str, Any], list[Any], list[Any]]:
    """(update, updateSignature, metadata, operations) of a member update body."""
    body = object_field(body, "body", required=True)
    update = object_field(body.get("update"), "update", required=True)
    signature = object_field(body.get("updateSignature"), "updateSignature", required=True)
    metadata = body.get("metadata") or []
    if not isinstance(metadata, list):
        raise InvalidArgument("metadata must be a list")
    if update.get("memberId") != member_id:
        raise InvalidArgument("update.memberId must be the member in the path")
    operations = update.get("operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidArgument("update.operations must be a non-empty list")
    return update, signature, metadata, operations


def _check_update_signature(
    member: dict[str, Any],
    update: dict[str, Any],
    signature: dict[str, Any],
    operations: list[Any],
    *,
    lenient: bool,
) -> None:
    """Updates chain by hash and are signed by a PRIVILEGED key: a current one, or for the
    first update one it adds itself."""
    member_id = member["id"]
    first = not member["keys"]
    if not first and update.get("prevHash", "") != member["lastHash"]:
        raise FailedPrecondition(
            "update.prevHash does not match the member's lastHash (fetch the member again)"
        )
    added_keys = [
        _validate_key(
            op["addKey"].get("key") if isinstance(op.get("addKey"), dict) else None,
            f"operations.{i}.addKey.key",
        )
        for i, op in enumerate(operations)
        if isinstance(op, dict) and "addKey" in op
    ]
    candidates = added_keys if first else member["keys"]
    if signature.get("memberId") != member_id:
        raise Unauthenticated("updateSignature.memberId must be the member being updated")
    key_id = signature.get("keyId")  # public: which key signed, not a secret
    key = next((k for k in candidates if k["id"] == key_id), None)
    if key is None or key["level"] != "PRIVILEGED":
        raise Unauthenticated("the update must be signed by one of the member's PRIVILEGED keys")
    if not lenient and not verify_json(
        update, str(signature.get("signature", "")), key["publicKey"]
    ):
        raise Unauthenticated("updateSignature does not verify over the update")


def _aliases_by_hash(metadata: list[Any]) -> dict[str, dict[str, Any]]:
    """The update carries only alias hashes; the aliases themselves travel in the metadata."""
    found = {}
    for entry in metadata:
        meta = entry.get("addAliasMetadata") if isinstance(entry, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("alias"), dict):
            found[str(meta.get("aliasHash"))] = meta["alias"]
    return found


def _claimed_alias(
    arg: dict[str, Any], where: str, aliases_by_hash: dict[str, dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """(hash, normalized alias) of an ``addAlias`` whose metadata carries the alias."""
    alias_hash = str(arg.get("aliasHash", ""))
    alias = aliases_by_hash.get(alias_hash)
    if alias is None:
        raise InvalidArgument(f"{where}.addAlias needs addAliasMetadata with the alias")
    clean = normalize_alias(str(alias.get("type", "")), str(alias.get("value", "")))
    if alias.get("realmId"):
        clean["realmId"] = str(alias["realmId"])
    if hash_alias(clean) != alias_hash:
        raise InvalidArgument(f"{where}.addAlias.aliasHash is not the hash of the alias")
    return alias_hash, clean


def _apply_operation(
    new: dict[str, Any],
    op: Any,
    where: str,
    aliases_by_hash: dict[str, dict[str, Any]],
    claims: list[tuple[str, dict[str, Any]]],
) -> None:
    """Apply one operation to `new` (the member being built); aliases to claim go to `claims`."""
    if not isinstance(op, dict) or len(op) != 1:
        raise InvalidArgument(f"{where} must hold exactly one operation")
    name, arg = next(iter(op.items()))
    arg = object_field(arg, f"{where}.{name}", required=True)
    if name == "addKey":
        added = _validate_key(arg.get("key"), f"{where}.addKey.key")
        new["keys"] = [k for k in new["keys"] if k["id"] != added["id"]] + [added]
    elif name == "removeKey":
        if find_key(new, str(arg.get("keyId"))) is None:
            raise NotFound(f"{where}.removeKey.keyId is not a key of this member")
        new["keys"] = [k for k in new["keys"] if k["id"] != arg.get("keyId")]
    elif name == "addAlias":
        alias_hash, clean = _claimed_alias(arg, where, aliases_by_hash)
        claims.append((alias_hash, clean))
        if all(a["hash"] != alias_hash for a in new["aliases"]):
            new["aliases"].append({"hash": alias_hash, "alias": clean})
    elif name == "removeAlias":
        alias_hash = str(arg.get("aliasHash", ""))
        new["aliases"] = [a for a in new["aliases"] if a["hash"] != alias_hash]
    elif name == "recoveryRules":
        new["recoveryRules"] = arg.get("recoveryRule")
    else:
        raise Unimplemented(f"member operation {name!r} is not supported by mockbank")


def _claim_aliases(
    store: Store, member_id: str, claims: list[tuple[str, dict[str, Any]]], *, now: datetime
) -> list[str]:
    """Claim each alias (insert-if-absent); the hashes newly claimed, to give back on failure."""
    claimed: list[str] = []
    try:
        for alias_hash, alias in claims:
            owner = store.get(NS_ALIAS, alias_hash, now=now)
            if owner is not None and owner["memberId"] != member_id:
                raise AlreadyExists(f"alias {alias['value']} belongs to another member")
            if owner is None:
                value = Alias(member_id, alias).to_value()
                if not store.add(NS_ALIAS, alias_hash, value, now=now):
                    raise AlreadyExists(f"alias {alias['value']} belongs to another member")
                claimed.append(alias_hash)
    except Exception:
        for alias_hash in claimed:
            store.delete(NS_ALIAS, alias_hash)
        raise
    return claimed


def apply_member_update(
    store: Store, member_id: str, body: Any, *, now: datetime, lenient: bool = False
) -> dict[str, Any]:
    """``POST /members/<id>/updates``: a PRIVILEGED-signed, hash-chained list of operations."""
    update, signature, metadata, operations = _parse_update(body, member_id)
    member = get_member(store, member_id, now=now)
    _check_update_signature(member, update, signature, operations, lenient=lenient)
    aliases_by_hash = _aliases_by_hash(metadata)
    claims: list[tuple[str, dict[str, Any]]] = []
    new = dict(member)
    new["keys"] = list(member["keys"])
    new["aliases"] = list(member["aliases"])
    for index, op in enumerate(operations):
        _apply_operation(new, op, f"operations.{index}", aliases_by_hash, claims)
    # Without a PRIVILEGED key no later update could ever be signed.
    if not any(k["level"] == "PRIVILEGED" for k in new["keys"]):
        raise FailedPrecondition("a member must keep at least one PRIVILEGED key")
    new["lastHash"] = base58(hashlib.sha256(canonical_json(update).encode()).digest())
    # Claim aliases first, and give them back if the member update fails.
    claimed = _claim_aliases(store, member_id, claims, now=now)

    def change(current: dict[str, Any]) -> dict[str, Any]:
        # The hash chain makes concurrent updates from stale copies fail, not interleave.
        if current["lastHash"] != member["lastHash"]:
            raise Aborted("the member changed concurrently; fetch it and retry")
        return new

    try:
        result = store.update(NS_MEMBER, member_id, change, now=now)
    except Exception:
        for alias_hash in claimed:
            store.delete(NS_ALIAS, alias_hash)
        raise
    for alias in member["aliases"]:
        if all(a["hash"] != alias["hash"] for a in new["aliases"]):
            store.delete(NS_ALIAS, alias["hash"])
    if result is None:
        raise NotFound(f"member {member_id} not found")
    return result


def set_profile(store: Store, caller: str, body: Any, *, now: datetime) -> dict[str, str]:
    """``PUT /profile``: the caller's display name (first and last, each up to 200 characters;
    empty parts dropped); the profile as stored."""
    body = object_field(body, "body", required=True)
    profile = object_field(body.get("profile"), "profile", required=True)
    clean = {}
    for name in ("displayNameFirst", "displayNameLast"):
        value = text_field(profile.get(name), f"profile.{name}", required=False, limit=200)
        if value:
            clean[name] = value

    def change(member: dict[str, Any]) -> dict[str, Any]:
        return {**member, "profile": clean}

    store.update(NS_MEMBER, caller, change, now=now)
    return clean


def profile_name(profile: dict[str, str]) -> str:
    """The display name: first and last name, whichever are set."""
    parts = (profile.get("displayNameFirst"), profile.get("displayNameLast"))
    return " ".join(p for p in parts if p)
