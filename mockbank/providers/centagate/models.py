"""Centagate's rules: apps, users and device accounts, QR challenges and their redemption.

Functions take the store, the fixtures and ``now`` from the app clock; nothing here imports
Flask, so the rules are testable without HTTP.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from mockbank.centagate import ORDER_NAMES, device_otp, qr_content
from mockbank.fixtures import FixtureReader
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
from mockbank.store import Store, add_new

NS_USER = "centagate.user"
NS_DEVICE = "centagate.device"
NS_CHALLENGE = "centagate.challenge"
NS_TRANSACTION = "centagate.transaction"

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


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


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


def _status(reader: FixtureReader, where: str) -> Status:
    value = reader.get(where, str, default="active")
    if value not in {s.value for s in Status}:
        raise reader.fail(where, f"must be 'active' or 'inactive', not {value!r}")
    return Status(value)


def load_fixtures(reader: FixtureReader) -> CentagateFixtures:
    """Validate ``fixtures/centagate.json``; errors name the file and the field."""
    apps: dict[str, App] = {}
    for where, _node in reader.items("apps"):
        order = reader.get(f"{where}.hmacOrder", str, default="any")
        if order != "any" and order not in ORDER_NAMES:
            raise reader.fail(
                f"{where}.hmacOrder", f"must be 'any' or one of {', '.join(ORDER_NAMES)}"
            )
        app = App(
            app_id=reader.get(f"{where}.appId", str),
            name=reader.get(f"{where}.name", str, default="app"),
            integration_key=reader.get(f"{where}.integrationKey", str),
            secret_key=reader.get(f"{where}.secretKey", str),
            hmac_order=order,
        )
        if not app.integration_key or not app.secret_key:
            raise reader.fail(where, "integrationKey and secretKey must not be empty")
        if app.integration_key in apps:
            raise reader.fail(f"{where}.integrationKey", "is used by another app")
        apps[app.integration_key] = app
    company = reader.get("company", dict, default={})
    users: dict[str, User] = {}
    devices: dict[str, DeviceAccount] = {}
    for where, node in reader.items("users"):
        if not isinstance(node, dict):
            raise reader.fail(where, "expected an object")
        username = reader.get(f"{where}.username", str)
        if not username or username in users:
            raise reader.fail(f"{where}.username", "must be non-empty and unique")
        owned: list[str] = []
        for index, device in enumerate(reader.get(f"{where}.devices", list, default=[])):
            dwhere = f"{where}.devices.{index}"
            if not isinstance(device, dict):
                raise reader.fail(dwhere, "expected an object")
            dev_acc_id = reader.get(f"{dwhere}.devAccId", str)
            secret = reader.get(f"{dwhere}.secret", str)
            if not dev_acc_id or dev_acc_id in devices:
                raise reader.fail(f"{dwhere}.devAccId", "must be non-empty and unique")
            if not secret:
                raise reader.fail(f"{dwhere}.secret", "must not be empty")
            devices[dev_acc_id] = DeviceAccount(
                dev_acc_id=dev_acc_id,
                username=username,
                secret=secret,
                status=_status(reader, f"{dwhere}.status"),
                label=reader.get(f"{dwhere}.label", str, default=dev_acc_id),
            )
            owned.append(dev_acc_id)
        users[username] = User(
            username=username,
            user_id=reader.get(f"{where}.userId", str),
            email=reader.get(f"{where}.email", str, default=""),
            status=_status(reader, f"{where}.status"),
            devices=tuple(owned),
        )
    if not apps:
        raise reader.fail("apps", "at least one app is required")
    return CentagateFixtures(apps, users, devices, {k: str(v) for k, v in company.items()})


def seed(store: Store, fixtures: CentagateFixtures, *, now: datetime) -> None:
    """Write users and device accounts (status, wrong-OTP count) where absent.

    A device locked by wrong OTPs stays locked across restarts until a reset.
    """
    for user in fixtures.users.values():
        store.add(
            NS_USER,
            user.username,
            {"username": user.username, "status": user.status.value, "lastSuccessLogin": 0},
            now=now,
        )
    for device in fixtures.devices.values():
        store.add(
            NS_DEVICE,
            device.dev_acc_id,
            {
                "devAccId": device.dev_acc_id,
                "username": device.username,
                "status": device.status.value,
                "failedAttempts": 0,
                "locked": False,
            },
            now=now,
        )


@dataclass(frozen=True)
class Settings:
    """The app's ``centagate.*`` options, checked: a bad value fails at start, not per request."""

    hmac_order: str | None  # None: each app's own fixture setting
    challenge_ttl_s: float


MAX_CHALLENGE_TTL_S = 366 * 86_400


def read_settings(options: Mapping[str, Any]) -> Settings:
    """``centagate.hmac_order`` and ``centagate.challenge_ttl_s``; ValueError names the bad one."""
    order = options.get("centagate.hmac_order")
    if order is not None and order != "any" and order not in ORDER_NAMES:
        raise ValueError(
            f"centagate.hmac_order must be 'any' or one of {', '.join(ORDER_NAMES)}, not {order!r}"
        )
    ttl = options.get("centagate.challenge_ttl_s", DEFAULT_CHALLENGE_TTL_S)
    try:
        ttl_s = float(ttl)
    except (TypeError, ValueError):
        ttl_s = math.nan
    if isinstance(ttl, bool) or not 0 < ttl_s <= MAX_CHALLENGE_TTL_S:
        raise ValueError(
            f"centagate.challenge_ttl_s must be a number of seconds above 0 and at most "
            f"{MAX_CHALLENGE_TTL_S}, not {ttl!r}"
        )
    return Settings(hmac_order=order or None, challenge_ttl_s=ttl_s)


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
def check_user_and_device(
    store: Store, fixtures: CentagateFixtures, username: str, dev_acc_id: str, *, now: datetime
) -> DeviceAccount:
    """The device account if the user is active and owns an active, unlocked device."""
    user = fixtures.users.get(username)
    user_record = store.get(NS_USER, username, now=now)
    if user is None or user_record is None:
        raise UserNotFound(f"User not found: {username}")
    if user_record["status"] != Status.ACTIVE:
        raise UserNotActive(f"User is not active: {username}")
    if not user.devices:
        raise DeviceNotBound(f"User does not bind with any device: {username}")
    device = fixtures.devices.get(dev_acc_id)
    device_record = store.get(NS_DEVICE, dev_acc_id, now=now)
    if device is None or device_record is None:
        raise DeviceNotFound(f"Device not found: {dev_acc_id}")
    if device.username != username:
        raise DeviceNotBound(f"User does not bind with device {dev_acc_id}: {username}")
    if device_record["status"] != Status.ACTIVE:
        raise DeviceNotActive(f"User device not active: {dev_acc_id}")
    if device_record["locked"]:
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
        record = store.get(NS_DEVICE, dev_acc_id, now=now)
        if record is not None and record["status"] == Status.ACTIVE:
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
    details = decode_details(fields["details"])
    if len(details) > MAX_DETAILS_CHARS:
        raise InvalidInput(
            f"Invalid input: details is longer than {MAX_DETAILS_CHARS} characters once decoded",
            field="details",
        )
    request_id = ids.token_hex(8)
    # The seed's format for the signed text: <account ID>|<request ID>|<details>.
    plain_text = f"{device.dev_acc_id}|{request_id}|{details}"
    auth_token = fields["authToken"] or ids.token_hex(16)
    expires = now + timedelta(seconds=ttl_s)
    while True:
        otp_challenge = _new_challenge(ids)
        value = {
            "otpChallenge": otp_challenge,
            "requestId": request_id,
            "username": device.username,
            "devAccId": device.dev_acc_id,
            "integrationKey": app.integration_key,
            "appId": app.app_id,
            "plainText": plain_text,
            "details": details,
            "authToken": auth_token,
            "createdAt": now.isoformat(),
            "expiresAt": expires.isoformat(),
        }
        if store.add(NS_CHALLENGE, otp_challenge, value, now=now, expires_at=expires):
            break
    return {
        "qrCode": qr_content(device.dev_acc_id, otp_challenge, plain_text),
        "otpChallenge": otp_challenge,
        "plainText": plain_text,
        "authToken": auth_token,
    }


# -- authQRCode -------------------------------------------------------------------------------
def _record_wrong_otp(store: Store, dev_acc_id: str, *, now: datetime) -> dict[str, Any] | None:
    def count(value: dict[str, Any]) -> dict[str, Any]:
        if value["locked"]:  # a racing request that passed the lock check before it closed
            return value
        value["failedAttempts"] = int(value["failedAttempts"]) + 1
        value["locked"] = value["failedAttempts"] >= MAX_WRONG_OTPS
        return value

    return store.update(NS_DEVICE, dev_acc_id, count, now=now)


def authorize_qr_code(
    store: Store,
    fixtures: CentagateFixtures,
    app: App,
    fields: Mapping[str, str],
    ids: IdSource,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Verify the OTP for a challenge and consume it; the answer's ``object`` fields."""
    # Required (so never empty) on the v2 paths; on the 2018 paths it may be left out.
    if fields["isTransaction"] not in ("1", ""):
        raise InvalidInput('Invalid input: isTransaction must be "1"', field="isTransaction")
    fields = _with_device(store, fixtures, fields, now=now)
    device = check_user_and_device(store, fixtures, fields["username"], fields["devAccId"], now=now)
    record = store.record(NS_CHALLENGE, fields["challenge"])
    if record is None:
        raise AuthenticationDataNotFound(
            f"Authentication data does not exist: no challenge {fields['challenge']}"
        )
    if record.used:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the challenge was already used"
        )
    if record.expired(now):
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the challenge expired "
            f"at {record.value['expiresAt']}"
        )
    challenge = record.value
    if challenge["devAccId"] != device.dev_acc_id or challenge["integrationKey"] != (
        app.integration_key
    ):
        raise RequestOwnerMismatch(
            "Authentication request owner not match: the challenge was issued for another "
            "user, device or app"
        )
    if decode_details(fields["details"]) != challenge["plainText"]:
        raise InvalidInput(
            "Invalid input: details must be the Base64 of the plainText returned by "
            "requestQrCode for this challenge",
            field="details",
        )
    if fields["authToken"] and not hmac.compare_digest(
        fields["authToken"].encode(), challenge["authToken"].encode()
    ):
        raise InvalidInput(
            "Invalid input: authToken is not the one issued with this challenge", field="authToken"
        )
    expected = device_otp(device.secret, challenge["otpChallenge"], challenge["plainText"])
    if not hmac.compare_digest(fields["otp"].strip().encode(), expected.encode()):
        counted = _record_wrong_otp(store, device.dev_acc_id, now=now)
        if counted is not None and counted["locked"]:
            raise TokenLocked(
                f"OTP token locked: {MAX_WRONG_OTPS} wrong OTPs for {device.dev_acc_id}"
            )
        left = MAX_WRONG_OTPS - int(counted["failedAttempts"]) if counted else 0
        raise InvalidCredentials(f"Invalid credentials: wrong OTP ({left} attempts left)")
    # Atomic: of many concurrent correct answers, exactly one consumes the challenge.
    if store.take_once(NS_CHALLENGE, fields["challenge"], now=now) is None:
        raise AuthenticationDataNotFound(
            "Authentication data does not exist: the challenge was already used"
        )
    store.update(NS_DEVICE, device.dev_acc_id, _reset_failures, now=now)
    previous = store.get(NS_USER, device.username, now=now) or {}
    store.update(NS_USER, device.username, _stamp_login(now), now=now)
    add_new(
        store,
        NS_TRANSACTION,
        challenge["requestId"],
        {
            "requestId": challenge["requestId"],
            "username": device.username,
            "devAccId": device.dev_acc_id,
            "otpChallenge": challenge["otpChallenge"],
            "details": challenge["details"],
            "transactionValue": fields["transactionValue"],
            "appId": app.app_id,
            "signedAt": now.isoformat(),
        },
        now=now,
    )
    user = fixtures.users[device.username]
    company = fixtures.company
    return {
        "appId": app.app_id,
        "userId": user.user_id,
        "username": user.username,
        "companyId": company.get("companyId", ""),
        "companyName": company.get("companyName", ""),
        "role": "User",
        "timezone": company.get("timezone", "UTC"),
        "authToken": challenge["authToken"],
        "useSystemPassword": False,
        "passwordExpired": False,
        "secretCode": ids.token_hex(16),
        "authMethods": "QRCODE",
        "sessionTimeout": SESSION_TIMEOUT_MS,
        "multiStepAuth": False,
        "email": user.email,
        "groupId": company.get("groupId", "1"),
        "lastSuccessLogin": int(previous.get("lastSuccessLogin", 0)),
        "uuid": ids.new_uuid(),
    }


def _reset_failures(value: dict[str, Any]) -> dict[str, Any]:
    value["failedAttempts"] = 0
    return value


def _stamp_login(now: datetime) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def stamp(value: dict[str, Any]) -> dict[str, Any]:
        value["lastSuccessLogin"] = int(now.timestamp() * 1000)
        return value

    return stamp


def _user_view(value: dict[str, Any]) -> dict[str, Any]:
    # The wire keeps Centagate's epoch milliseconds; here it is ISO-8601, because a 13-digit
    # number passes the Luhn check one time in ten and reads as a card number to leak scanners.
    millis = int(value.get("lastSuccessLogin", 0))
    when = datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat() if millis else None
    return {**value, "lastSuccessLogin": when}


# -- views of state ---------------------------------------------------------------------------
def challenge_state(store: Store, otp_challenge: str, *, now: datetime) -> ChallengeState | None:
    """Pending, used or expired; None for a challenge that never existed."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None:
        return None
    if record.used:
        return ChallengeState.USED
    return ChallengeState.EXPIRED if record.expired(now) else ChallengeState.PENDING


def pending_challenges(store: Store, dev_acc_id: str, *, now: datetime) -> list[dict[str, Any]]:
    """Usable challenges for one device, newest first (what the device page lists)."""
    found = [
        r.value
        for r in store.records(NS_CHALLENGE)
        if r.value.get("devAccId") == dev_acc_id and r.usable(now)
    ]
    return list(reversed(found))


def pending_challenge(
    store: Store, dev_acc_id: str, otp_challenge: str, *, now: datetime
) -> dict[str, Any] | None:
    """One usable challenge of this device (the device page approves it), or None."""
    record = store.record(NS_CHALLENGE, otp_challenge)
    if record is None or record.value.get("devAccId") != dev_acc_id or not record.usable(now):
        return None
    value: dict[str, Any] = record.value
    return value


def state_view(store: Store, fixtures: CentagateFixtures, *, now: datetime) -> dict[str, Any]:
    """Apps, users, devices, challenges and signed transactions; secrets left out."""
    challenges = []
    for record in store.records(NS_CHALLENGE):
        state = challenge_state(store, record.key, now=now)
        challenges.append(
            {
                "otpChallenge": record.key,
                "username": record.value["username"],
                "devAccId": record.value["devAccId"],
                "plainText": record.value["plainText"],
                "state": state.value if state else None,
                "expiresAt": record.value["expiresAt"],
            }
        )
    return {
        "apps": [
            {
                "appId": a.app_id,
                "name": a.name,
                "integrationKey": a.integration_key,
                "secretKey": "***",
                "hmacOrder": a.hmac_order,
            }
            for a in fixtures.apps.values()
        ],
        "users": [_user_view(r.value) for r in store.records(NS_USER)],
        "devices": [r.value for r in store.records(NS_DEVICE)],
        "challenges": challenges,
        "transactions": [r.value for r in store.records(NS_TRANSACTION)],
    }
