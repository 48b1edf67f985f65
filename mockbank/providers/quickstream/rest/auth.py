"""HTTP Basic with an API key as the username and a blank password."""

from __future__ import annotations

import base64
import binascii
import hmac

from mockbank.providers.quickstream.models.common import Facility
from mockbank.providers.quickstream.rest.admin import ApiKey, Fixtures, KeyType
from mockbank.providers.quickstream.rest.errors import Unauthorised


def _decode(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthorised(
            "Send your API key as the HTTP Basic username with a blank password "
            "(Authorization: Basic base64(KEY:))."
        )
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorised("The Authorization header is not valid base64 of KEY:.") from None
    username, sep, password = text.partition(":")
    if not sep:
        raise Unauthorised("The Basic credentials must be KEY: (the key, a colon, no password).")
    return username, password


def authenticate(
    fixtures: Fixtures, header: str | None, *allowed: KeyType
) -> tuple[ApiKey, Facility]:
    """The key and facility these credentials open; 401 for anything else.

    A publishable key sent to a secret-key resource (or the reverse) is 401 as well: Westpac
    answers "Authorisation failed" when the wrong kind of key is used.
    """
    if not header:
        raise Unauthorised("No Authorization header: send your API key as the Basic username.")
    username, password = _decode(header)
    if password:
        raise Unauthorised("Leave the Basic password blank; the API key is the username.")
    found = None
    for candidate in fixtures.rest.keys:
        # Every key is compared, in constant time, so timing tells nothing about which exist.
        if hmac.compare_digest(candidate.key.encode(), username.encode("utf-8")):
            found = candidate
    if found is None:
        raise Unauthorised("Authorisation failed: the API key is not known.")
    if found.key_type not in allowed:
        wanted = " or ".join(k.value.lower() for k in allowed)
        raise Unauthorised(
            f"Authorisation failed: this resource needs your {wanted} API key, "
            f"not the {found.key_type.value.lower()} key."
        )
    facility = fixtures.facility_by_username(found.facility)
    if facility is None:  # the fixtures name the facility; a reset may have removed it
        raise Unauthorised("Authorisation failed: the key's facility no longer exists.")
    return found, facility
