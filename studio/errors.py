"""Every failure a person can see is one of these; the UI turns them into messages in one place.

    StudioError                      message says what happened and what to do
    ├── ConfigurationError           a setting is missing or wrong (no token, no endpoint, no extra)
    ├── InputError                   the person's input cannot be used (empty text, not an image)
    └── BackendError                 the model server failed or said no
        ├── AuthenticationError      401: the token is missing or wrong
        ├── PermissionDeniedError    403: gated model, or the token lacks inference permission
        ├── PaymentRequiredError     402: the account's inference credits are used up
        ├── ModelNotFoundError       404, 400 model_not_supported: not served there
        ├── EndpointGoneError        410: the URL is retired
        ├── ValidationError          422: a parameter is out of range
        ├── RateLimitError           429 after retries
        ├── ModelLoadingError        503 "currently loading" for longer than we wait
        ├── ServerError              other 4xx/5xx, including generation failures
        ├── BadResponseError         an answer we cannot read (HTML page, broken JSON)
        ├── BackendTimeoutError      no answer in time (also a TimeoutError)
        └── BackendConnectionError   cannot connect, or the connection dropped (a ConnectionError)
            └── IncompleteStreamError  a stream ended with no [DONE], finish reason or final text

Messages never contain the access token: they are built from settings names, hosts and the
server's own error text, and every message is redacted when it is made (`studio.secrets`).
"""

from __future__ import annotations

from studio.secrets import redact


class StudioError(Exception):
    """Base class: ``str(error)`` is the message shown to the person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class ConfigurationError(StudioError):
    pass


class InputError(StudioError):
    pass


class BackendError(StudioError):
    pass


class AuthenticationError(BackendError):
    pass


class PermissionDeniedError(BackendError):
    pass


class PaymentRequiredError(BackendError):
    pass


class ModelNotFoundError(BackendError):
    pass


class EndpointGoneError(BackendError):
    pass


class ValidationError(BackendError):
    pass


class RateLimitError(BackendError):
    pass


class ModelLoadingError(BackendError):
    pass


class ServerError(BackendError):
    pass


class BadResponseError(BackendError):
    pass


class BackendTimeoutError(BackendError, TimeoutError):
    pass


class BackendConnectionError(BackendError, ConnectionError):
    pass


class IncompleteStreamError(BackendConnectionError):
    pass
