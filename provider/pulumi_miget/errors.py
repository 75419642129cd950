"""Exception types. Messages name operations, resources and HTTP statuses — never a token or key."""

from __future__ import annotations


class MigetError(Exception):
    """Base class of every error this package raises."""


class ConfigurationError(MigetError):
    """The provider is missing a setting, or a setting is invalid."""


class ResourceOptionsError(MigetError, ValueError):
    """A resource was given options the engine would silently mishandle for it."""


class TransportError(MigetError):
    """The request could not be completed (connection refused or dropped, timeout)."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"{operation}: {reason}")


class ApiError(MigetError):
    """The Miget API answered with an error status."""

    def __init__(self, operation: str, status: int, message: str) -> None:
        self.operation = operation
        self.status = status
        self.message = message
        super().__init__(f"{operation}: HTTP {status}: {message}")


class BadRequestError(ApiError):
    """400 or 422: the API rejected the request's fields."""


class AuthenticationError(ApiError):
    """401: the API key is missing, wrong or expired."""


class ForbiddenError(ApiError):
    """403: the key may not use this workspace or lacks a permission, or it is suspended."""


class NotFoundError(ApiError):
    """404: no such object (in this workspace)."""


class NameTakenError(BadRequestError):
    """422 "Name has already been taken": another credential in the workspace has this name."""


class RateLimitedError(ApiError):
    """429 after the retry budget was spent."""


class ServerError(ApiError):
    """5xx after the retry budget was spent."""


def error_for_status(operation: str, status: int, message: str) -> ApiError:
    """The most specific ApiError for an HTTP status (and, for 422, the message)."""
    if status == 422 and "already been taken" in message.lower():
        return NameTakenError(operation, status, message)
    kinds: dict[int, type[ApiError]] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: ForbiddenError,
        404: NotFoundError,
        422: BadRequestError,
        429: RateLimitedError,
    }
    kind = kinds.get(status, ServerError if status >= 500 else ApiError)
    return kind(operation, status, message)
