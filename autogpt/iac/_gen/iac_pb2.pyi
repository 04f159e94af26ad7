from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProtocolVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTOCOL_VERSION_UNSPECIFIED: _ClassVar[ProtocolVersion]
    PROTOCOL_VERSION_1: _ClassVar[ProtocolVersion]

class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KIND_UNSPECIFIED: _ClassVar[Kind]
    KIND_REQUEST: _ClassVar[Kind]
    KIND_REPLY: _ClassVar[Kind]
    KIND_EVENT: _ClassVar[Kind]
    KIND_CONTROL: _ClassVar[Kind]

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CODE_UNSPECIFIED: _ClassVar[ErrorCode]
    ERROR_CODE_INTERNAL: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_INPUT: _ClassVar[ErrorCode]
    ERROR_CODE_CONFIG: _ClassVar[ErrorCode]
    ERROR_CODE_UNKNOWN_ACTION: _ClassVar[ErrorCode]
    ERROR_CODE_UNKNOWN_RECIPIENT: _ClassVar[ErrorCode]
    ERROR_CODE_NO_LIVE_AGENT: _ClassVar[ErrorCode]
    ERROR_CODE_TIMEOUT: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_ENVELOPE: _ClassVar[ErrorCode]
    ERROR_CODE_ENVELOPE_TOO_LARGE: _ClassVar[ErrorCode]
    ERROR_CODE_BAD_SIGNATURE: _ClassVar[ErrorCode]
    ERROR_CODE_UNSUPPORTED_VERSION: _ClassVar[ErrorCode]
    ERROR_CODE_UNAUTHENTICATED: _ClassVar[ErrorCode]
    ERROR_CODE_PERMISSION_DENIED: _ClassVar[ErrorCode]
    ERROR_CODE_AGENT_GONE: _ClassVar[ErrorCode]
    ERROR_CODE_AGENT_FAILED: _ClassVar[ErrorCode]
    ERROR_CODE_CANCELLED: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_AUTH: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_MODEL_NOT_FOUND: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_RATE_LIMITED: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_UNAVAILABLE: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_MALFORMED_REPLY: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_STRUCTURED_OUTPUT: _ClassVar[ErrorCode]
    ERROR_CODE_MODEL_FILES: _ClassVar[ErrorCode]
    ERROR_CODE_WORKSPACE: _ClassVar[ErrorCode]
    ERROR_CODE_PATH_OUTSIDE_WORKSPACE: _ClassVar[ErrorCode]
    ERROR_CODE_OVERLOADED: _ClassVar[ErrorCode]
    ERROR_CODE_RESOURCE_EXHAUSTED: _ClassVar[ErrorCode]
PROTOCOL_VERSION_UNSPECIFIED: ProtocolVersion
PROTOCOL_VERSION_1: ProtocolVersion
KIND_UNSPECIFIED: Kind
KIND_REQUEST: Kind
KIND_REPLY: Kind
KIND_EVENT: Kind
KIND_CONTROL: Kind
ERROR_CODE_UNSPECIFIED: ErrorCode
ERROR_CODE_INTERNAL: ErrorCode
ERROR_CODE_INVALID_INPUT: ErrorCode
ERROR_CODE_CONFIG: ErrorCode
ERROR_CODE_UNKNOWN_ACTION: ErrorCode
ERROR_CODE_UNKNOWN_RECIPIENT: ErrorCode
ERROR_CODE_NO_LIVE_AGENT: ErrorCode
ERROR_CODE_TIMEOUT: ErrorCode
ERROR_CODE_INVALID_ENVELOPE: ErrorCode
ERROR_CODE_ENVELOPE_TOO_LARGE: ErrorCode
ERROR_CODE_BAD_SIGNATURE: ErrorCode
ERROR_CODE_UNSUPPORTED_VERSION: ErrorCode
ERROR_CODE_UNAUTHENTICATED: ErrorCode
ERROR_CODE_PERMISSION_DENIED: ErrorCode
ERROR_CODE_AGENT_GONE: ErrorCode
ERROR_CODE_AGENT_FAILED: ErrorCode
ERROR_CODE_CANCELLED: ErrorCode
ERROR_CODE_LLM_AUTH: ErrorCode
ERROR_CODE_LLM_MODEL_NOT_FOUND: ErrorCode
ERROR_CODE_LLM_RATE_LIMITED: ErrorCode
ERROR_CODE_LLM_UNAVAILABLE: ErrorCode
ERROR_CODE_LLM_MALFORMED_REPLY: ErrorCode
ERROR_CODE_LLM_STRUCTURED_OUTPUT: ErrorCode
ERROR_CODE_MODEL_FILES: ErrorCode
ERROR_CODE_WORKSPACE: ErrorCode
ERROR_CODE_PATH_OUTSIDE_WORKSPACE: ErrorCode
ERROR_CODE_OVERLOADED: ErrorCode
ERROR_CODE_RESOURCE_EXHAUSTED: ErrorCode

class Address(_message.Message):
    __slots__ = ("agent_id", "role", "topic")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    role: str
    topic: str
    def __init__(self, agent_id: _Optional[str] = ..., role: _Optional[str] = ..., topic: _Optional[str] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("action", "input", "language", "args_json")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    action: str
    input: str
    language: str
    args_json: str
    def __init__(self, action: _Optional[str] = ..., input: _Optional[str] = ..., language: _Optional[str] = ..., args_json: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("task_id", "role", "description", "depends_on", "acceptance", "input_json")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    INPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    role: str
    description: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    acceptance: _containers.RepeatedScalarFieldContainer[str]
    input_json: str
    def __init__(self, task_id: _Optional[str] = ..., role: _Optional[str] = ..., description: _Optional[str] = ..., depends_on: _Optional[_Iterable[str]] = ..., acceptance: _Optional[_Iterable[str]] = ..., input_json: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("state", "message", "progress", "delta", "task")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Status.State]
        STATE_ACCEPTED: _ClassVar[Status.State]
        STATE_WORKING: _ClassVar[Status.State]
        STATE_WAITING: _ClassVar[Status.State]
        STATE_DONE: _ClassVar[Status.State]
        STATE_FAILED: _ClassVar[Status.State]
    STATE_UNSPECIFIED: Status.State
    STATE_ACCEPTED: Status.State
    STATE_WORKING: Status.State
    STATE_WAITING: Status.State
    STATE_DONE: Status.State
    STATE_FAILED: Status.State
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    state: Status.State
    message: str
    progress: float
    delta: str
    task: TaskProgress
    def __init__(self, state: _Optional[_Union[Status.State, str]] = ..., message: _Optional[str] = ..., progress: _Optional[float] = ..., delta: _Optional[str] = ..., task: _Optional[_Union[TaskProgress, _Mapping]] = ...) -> None: ...

class TaskProgress(_message.Message):
    __slots__ = ("task_id", "role", "state", "step", "attempt", "plan")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[TaskProgress.State]
        STATE_PENDING: _ClassVar[TaskProgress.State]
        STATE_RUNNING: _ClassVar[TaskProgress.State]
        STATE_WAITING: _ClassVar[TaskProgress.State]
        STATE_DONE: _ClassVar[TaskProgress.State]
        STATE_FAILED: _ClassVar[TaskProgress.State]
    STATE_UNSPECIFIED: TaskProgress.State
    STATE_PENDING: TaskProgress.State
    STATE_RUNNING: TaskProgress.State
    STATE_WAITING: TaskProgress.State
    STATE_DONE: TaskProgress.State
    STATE_FAILED: TaskProgress.State
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    role: str
    state: TaskProgress.State
    step: str
    attempt: int
    plan: _containers.RepeatedCompositeFieldContainer[PlanItem]
    def __init__(self, task_id: _Optional[str] = ..., role: _Optional[str] = ..., state: _Optional[_Union[TaskProgress.State, str]] = ..., step: _Optional[str] = ..., attempt: _Optional[int] = ..., plan: _Optional[_Iterable[_Union[PlanItem, _Mapping]]] = ...) -> None: ...

class PlanItem(_message.Message):
    __slots__ = ("task_id", "role", "depends_on")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    role: str
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, task_id: _Optional[str] = ..., role: _Optional[str] = ..., depends_on: _Optional[_Iterable[str]] = ...) -> None: ...

class Artifact(_message.Message):
    __slots__ = ("path", "kind", "size", "sha256")
    PATH_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    path: str
    kind: str
    size: int
    sha256: str
    def __init__(self, path: _Optional[str] = ..., kind: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("ok", "output", "data_json", "artifacts", "usage")
    OK_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    output: str
    data_json: str
    artifacts: _containers.RepeatedCompositeFieldContainer[Artifact]
    usage: Usage
    def __init__(self, ok: _Optional[bool] = ..., output: _Optional[str] = ..., data_json: _Optional[str] = ..., artifacts: _Optional[_Iterable[_Union[Artifact, _Mapping]]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message", "retryable", "usage")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    code: ErrorCode
    message: str
    retryable: bool
    usage: Usage
    def __init__(self, code: _Optional[_Union[ErrorCode, str]] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("seq",)
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class Register(_message.Message):
    __slots__ = ("protocol_version", "agent_id", "role", "capabilities", "topics", "public_key", "name", "actions")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    TOPICS_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    protocol_version: ProtocolVersion
    agent_id: str
    role: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    topics: _containers.RepeatedScalarFieldContainer[str]
    public_key: bytes
    name: str
    actions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, protocol_version: _Optional[_Union[ProtocolVersion, str]] = ..., agent_id: _Optional[str] = ..., role: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., topics: _Optional[_Iterable[str]] = ..., public_key: _Optional[bytes] = ..., name: _Optional[str] = ..., actions: _Optional[_Iterable[str]] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("agent_id", "role", "capabilities", "public_key", "actions")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    role: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    public_key: bytes
    actions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent_id: _Optional[str] = ..., role: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., public_key: _Optional[bytes] = ..., actions: _Optional[_Iterable[str]] = ...) -> None: ...

class Registered(_message.Message):
    __slots__ = ("protocol_version", "agent_id", "agents", "heartbeat_ms", "more_agents")
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    MORE_AGENTS_FIELD_NUMBER: _ClassVar[int]
    protocol_version: ProtocolVersion
    agent_id: str
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    heartbeat_ms: int
    more_agents: bool
    def __init__(self, protocol_version: _Optional[_Union[ProtocolVersion, str]] = ..., agent_id: _Optional[str] = ..., agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ..., heartbeat_ms: _Optional[int] = ..., more_agents: _Optional[bool] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("transfer_id", "path", "offset", "data", "last", "total_size", "sha256")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    path: str
    offset: int
    data: bytes
    last: bool
    total_size: int
    sha256: str
    def __init__(self, transfer_id: _Optional[str] = ..., path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ..., total_size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("id", "correlation_id", "session_id", "sender", "recipient", "kind", "timestamp_us", "signature", "command", "task", "status", "result", "error", "heartbeat", "register", "registered", "file_chunk")
    ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    FILE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    id: str
    correlation_id: str
    session_id: str
    sender: str
    recipient: Address
    kind: Kind
    timestamp_us: int
    signature: bytes
    command: Command
    task: Task
    status: Status
    result: Result
    error: Error
    heartbeat: Heartbeat
    register: Register
    registered: Registered
    file_chunk: FileChunk
    def __init__(self, id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., session_id: _Optional[str] = ..., sender: _Optional[str] = ..., recipient: _Optional[_Union[Address, _Mapping]] = ..., kind: _Optional[_Union[Kind, str]] = ..., timestamp_us: _Optional[int] = ..., signature: _Optional[bytes] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., task: _Optional[_Union[Task, _Mapping]] = ..., status: _Optional[_Union[Status, _Mapping]] = ..., result: _Optional[_Union[Result, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., register: _Optional[_Union[Register, _Mapping]] = ..., registered: _Optional[_Union[Registered, _Mapping]] = ..., file_chunk: _Optional[_Union[FileChunk, _Mapping]] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[Envelope]
    def __init__(self, envelopes: _Optional[_Iterable[_Union[Envelope, _Mapping]]] = ...) -> None: ...
