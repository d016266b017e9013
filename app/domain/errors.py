"""The domain's exception tree; the HTTP edge maps each class to one status and error code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the domain refuses; ``code`` is stable for API clients."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Input does not satisfy a rule (bad ID number, missing field, unknown slot)."""

    code = "validation_failed"


class NotFoundError(DomainError):
    """The thing asked for does not exist, or the caller may not know that it exists."""

    code = "not_found"


class NotPermitted(DomainError):
    """The caller's role may not do this."""

    code = "forbidden"


class InvalidTransition(DomainError):
    """The case is not in a state that allows this action."""

    code = "invalid_transition"


class StaleVersion(DomainError):
    """The caller acted on an old version of the case; someone else changed it first."""

    code = "stale_version"
