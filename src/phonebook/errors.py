"""The error vocabulary and the one renderer of LGL's error body (CONTRACT §6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phonebook import API_VERSION

FieldErrors = Mapping[str, Sequence[str]]


class ApiError(Exception):
    """An error answered to the client: status, short phrase, what to fix."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        errors: FieldErrors | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.errors = errors
        self.headers = dict(headers or {})

    def prefixed(self, prefix: str) -> ApiError:
        """The same error with its field names under prefix (for nested bodies)."""
        if not self.errors or not prefix:
            return self
        errors = {prefix + field: msgs for field, msgs in self.errors.items()}
        description = f"{prefix}{self.description}"
        return ApiError(self.status, self.error, description, errors, self.headers)

    def body(self) -> dict[str, object]:
        """The LGL error body, keys in the contract's order."""
        body: dict[str, object] = {
            "api_version": API_VERSION,
            "error": self.error,
            "description": self.description,
        }
        if self.errors:
            body["errors"] = {field: list(msgs) for field, msgs in self.errors.items()}
        return body


def bad_request(description: str, errors: FieldErrors | None = None) -> ApiError:
    return ApiError(400, "Bad Request", description, errors)


def unauthorized(description: str) -> ApiError:
    return ApiError(
        401,
        "Unauthorized",
        description,
        headers={"WWW-Authenticate": 'Bearer realm="phonebook", Basic realm="phonebook"'},
    )


def forbidden(description: str) -> ApiError:
    return ApiError(403, "Forbidden", description)


def not_found(description: str = "No such object in this account.") -> ApiError:
    return ApiError(404, "Not Found", description)


def unprocessable(description: str, errors: FieldErrors | None = None) -> ApiError:
    return ApiError(422, "Unprocessable Entity", description, errors)


def invalid_field(field: str, message: str) -> ApiError:
    """A 422 naming one field at fault."""
    return unprocessable(f"{field}: {message}", {field: [message]})


def too_large(limit: int) -> ApiError:
    return ApiError(413, "Payload Too Large", f"The request body is over {limit} bytes.")


def request_timeout(seconds: float) -> ApiError:
    """408 for a body not sent in time; `Connection: close`, as RFC 9110 §15.5.9 advises."""
    return ApiError(
        408,
        "Request Timeout",
        f"The request body did not arrive within {seconds:g} seconds.",
        headers={"Connection": "close"},
    )


def conflict(description: str) -> ApiError:
    return ApiError(409, "Conflict", description)
