"""Errors raised across Headwater, each carrying an MLflow-compatible error code.

Stores, the client and the server all raise :class:`HeadwaterError`; the server
renders it as ``{"error_code": ..., "message": ...}`` with the HTTP status that
MLflow's clients expect for that code.
"""

from __future__ import annotations

from enum import Enum


class ErrorCode(str, Enum):
    INTERNAL_ERROR = "INTERNAL_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    CUSTOMER_UNAUTHORIZED = "CUSTOMER_UNAUTHORIZED"
    RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
    RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
    NOT_FOUND = "NOT_FOUND"
    ABORTED = "ABORTED"
    RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    CANCELLED = "CANCELLED"
    DATA_LOSS = "DATA_LOSS"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


_HTTP_STATUS = {
    ErrorCode.INVALID_PARAMETER_VALUE: 400,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.RESOURCE_ALREADY_EXISTS: 400,
    ErrorCode.CUSTOMER_UNAUTHORIZED: 401,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.RESOURCE_DOES_NOT_EXIST: 404,
    ErrorCode.ENDPOINT_NOT_FOUND: 404,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ABORTED: 409,
    ErrorCode.RESOURCE_CONFLICT: 409,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.REQUEST_LIMIT_EXCEEDED: 429,
    ErrorCode.RESOURCE_EXHAUSTED: 429,
    ErrorCode.CANCELLED: 499,
    ErrorCode.NOT_IMPLEMENTED: 501,
    ErrorCode.TEMPORARILY_UNAVAILABLE: 503,
    ErrorCode.DEADLINE_EXCEEDED: 504,
}


def http_status_for(code: ErrorCode | str) -> int:
    """The HTTP status MLflow uses for ``code``; unknown codes map to 500."""
    try:
        return _HTTP_STATUS.get(ErrorCode(code), 500)
    except ValueError:
        return 500


class HeadwaterError(Exception):
    """An error with an MLflow error code. ``str(err)`` is the message."""

    def __init__(self, message: str, error_code: ErrorCode | str = ErrorCode.INTERNAL_ERROR):
        super().__init__(message)
        self.message = message
        try:
            self.error_code: ErrorCode | str = ErrorCode(error_code)
        except ValueError:
            self.error_code = error_code

    @property
    def http_status(self) -> int:
        return http_status_for(self.error_code)

    def to_dict(self) -> dict[str, str]:
        code = self.error_code.value if isinstance(self.error_code, ErrorCode) else self.error_code
        return {"error_code": code, "message": self.message}

    @classmethod
    def invalid(cls, message: str) -> "HeadwaterError":
        return cls(message, ErrorCode.INVALID_PARAMETER_VALUE)

    @classmethod
    def not_found(cls, message: str) -> "HeadwaterError":
        return cls(message, ErrorCode.RESOURCE_DOES_NOT_EXIST)

    @classmethod
    def already_exists(cls, message: str) -> "HeadwaterError":
        return cls(message, ErrorCode.RESOURCE_ALREADY_EXISTS)


class PluginError(HeadwaterError):
    """A plugin could not be loaded or two plugins claim the same name."""

    def __init__(self, message: str):
        super().__init__(message, ErrorCode.INVALID_PARAMETER_VALUE)
