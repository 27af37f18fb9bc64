"""The one family of errors the engine raises on purpose.

Every error a user can cause or meet carries a stable ``code`` so the CLI, logs and
metrics can name it without parsing messages. Anything outside this family is a bug.
"""

from __future__ import annotations


class CallCenterError(Exception):
    code = "callcenter_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigError(CallCenterError):
    code = "config_invalid"


class ESLError(CallCenterError):
    code = "esl_error"


class ESLNotConnected(ESLError):
    code = "esl_not_connected"


class ESLTimeout(ESLError):
    code = "esl_timeout"


class ESLCommandFailed(ESLError):
    code = "esl_command_failed"


class ESLProtocolError(ESLError):
    code = "esl_protocol_error"


class UnsafeValue(CallCenterError):
    """A value from outside would break or smuggle into an ESL command line."""

    code = "unsafe_value"


class CallGone(CallCenterError):
    """The channel hung up (or vanished) while the actor was using it. ``response``: the
    ``Application-Response`` of the application the hang-up ended, when it had started
    (``PLAYBACK ERROR``: a prompt cut short); None when none was running."""

    code = "call_gone"
    response: str | None = None


class InvalidTransition(CallCenterError):
    code = "invalid_transition"


class DialplanError(CallCenterError):
    code = "dialplan_invalid"


class DomainError(CallCenterError):
    code = "domain_error"


class NotFound(DomainError):
    code = "not_found"


class AlreadyExists(DomainError):
    code = "already_exists"


class InvalidOutboundRoute(DomainError):
    """An outbound route that could not be used; ``field`` names the bad part. ``message``
    is ``field: reason``, ``reason`` what is wrong (for a face that names the field its
    own way, as the CLI's ``--gateway``)."""

    code = "outbound_route_invalid"

    def __init__(self, message: str, *, field: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field
        self.reason = message.removeprefix(f"{field}: ")


class InvalidNumber(DomainError):
    """A number to dial that is not ``+`` and digits (``*`` ``#`` allowed)."""

    code = "number_invalid"


class NoOutboundRoute(DomainError):
    code = "no_outbound_route"


class DatabaseUnavailable(CallCenterError):
    code = "database_unavailable"


class MigrationError(CallCenterError):
    code = "migration_error"
