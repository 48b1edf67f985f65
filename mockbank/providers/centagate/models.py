"""Centagate's rules: apps, users and device accounts, QR challenges and their redemption.

Functions take the store, the fixtures and ``now`` from the app clock; nothing here imports
Flask, so the rules are testable without HTTP.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from mockbank.clients.centagate import device_otp, qr_content
from mockbank.providers.centagate.errors import (
    ApiNotFound,
    AuthenticationDataNotFound,
    DeviceNotActive,
    DeviceNotBound,
    DeviceNotFound,
    InvalidCredentials,
    InvalidInput,
    RequestOwnerMismatch,
    TokenLocked,
    UserNotActive,
    UserNotFound,
)
from mockbank.providers.centagate.records import (
    NS_CHALLENGE,
    NS_DEVICE,
    NS_TRANSACTION,
    NS_USER,
    Challenge,
    DeviceState,
    Status,
    Transaction,
    UserState,
)
from mockbank.store import Store, add_new

DEFAULT_CHALLENGE_TTL_S = 180
MAX_WRONG_OTPS = 5
MAX_DETAILS_CHARS = 500
MAX_FIELD_CHARS = 4096
SESSION_TIMEOUT_MS = 900_000

OPTIONAL_FIELDS = ("authToken", "supportFido", "ipAddress", "userAgent", "browserFp")
REQUEST_QR_FIELDS = ("username", "devAccId", "details", "integrationKey", "unixTimestamp")
AUTH_QR_FIELDS = (
    "username",
    "devAccId",
    "otp",
    "challenge",
    "details",
    "integrationKey",
    "unixTimestamp",
    "transactionValue",
    "isTransaction",
)
# A QR *login* on authQrCode ("QR Code Authentication API", CentagateDocs 1.4.3.3.05): no
# transaction fields; its tokenId and otpType are read but enter neither HMAC nor checks.
AUTH_QR_LOGIN_FIELDS = tuple(
    f for f in AUTH_QR_FIELDS if f not in ("transactionValue", "isTransaction")
)
AUTH_QR_LOGIN_OPTIONAL = ("transactionValue", "isTransaction", "tokenId", "otpType")
# Read for the HMAC only: the Python sample of "Request QR Code Transaction Signing" sends a
# transactionId and signs it.
REQUEST_QR_OPTIONAL = ("transactionId",)
# The 2018 API (unversioned /CentagateWS paths) predates device accounts and transaction
# signing: SecureMetric's own 2018 client sends neither devAccId nor transactionValue nor
# isTransaction. There they are optional; a missing devAccId means the user's active device.
REQUEST_QR_FIELDS_2018 = tuple(f for f in REQUEST_QR_FIELDS if f != "devAccId")
AUTH_QR_FIELDS_2018 = tuple(
    f for f in AUTH_QR_FIELDS if f not in ("devAccId", "transactionValue", "isTransaction")
)
STATECHECK_FIELDS = ("username", "authMethod", "integrationKey", "unixTimestamp")
API_FIELDS = {
    "requestQrCode": REQUEST_QR_FIELDS,
    "authQRCode": AUTH_QR_FIELDS,
    "statecheck": STATECHECK_FIELDS,
}


class ChallengeState(StrEnum):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"


class IdSource(Protocol):
    """Seeded ids (the app `State`): the same seed and requests give the same challenges."""

    def token_hex(self, size: int = 16) -> str: ...

    def new_uuid(self) -> str: ...


# -- fixtures ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class App:
    app_id: str
    name: str
    integration_key: str
    secret_key: str
    hmac_order: str  # "any" or one of ORDER_NAMES (strict)
    return_codes: str | None = None  # "current" or "2018"; None: the centagate.return_codes option


@dataclass(frozen=True)
class DeviceAccount:
    dev_acc_id: str
    username: str
    secret: str
    status: Status
    label: str


@dataclass(frozen=True)
class User:
    username: str
    user_id: str
    email: str
    status: Status
    devices: tuple[str, ...]


@dataclass(frozen=True)
class CentagateFixtures:
    apps: dict[str, App]  # by integration key
    users: dict[str, User]
    devices: dict[str, DeviceAccount]
    company: dict[str, str]


# -- request parsing --------------------------------------------------------------------------
def _is_utf8_text(value: str) -> bool:
    # JSON may spell a lone UTF-16 surrogate ("\ud800"); such a string has no UTF-8 form.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or InvalidInput (10002) saying why not."""
    try:
        # utf-8-sig: a leading byte-order mark (.NET's UTF8Encoding writes one) is skipped,
        # as Java JSON readers do.
        body = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidInput("Invalid input: the body is not UTF-8 text") from None
    except RecursionError:
        raise InvalidInput("Invalid input: the body's JSON is nested too deeply") from None
    except ValueError as error:
        raise InvalidInput(f"Invalid input: the body is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise InvalidInput("Invalid input: the body must be a JSON object")
    for name, value in body.items():
        if not _is_utf8_text(name) or (isinstance(value, str) and not _is_utf8_text(value)):
            field = name if _is_utf8_text(name) else None
            raise InvalidInput(
                f"Invalid input: {field or 'a field name'} contains an unpaired UTF-16 "
                "surrogate escape (\\uD800-\\uDFFF), which is not text",
                field=field,
            )
    return body


def read_fields(
    body: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, str]:
    """Required and optional fields as strings (absent optional ones as "")."""
    fields: dict[str, str] = {}
    for name in (*required, *optional, *OPTIONAL_FIELDS):
        value = body.get(name)
        if value is None:
            value = ""
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a JSON number for unixTimestamp is the common slip
        elif not isinstance(value, str):
            raise InvalidInput(f"Invalid input: {name} must be a string", field=name)
        if len(value) > MAX_FIELD_CHARS:
            raise InvalidInput(
                f"Invalid input: {name} is longer than {MAX_FIELD_CHARS} characters", field=name
            )
        if name in required and not value.strip():
            raise InvalidInput(f"Invalid input: {name} is required", field=name)
        fields[name] = value
    if fields["supportFido"].lower() not in ("", "true", "false"):
        raise InvalidInput(
            "Invalid input: supportFido must be 'true', 'false' or empty", field="supportFido"
        )
    return fields


def is_login(body: Mapping[str, Any]) -> bool:
    """A QR login sends neither transaction field; a signing sends both (one alone is 10002)."""
    return body.get("isTransaction") is None and body.get("transactionValue") is None


def request_fields(body: Mapping[str, Any], api: str, *, legacy_path: bool) -> dict[str, str]:
    """The fields `api` reads from `body`, as strings: a QR login on authQRCode reads its own
    set, and on the 2018 paths (`legacy_path`) the fields that API did not have are optional."""
    required = API_FIELDS[api]
    optional: tuple[str, ...] = REQUEST_QR_OPTIONAL if api == "requestQrCode" else ()
    if api == "authQRCode" and is_login(body):
        required, optional = AUTH_QR_LOGIN_FIELDS, AUTH_QR_LOGIN_OPTIONAL
    if legacy_path and api != "statecheck":
        legacy = REQUEST_QR_FIELDS_2018 if api == "requestQrCode" else AUTH_QR_FIELDS_2018
        optional += tuple(f for f in required if f not in legacy)
        return read_fields(body, legacy, optional)
    return read_fields(body, required, optional)


def read_hmac(body: Mapping[str, Any]) -> str:
    """The request's HMAC: the samples send ``hmac``, the seed's table says ``HMAC``."""
    value = body.get("hmac", body.get("HMAC"))
    if value is None or value == "":
        raise InvalidInput("Invalid input: hmac is required", field="hmac")
    if not isinstance(value, str):
        raise InvalidInput("Invalid input: hmac must be a string", field="hmac")
    return value


def decode_details(details: str, *, field: str = "details") -> str:
    """Base64 text to UTF-8, or InvalidInput naming the field."""
    compact = "".join(details.split())  # Java's encoders wrap lines; the samples strip them
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"Invalid input: {field} must be Base64-encoded UTF-8 text", field=field
        ) from None


def find_app(fixtures: CentagateFixtures, integration_key: str) -> App:
    """The app owning an integration key; 23024 (API not found) otherwise."""
    app = fixtures.apps.get(integration_key)
    if app is None:
        raise ApiNotFound("API not found: no app has this integrationKey")
    return app


# -- users and devices ------------------------------------------------------------------------
def user_state(store: Store, username: str, *, now: datetime) -> UserState | None:
    value = store.get(NS_USER, username, now=now)
    return None if value is None else UserState.from_value(value)


def device_state(store: Store, dev_acc_id: str, *, now: datetime) -> DeviceState | None:
    value = store.get(NS_DEVICE, dev_acc_id, now=now)
    return None if value is None else DeviceState.from_value(value)


def check_user_and_device(
    store: Store, fixtures: CentagateFixtures, username: str, dev_acc_id: str, *, now: datetime
) -> DeviceAccount:
    """The device account if the user is active and owns an active, unlocked device."""
    user = fixtures.users.get(username)
    user_record = user_state(store, username, now=now)
    if user is None or user_record is None:
        raise UserNotFound(f"User not found: {username}")
    if user_record.status != Status.ACTIVE:
        raise UserNotActive(f"User is not active: {username}")
    if not user.devices:
        raise DeviceNotBound(f"User does not bind with any device: {username}")
    device = fixtures.devices.get(dev_acc_id)
    device_record = device_state(store, dev_acc_id, now=now)
    if device is None or device_record is None:
        raise DeviceNotFound(f"Device not found: {dev_acc_id}")
    if device.username != username:
        raise DeviceNotBound(f"User does not bind with device {dev_acc_id}: {username}")
    if device_record.status != Status.ACTIVE:
        raise DeviceNotActive(f"User device not active: {dev_acc_id}")
    if device_record.locked:
        raise TokenLocked(
            f"OTP token locked after {MAX_WRONG_OTPS} wrong OTPs: {dev_acc_id} "
            "(POST /_mockbank/reset?provider=centagate unlocks it)"
        )
    return device


def default_device(
    store: Store, fixtures: CentagateFixtures, username: str, *, now: datetime
) -> str:
    """The device a 2018-style request without devAccId means: the user's first active one.

    Returns "" when there is none, so check_user_and_device reports why (22002, 22004, 23013).
    """
    user = fixtures.users.get(username)
    for dev_acc_id in user.devices if user else ():
        record = device_state(store, dev_acc_id, now=now)
        if record is not None and record.status == Status.ACTIVE:
            return dev_acc_id
    return user.devices[0] if user and user.devices else ""


def _with_device(
    store: Store, fixtures: CentagateFixtures, fields: Mapping[str, str], *, now: datetime
) -> dict[str, str]:
    if fields["devAccId"]:
        return dict(fields)
    return {**fields, "devAccId": default_device(store, fixtures, fields["username"], now=now)}


# -- requestQrCode ----------------------------------------------------------------------------
def _new_challenge(ids: IdSource) -> str:
    # An 8-digit numeric challenge, as on the CENTAGATE app's manual-entry screen.
    return str(int(ids.token_hex(4), 16) % 10**8).zfill(8)


def _decoded_details(fields: Mapping[str, str]) -> str:
    details = decode_details(fields["details"])
    if len(details) > MAX_DETAILS_CHARS:
        raise InvalidInput(
            f"Invalid input: details is longer than {MAX_DETAILS_CHARS} characters once decoded",
            field="details",
        )
    return details


def request_qr_code(
    store: Store,
    fixtures: CentagateFixtures,
    app: App,
    fields: Mapping[str, str],
    ids: IdSource,
    *,
    now: datetime,
    ttl_s: float = DEFAULT_CHALLENGE_TTL_S,
) -> dict[str, str]:
    """Create a single-use challenge; the answer's ``object`` fields."""
    fields = _with_device(store, fixtures, fields, now=now)
    device = check_user_and_device(store, fixtures, fields["username"], fields["devAccId"], now=now)
    details = _decoded_details(fields)
    request_id = ids.token_hex(8)
    expires = now + timedelta(seconds=ttl_s)
    while True:
        challenge = Challenge(
            otp_challenge=_new_challenge(ids),
            request_id=request_id,
            username=device.username,
            dev_acc_id=device.dev_acc_id,
            integration_key=app.integration_key,
            app_id=app.app_id,
            # The seed's format for the signed text: <account ID>|<request ID>|<details>.
            plain_text=f"{device.dev_acc_id}|{request_id}|{details}",
            details=details,
            auth_token=fields["authToken"] or ids.token_hex(16),
            created_at=now.isoformat(),
            expires_at=expires.isoformat(),
        )
        if store.add(
            NS_CHALLENGE, challenge.otp_challenge, challenge.to_value(), now=now, expires_at=expires
        ):
            break
    return {
        "qrCode": qr_content(device.dev_acc_id, challenge.otp_challenge, challenge.plain_text),
        "otpChallenge": challenge.otp_challenge,
        "plainText": challenge.plain_text,
        "authToken": challenge.auth_token,
    }


# -- authQRCode -------------------------------------------------------------------------------
def count_wrong_otp(device: DeviceState) -> DeviceState:
    """One more wrong OTP; the device locks at MAX_WRONG_OTPS. A locked device stays as it is
    (a racing request that passed the lock check before it closed)."""
    if device.locked:
        return device
    failed = device.failed_attempts + 1
    return replace(device, failed_attempts=failed, locked=failed >= MAX_WRONG_OTPS)


def _record_wrong_otp(store: Store, dev_acc_id: str, *, now: datetime) -> DeviceState | None:
    def count(value: dict[str, Any]) -> dict[str, Any]:
        return count_wrong_otp(DeviceState.from_value(value)).to_value()

    value = store.update(NS_DEVICE, dev_acc_id, count, now=now)
    return None if value is None else DeviceState.from_value(value)


def usable_challenge(store: Store, otp_challenge: str, *, now: datetime) -> Challenge:
    """A challenge that exists, is unused and unexpired; 23016 saying which otherwise."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None:
        raise AuthenticationDataNotFound(
            f"Authentication data does not exist: no challenge {otp_challenge}"
        )
    if record.used:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the challenge was already used"
        )
    challenge = Challenge.from_value(record.value)
    if record.expired(now):
        raise AuthenticationDataNotFound(
            f"Authentication data does not exist: the challenge expired at {challenge.expires_at}"
        )
    return challenge


def _check_answer_matches(
    challenge: Challenge, app: App, device: DeviceAccount, fields: Mapping[str, str]
) -> None:
    if challenge.dev_acc_id != device.dev_acc_id or challenge.integration_key != (
        app.integration_key
    ):
        raise RequestOwnerMismatch(
            "Authentication request owner not match: the challenge was issued for another "
            "user, device or app"
        )
    if decode_details(fields["details"]) != challenge.plain_text:
        raise InvalidInput(
            "Invalid input: details must be the Base64 of the plainText returned by "
            "requestQrCode for this challenge",
            field="details",
        )
    if fields["authToken"] and not hmac.compare_digest(
        fields["authToken"].encode(), challenge.auth_token.encode()
    ):
        raise InvalidInput(
            "Invalid input: authToken is not the one issued with this challenge", field="authToken"
        )


def _check_otp(
    store: Store, device: DeviceAccount, challenge: Challenge, otp: str, *, now: datetime
) -> None:
    expected = device_otp(device.secret, challenge.otp_challenge, challenge.plain_text)
    if hmac.compare_digest(otp.strip().encode(), expected.encode()):
        return
    counted = _record_wrong_otp(store, device.dev_acc_id, now=now)
    if counted is not None and counted.locked:
        raise TokenLocked(f"OTP token locked: {MAX_WRONG_OTPS} wrong OTPs for {device.dev_acc_id}")
    left = MAX_WRONG_OTPS - counted.failed_attempts if counted else 0
    raise InvalidCredentials(f"Invalid credentials: wrong OTP ({left} attempts left)")


def authorize_qr_code(
    store: Store,
    fixtures: CentagateFixtures,
    app: App,
    fields: Mapping[str, str],
    ids: IdSource,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Verify the OTP for a challenge and consume it; the answer's ``object`` fields.

    Without ``isTransaction`` and ``transactionValue`` (a QR *login*, "QR Code Authentication
    API") the same checks run and the record says ``login``; with them it is a signing.
    """
    # Required (so never empty) for a signing on the v2 paths; absent for a login.
    if fields["isTransaction"] not in ("1", ""):
        raise InvalidInput('Invalid input: isTransaction must be "1"', field="isTransaction")
    fields = _with_device(store, fixtures, fields, now=now)
    device = check_user_and_device(store, fixtures, fields["username"], fields["devAccId"], now=now)
    challenge = usable_challenge(store, fields["challenge"], now=now)
    _check_answer_matches(challenge, app, device, fields)
    _check_otp(store, device, challenge, fields["otp"], now=now)
    kind = "transaction" if fields["isTransaction"] or fields["transactionValue"] else "login"
    return complete(
        store,
        fixtures,
        app,
        challenge,
        ids,
        now=now,
        kind=kind,
        transaction_value=fields["transactionValue"],
    )


def complete(
    store: Store,
    fixtures: CentagateFixtures,
    app: App,
    challenge: Challenge,
    ids: IdSource,
    *,
    now: datetime,
    kind: str,
    transaction_value: str = "",
) -> dict[str, Any]:
    """Consume the challenge (atomically, once), record the signing or login, build the
    authentication object the answer carries."""
    if store.take_once(NS_CHALLENGE, challenge.otp_challenge, now=now) is None:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the challenge was already used"
        )
    store.update(NS_DEVICE, challenge.dev_acc_id, _reset_failures, now=now)
    previous = user_state(store, challenge.username, now=now)
    store.update(NS_USER, challenge.username, _stamp_login(now), now=now)
    transaction = Transaction(
        request_id=challenge.request_id,
        kind=kind,
        username=challenge.username,
        dev_acc_id=challenge.dev_acc_id,
        otp_challenge=challenge.otp_challenge,
        details=challenge.details,
        transaction_value=transaction_value,
        app_id=app.app_id,
        signed_at=now.isoformat(),
    )
    add_new(store, NS_TRANSACTION, transaction.request_id, transaction.to_value(), now=now)
    last_login = previous.last_success_login if previous else 0
    return _auth_object(fixtures, app, challenge, ids, last_login)


def _auth_object(
    fixtures: CentagateFixtures,
    app: App,
    challenge: Challenge,
    ids: IdSource,
    last_login: int,
) -> dict[str, Any]:
    user = fixtures.users[challenge.username]
    company = fixtures.company
    return {
        "appId": app.app_id,
        "userId": user.user_id,
        "username": user.username,
        "companyId": company.get("companyId", ""),
        "companyName": company.get("companyName", ""),
        "role": "User",
        "timezone": company.get("timezone", "UTC"),
        "authToken": challenge.auth_token,
        "useSystemPassword": False,
        "passwordExpired": False,
        "secretCode": ids.token_hex(16),
        "authMethods": "QRCODE",
        "sessionTimeout": SESSION_TIMEOUT_MS,
        "multiStepAuth": False,
        "email": user.email,
        "groupId": company.get("groupId", "1"),
        "lastSuccessLogin": last_login,
        "uuid": ids.new_uuid(),
    }


def _reset_failures(value: dict[str, Any]) -> dict[str, Any]:
    return replace(DeviceState.from_value(value), failed_attempts=0).to_value()


def _stamp_login(now: datetime) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def stamp(value: dict[str, Any]) -> dict[str, Any]:
        user = UserState.from_value(value)
        return replace(user, last_success_login=int(now.timestamp() * 1000)).to_value()

    return stamp


# -- views of state ---------------------------------------------------------------------------
def challenge_state(store: Store, otp_challenge: str, *, now: datetime) -> ChallengeState | None:
    """Pending, used or expired; None for a challenge that never existed."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None:
        return None
    if record.used:
        return ChallengeState.USED
    return ChallengeState.EXPIRED if record.expired(now) else ChallengeState.PENDING


def pending_challenges(store: Store, dev_acc_id: str, *, now: datetime) -> list[Challenge]:
    """Usable challenges for one device, newest first (what the device page lists)."""
    usable = [Challenge.from_value(r.value) for r in store.records(NS_CHALLENGE) if r.usable(now)]
    return [c for c in reversed(usable) if c.dev_acc_id == dev_acc_id]


def pending_challenge(
    store: Store, dev_acc_id: str, otp_challenge: str, *, now: datetime
) -> Challenge | None:
    """One usable challenge of this device (the device page approves it), or None."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None or not record.usable(now):
        return None
    challenge = Challenge.from_value(record.value)
    return challenge if challenge.dev_acc_id == dev_acc_id else None
