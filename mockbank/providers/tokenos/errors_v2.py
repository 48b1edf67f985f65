"""Errors of Token.io's current REST API (payments v2, VRP, refunds) and their JSON envelope.

The OpenAPI answers every failure of these endpoints as ``{"error": {"errorCode", "message",
"tokenTraceId", ...}}``: field errors add ``paths``, a missing payment ``paymentId``, a missing
VRP consent ``vrpConsentId``, a bank error ``bankId``. The gRPC code still sets the HTTP status
(and the ``token-error`` header, as on the rest of the gateway). No Flask here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mockbank.errors import ProviderError
from mockbank.providers.tokenos.errors import TokenOSError

# Paths (under the mount prefix) whose failures use this envelope.
V2_PREFIXES = ("/v2/", "/vrp-consents", "/vrps/", "/refunds")


def is_v2_path(path: str) -> bool:
    """Whether a request path (with or without ``/tokenos``) belongs to the current API."""
    bare = path.removeprefix("/tokenos")
    if bare.startswith(V2_PREFIXES) or bare in ("/v2", "/refunds"):
        return True
    # GET /transfers/{id}/refunds lists refunds too.
    return bare.startswith("/transfers/") and bare.endswith("/refunds")


class V2Error(TokenOSError):
    """A v2 failure: the gRPC code (HTTP status) plus the OpenAPI's textual ``errorCode``.

    Each vendor code is a subclass declaring its three constants as class arguments:
    ``class FieldExpected(V2Error, error_code="Field.Expected", message="...")`` (``code``, the
    gRPC code, defaults to INVALID_ARGUMENT).
    """

    error_code: ClassVar[str] = "Field.Invalid"

    def __init_subclass__(
        cls, *, error_code: str, message: str, code: str = "INVALID_ARGUMENT", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.code, cls.error_code, cls.message = code, error_code, message

    def __init__(
        self,
        message: str | None = None,
        *,
        paths: list[str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, field=paths[0] if paths else None)
        self.paths = paths or []
        self.extra = extra or {}

    def envelope_fields(self) -> dict[str, Any]:
        """What this error adds to ``errorCode``, ``message`` and ``tokenTraceId``."""
        fields: dict[str, Any] = dict(self.extra)
        if self.paths:
            fields["paths"] = self.paths
        return fields


class FieldExpected(V2Error, error_code="Field.Expected", message="A required field is missing."):
    """A required field is absent."""


class FieldInvalidFormat(
    V2Error, error_code="Field.InvalidFormat", message="A field has an invalid format."
):
    """A field has the wrong type or shape (too long, not a number, not a URL...)."""


class FieldInvalid(V2Error, error_code="Field.Invalid", message="A field has an invalid value."):
    """A well-formed field whose value is not acceptable."""


class FieldNotUnique(
    V2Error, error_code="Field.NotUnique", message="The field value must be unique."
):
    """A value that must be unique (``refId``) was used before."""


class BankFeatureNotSupported(
    V2Error, error_code="Bank.FeatureNotSupported", message="The bank does not support this."
):
    """The chosen bank cannot do what the initiation asks (payments, this payment rail)."""


class PaymentNotFound(
    V2Error, error_code="NOT_FOUND", message="Payment not found.", code="NOT_FOUND"
):
    """No payment with this id for the caller (the envelope names the id)."""

    def __init__(self, payment_id: str) -> None:
        super().__init__(f"payment {payment_id} not found", extra={"paymentId": payment_id})


class ResourceNotFound(
    V2Error, error_code="Resource.NotFound", message="Not found.", code="NOT_FOUND"
):
    """No VRP consent, VRP or refund with this id for the caller."""

    def __init__(self, what: str, key: str, value: str) -> None:
        super().__init__(f"{what} {value} not found", extra={key: value})


class ConsentNotAuthorized(
    V2Error,
    error_code="Resource.ConsentNotAuthorized",
    message="The VRP consent is not authorized.",
):
    """A VRP payment or funds check under a consent that is not AUTHORIZED."""


class ConsentViolation(
    V2Error, error_code="Rules.VrpConsentViolation", message="The payment violates the VRP consent."
):
    """A VRP payment outside the consent's control parameters."""


class InvalidStatus(
    V2Error,
    error_code="FAILED_PRECONDITION",
    message="The operation is not allowed in the current status.",
    code="FAILED_PRECONDITION",
):
    """The resource is not in a status that allows this (embedded auth after approval...)."""


class RefundNotAllowed(V2Error, error_code="Field.Invalid", message="The refund is not allowed."):
    """A refund the original payment cannot take (not completed, more than remains)."""


# errorCode for the gateway's generic failures on v2 paths (auth, routing, faults, bugs).
GENERIC_ERROR_CODES = {
    "INVALID_ARGUMENT": "Field.Invalid",
    "FAILED_PRECONDITION": "FAILED_PRECONDITION",
    "UNAUTHENTICATED": "UNAUTHENTICATED",
    "PERMISSION_DENIED": "PermissionDenied",
    "NOT_FOUND": "NOT_FOUND",
    "ALREADY_EXISTS": "Field.NotUnique",
    "RESOURCE_EXHAUSTED": "RESOURCE_EXHAUSTED",
    "UNIMPLEMENTED": "UNIMPLEMENTED",
    "UNAVAILABLE": "UNAVAILABLE",
    "DEADLINE_EXCEEDED": "DEADLINE_EXCEEDED",
    "INTERNAL": "InternalServerError",
}


def envelope(error: ProviderError, grpc_code: str, trace_id: str) -> dict[str, Any]:
    """The ``{"error": {...}}`` body for any failure on a v2 path."""
    if isinstance(error, V2Error):
        body: dict[str, Any] = {"errorCode": error.error_code}
        body.update(error.envelope_fields())
    else:
        body = {"errorCode": GENERIC_ERROR_CODES.get(grpc_code, grpc_code)}
        if error.field:
            body["paths"] = [error.field]
    body["message"] = error.detail
    body["tokenTraceId"] = trace_id
    return {"error": body}
