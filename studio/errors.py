"""Every failure a person can see is one of these; the UI turns them into messages in one place.

    StudioError                      message says what happened and what to do
    ├── ConfigurationError           a setting is missing or wrong (no token, no endpoint, no extra)
    ├── InputError                   the person's input cannot be used (empty text, not an image)
    ├── LimitReached                 over a limit per person, or the studio's: how long to wait
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
        ├── BackendConnectionError   cannot connect, or the connection dropped (a ConnectionError)
        │   └── IncompleteStreamError  a stream ended with no [DONE], finish reason or final text
        └── LocalModelError          a model on this computer (studio.local) cannot load or run
            ├── LocalModelNotFoundError  no such folder or Hub model (also a ModelNotFoundError)
            ├── ModelNotDownloadedError  not on disk, and it could not be downloaded
            ├── NotEnoughMemoryError     the machine ran out of memory loading or running it
            ├── NotEnoughDiskError       no room on disk for its files
            └── WrongKindOfModelError    a model made for another task, which this tab cannot run

Each error has two readers. `message` is for whoever runs the studio (and for API callers): it
names the host, the status and the setting to change. `for_person` is what someone in front of
the page is told: short, with what they can do, and nothing about settings they cannot reach;
`title` heads it. Input errors are the person's own, so their message is both.

A local model's failure happens on the computer that runs the studio, where the teacher
usually sits: its short message says what happened in plain words and the fix itself, and is
given per failure (`person=`), since "no network" and "HF_HUB_OFFLINE is set" need other fixes.

Messages never contain the access token: they are built from settings names, hosts and the
server's own error text, and every message is redacted when it is made (`studio.secrets`).
"""

from __future__ import annotations

from studio.secrets import redact

# The endings of the page's short messages: what to do about a setup problem, and about one
# that may pass.
TELL_TEACHER = "Tell the teacher: the terminal that runs the studio says what to fix."
IF_IT_PERSISTS = "If it keeps happening, tell the teacher."
# What a person is told of a failure that is none of these: a fault of the studio itself.
UNEXPECTED = (
    "Something went wrong inside the studio: {name}. Your input is kept; try again, and if it "
    "happens again, the terminal that runs the studio shows the details."
)


class StudioError(Exception):
    """Base class: ``str(error)`` is the full message; ``for_person`` the page's short one."""

    title = "Something went wrong"
    person: str | None = None  # the short message; None: the full message is for the person

    def __init__(self, message: str, *, status: int | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message

    @property
    def for_person(self) -> str:
        return self.person or self.message


class ConfigurationError(StudioError):
    title = "Setup needed"
    person = f"This tab is not set up yet. {TELL_TEACHER}"


class InputError(StudioError):
    title = "Cannot do that"


class LimitReached(StudioError):
    """Over one of the teacher's limits (studio.classroom.limits); `wait` in seconds."""

    title = "Please wait"

    def __init__(self, message: str, *, wait: float = 0.0) -> None:
        super().__init__(message, status=429)
        self.wait = wait


class BackendError(StudioError):
    title = "The model server failed"
    person = f"The model server could not answer. Try again in a minute. {IF_IT_PERSISTS}"


class AuthenticationError(BackendError):
    title = "Access refused"
    person = f"The model server did not accept the studio's access key. {TELL_TEACHER}"


class PermissionDeniedError(BackendError):
    title = "Access refused"
    person = f"The model server does not let the studio use this model. {TELL_TEACHER}"


class PaymentRequiredError(BackendError):
    title = "Credits used up"
    person = f"The studio's model credits are used up for now. {TELL_TEACHER}"


class ModelNotFoundError(BackendError):
    title = "Model not found"
    person = f"The model server does not offer the model this tab asks for. {TELL_TEACHER}"


class EndpointGoneError(BackendError):
    title = "Model server retired"
    person = f"The model server this tab uses has closed. {TELL_TEACHER}"


class ValidationError(BackendError):
    title = "Setting refused"
    person = None  # the server's words about the setting: the person can change it


class RateLimitError(BackendError):
    title = "The model server is busy"
    person = "The model server is busy right now. Wait a minute and try again."


class ModelLoadingError(BackendError):
    title = "The model is starting"
    person = "The model is still starting up on its server. Try again in a minute."


class ServerError(BackendError):
    title = "The model server failed"
    person = f"The model server ran into a problem. Try again in a minute. {IF_IT_PERSISTS}"


class BadResponseError(BackendError):
    title = "Unreadable answer"
    person = f"The model server sent an answer the studio cannot read. Try again. {IF_IT_PERSISTS}"


class BackendTimeoutError(BackendError, TimeoutError):
    title = "No answer in time"
    person = (
        "The model server did not answer in time: it may be busy or starting up. Try again in "
        f"a minute. {IF_IT_PERSISTS}"
    )


class BackendConnectionError(BackendError, ConnectionError):
    title = "Cannot reach the model server"
    person = f"The studio cannot reach the model server. Try again in a minute. {IF_IT_PERSISTS}"


class IncompleteStreamError(BackendConnectionError):
    title = "The answer was cut off"
    person = "The model server stopped in the middle of its answer. Try again."


class LocalModelError(BackendError):
    """A model that runs in this process failed to load or run. `person`: the short message
    for the page (what happened, and the fix on the computer that runs the studio); `title`
    heads it, when the class's own does not fit the failure."""

    title = "The model on this computer failed"
    person = f"The model that runs on this computer failed. {IF_IT_PERSISTS}"

    def __init__(
        self, message: str, *, person: str | None = None, title: str | None = None
    ) -> None:
        super().__init__(message)
        if person:
            self.person = redact(person)
        if title:
            self.title = title


class LocalModelNotFoundError(LocalModelError, ModelNotFoundError):
    title = "Model not found"
    person = (
        "The model set for this tab cannot be found: no such folder on this computer, or no "
        "such model on the Hugging Face Hub. The terminal that runs the studio says which "
        "setting to change."
    )


class ModelNotDownloadedError(LocalModelError):
    title = "Model not downloaded"
    person = (
        "This tab's model is not on this computer yet, and it could not be downloaded. On the "
        "computer that runs the studio, with internet access, run: python -m studio --prepare"
    )


class NotEnoughMemoryError(LocalModelError):
    title = "Not enough memory"
    person = (
        "The computer that runs the studio ran out of memory for this model. Try a shorter "
        "input, or ask for less at once."
    )


class NotEnoughDiskError(LocalModelError):
    title = "Not enough disk space"
    person = (
        "The computer that runs the studio has no room on disk for this tab's model. Free some "
        "space there, then try again."
    )


class WrongKindOfModelError(LocalModelError):
    title = "Wrong kind of model"
    person = (
        "The model set for this tab is made for another task, so this tab cannot run it. The "
        "terminal that runs the studio says which setting to change."
    )
