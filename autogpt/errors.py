"""Every error the project raises, in one tree.

Two families, kept apart on purpose: *usage* errors mean the caller asked for something
that cannot work (fix the input or the settings, retrying will not help); everything
else is a runtime failure, some of which are worth retrying (``retryable``).

Each error carries an :class:`ErrorCode`, the same numbers as the ``iac.v1.ErrorCode``
enum, so an exception raised in one agent travels over the wire as an ``Error`` payload
and is raised again, as the same class, in the agent that asked (:func:`from_code`).

::

    AutoGPTError
    ├── UsageError                      you used it wrong; the message says what to do
    │   ├── ConfigError                 bad or missing setting, unknown provider, missing key
    │   │   └── UnconfinedError         no confining sandbox here, and running unconfined was not allowed
    │   ├── InvalidInputError           empty prompt, unknown language, malformed command
    │   └── UnknownActionError          the agent has no such action
    ├── LLMError                        a model call failed
    │   ├── ProviderAuthError           the provider refused the key
    │   ├── ModelNotFoundError          the provider does not know the model
    │   ├── RateLimitError              429 after retries (retryable)
    │   ├── ProviderUnavailableError    5xx, timeout, connection refused (retryable)
    │   ├── MalformedReplyError         the provider's reply did not have the expected shape
    │   ├── StructuredOutputError       the reply never matched the schema, even after repair
    │   └── ModelFilesError             embedded model files missing or corrupt
    ├── IACError                        agent-to-agent messaging failed
    │   ├── UnknownRecipientError       nobody is registered under that id, role or topic
    │   ├── NoLiveAgentError            the role exists but no instance is live
    │   ├── RequestTimeoutError         no reply within the deadline (retryable)
    │   ├── InvalidEnvelopeError        malformed, oversized or unsupported envelope
    │   │   └── TransferError           a file's chunks out of order, oversized or corrupt
    │   ├── SignatureError              missing or bad Ed25519 signature
    │   ├── PermissionDeniedError       identity not allowed to do that
    │   ├── AgentGoneError              the agent disconnected before replying (retryable)
    │   ├── ResourceExhaustedError      a per-peer limit of the orchestrator was reached (retryable)
    │   └── UnreachableError            the orchestrator cannot be reached (retryable)
    ├── AgentError                      an agent could not finish its work
    │   └── WorkCancelledError          the work was stopped on request
    ├── WorkspaceError                  file access outside or against the workspace rules
    │   ├── PathOutsideWorkspaceError   absolute path, ``..``, symlink leading outside, a tool's own folder
    │   └── WorkspaceFullError          the workspace would exceed its total size limit
    └── StoreError                      a local SQLite store (memory, sessions, schedule) is unusable
        └── StoreBusyError              another process holds the store's lock (retryable)
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ErrorCode(IntEnum):
    """Wire codes; mirrors ``iac.v1.ErrorCode`` (a test keeps the two in step)."""

    UNSPECIFIED = 0
    INTERNAL = 1
    INVALID_INPUT = 2
    CONFIG = 3
    UNKNOWN_ACTION = 4
    UNKNOWN_RECIPIENT = 5
    NO_LIVE_AGENT = 6
    TIMEOUT = 7
    INVALID_ENVELOPE = 8
    ENVELOPE_TOO_LARGE = 9
    BAD_SIGNATURE = 10
    UNSUPPORTED_VERSION = 11
    UNAUTHENTICATED = 12
    PERMISSION_DENIED = 13
    AGENT_GONE = 14
    AGENT_FAILED = 15
    CANCELLED = 16
    LLM_AUTH = 17
    LLM_MODEL_NOT_FOUND = 18
    LLM_RATE_LIMITED = 19
    LLM_UNAVAILABLE = 20
    LLM_MALFORMED_REPLY = 21
    LLM_STRUCTURED_OUTPUT = 22
    MODEL_FILES = 23
    WORKSPACE = 24
    PATH_OUTSIDE_WORKSPACE = 25
    OVERLOADED = 26
    RESOURCE_EXHAUSTED = 27


class AutoGPTError(Exception):
    """Base of every error the project raises on purpose."""

    code: ErrorCode = ErrorCode.INTERNAL
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, hint: str | None = None, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.spent = (0, 0)  # (prompt, completion) tokens the failed request had spent, when a peer says
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(AutoGPTError):
    code = ErrorCode.INVALID_INPUT


class ConfigError(UsageError):
    code = ErrorCode.CONFIG


class UnconfinedError(ConfigError):
    """Generated code would run without a confining sandbox, and the user did not allow that."""


class InvalidInputError(UsageError):
    code = ErrorCode.INVALID_INPUT


class UnknownActionError(UsageError):
    code = ErrorCode.UNKNOWN_ACTION


class LLMError(AutoGPTError):
    code = ErrorCode.LLM_UNAVAILABLE


class ProviderAuthError(LLMError):
    code = ErrorCode.LLM_AUTH


class ModelNotFoundError(LLMError):
    code = ErrorCode.LLM_MODEL_NOT_FOUND


class RateLimitError(LLMError):
    code = ErrorCode.LLM_RATE_LIMITED
    retryable = True


class ProviderUnavailableError(LLMError):
    code = ErrorCode.LLM_UNAVAILABLE
    retryable = True


class MalformedReplyError(LLMError):
    code = ErrorCode.LLM_MALFORMED_REPLY


class StructuredOutputError(LLMError):
    code = ErrorCode.LLM_STRUCTURED_OUTPUT

    def __init__(
        self, message: str, *, last_reply: str = "", hint: str | None = None, code: ErrorCode | None = None
    ) -> None:
        super().__init__(message, hint=hint, code=code)
        self.last_reply = last_reply


class ModelFilesError(LLMError):
    code = ErrorCode.MODEL_FILES


class IACError(AutoGPTError):
    code = ErrorCode.INTERNAL


class UnknownRecipientError(IACError):
    code = ErrorCode.UNKNOWN_RECIPIENT


class NoLiveAgentError(IACError):
    code = ErrorCode.NO_LIVE_AGENT


class RequestTimeoutError(IACError):
    code = ErrorCode.TIMEOUT
    retryable = True


class InvalidEnvelopeError(IACError):
    code = ErrorCode.INVALID_ENVELOPE


class TransferError(InvalidEnvelopeError):
    """A file sent in chunks broke the rules (order, size, checksum); nothing was written."""


class SignatureError(IACError):
    code = ErrorCode.BAD_SIGNATURE


class PermissionDeniedError(IACError):
    code = ErrorCode.PERMISSION_DENIED


class AgentGoneError(IACError):
    code = ErrorCode.AGENT_GONE
    retryable = True


class ResourceExhaustedError(IACError):
    """Too many streams for one certificate, or too many requests in flight on one stream."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    retryable = True


class UnreachableError(IACError):
    code = ErrorCode.AGENT_GONE
    retryable = True


class AgentError(AutoGPTError):
    code = ErrorCode.AGENT_FAILED


class WorkCancelledError(AgentError):
    code = ErrorCode.CANCELLED


class WorkspaceError(AutoGPTError):
    code = ErrorCode.WORKSPACE


class PathOutsideWorkspaceError(WorkspaceError):
    code = ErrorCode.PATH_OUTSIDE_WORKSPACE


class WorkspaceFullError(WorkspaceError):
    code = ErrorCode.WORKSPACE


class StoreError(AutoGPTError):
    """A store on disk is corrupt, unreadable or of another format; nothing in it was discarded."""

    code = ErrorCode.INTERNAL


class StoreBusyError(StoreError):
    """The store stayed locked by another writer past the busy timeout; what it held is intact."""

    retryable = True


# Codes that several classes share map back to the most specific sensible one.
_BY_CODE: dict[ErrorCode, type[AutoGPTError]] = {
    ErrorCode.INTERNAL: AutoGPTError,
    ErrorCode.INVALID_INPUT: InvalidInputError,
    ErrorCode.CONFIG: ConfigError,
    ErrorCode.UNKNOWN_ACTION: UnknownActionError,
    ErrorCode.UNKNOWN_RECIPIENT: UnknownRecipientError,
    ErrorCode.NO_LIVE_AGENT: NoLiveAgentError,
    ErrorCode.TIMEOUT: RequestTimeoutError,
    ErrorCode.INVALID_ENVELOPE: InvalidEnvelopeError,
    ErrorCode.ENVELOPE_TOO_LARGE: InvalidEnvelopeError,
    ErrorCode.BAD_SIGNATURE: SignatureError,
    ErrorCode.UNSUPPORTED_VERSION: InvalidEnvelopeError,
    ErrorCode.UNAUTHENTICATED: PermissionDeniedError,
    ErrorCode.PERMISSION_DENIED: PermissionDeniedError,
    ErrorCode.AGENT_GONE: AgentGoneError,
    ErrorCode.AGENT_FAILED: AgentError,
    ErrorCode.CANCELLED: WorkCancelledError,
    ErrorCode.LLM_AUTH: ProviderAuthError,
    ErrorCode.LLM_MODEL_NOT_FOUND: ModelNotFoundError,
    ErrorCode.LLM_RATE_LIMITED: RateLimitError,
    ErrorCode.LLM_UNAVAILABLE: ProviderUnavailableError,
    ErrorCode.LLM_MALFORMED_REPLY: MalformedReplyError,
    ErrorCode.LLM_STRUCTURED_OUTPUT: StructuredOutputError,
    ErrorCode.MODEL_FILES: ModelFilesError,
    ErrorCode.WORKSPACE: WorkspaceError,
    ErrorCode.PATH_OUTSIDE_WORKSPACE: PathOutsideWorkspaceError,
    ErrorCode.OVERLOADED: IACError,
    ErrorCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
}


def from_code(code: int, message: str) -> AutoGPTError:
    """Rebuild the exception an ``Error`` payload stands for."""
    try:
        known = ErrorCode(code)
    except ValueError:
        known = ErrorCode.UNSPECIFIED
    cls = _BY_CODE.get(known, AutoGPTError)
    return cls(message, code=known)
