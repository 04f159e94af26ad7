from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor_pb2 import FieldDescriptorProto
from google.protobuf.message import Message

from autogpt.errors import ErrorCode, InvalidEnvelopeError, SignatureError
from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac.envelope import (
    Address,
    AgentInfo,
    Artifact,
    Command,
    Envelope,
    ErrorInfo,
    FileChunk,
    Heartbeat,
    Kind,
    Payload,
    PlanItem,
    Register,
    Registered,
    Result,
    State,
    Status,
    Task,
    TaskProgress,
)
from autogpt.iac.signing import Signer, verify

ROOT = Path(__file__).resolve().parents[3]

PAYLOADS: list[Payload] = [
    Command("create", 'fastapi "app"', "python", {"port": 8000, "flags": ["a", "b"]}),
    Task("t1", "backend", "write the server", ("t0",), ("GET / returns 200",), {"contract": {"routes": 2}}),
    Status(State.WORKING, "writing main.py", 0.5, "def "),
    Status(message="[t2 backend running] attempt 2: build", task=TaskProgress("t2", "backend", "running", "build", 2)),
    Status(
        message="plan: t1=architect",
        task=TaskProgress(plan=(PlanItem("t1", "architect"), PlanItem("t2", "backend", ("t1",)))),
    ),
    Result(True, "done", {"files": 3}, (Artifact("app/main.py", "file", 120, "ab" * 32),), 10, 20),
    ErrorInfo(ErrorCode.NO_LIVE_AGENT, "no backend", True),
    ErrorInfo(ErrorCode.INVALID_INPUT, "no usable code after 2 tries", False, 1200, 3000),  # what it had spent
    Heartbeat(7),
    Register("backend", "b1", ("fs.write",), ("news",), b"\x01" * 32, "BackendGPT", actions=("create", "help")),
    Registered("b1", (AgentInfo("a1", "architect", ("fs.write",), b"\x02" * 32, ("create",)),), heartbeat_ms=10_000),
    FileChunk("x1", "big.bin", 1024, b"\x00\xff" * 10, True, 1044, "cd" * 32),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("address", [Address.agent("b1"), Address.role("backend"), Address.topic("news")])
def test_round_trip_keeps_every_field(payload: Payload, address: Address) -> None:
    env = Envelope.new(address, payload, kind=Kind.REQUEST, sender="u1", session_id="s1")
    env = replace(env, correlation_id="c1", signature=b"sig")
    assert codec.decode(codec.encode(env)) == env
    assert codec.frame_from_proto(codec.frame_to_proto([env, env])) == [env, env]


def test_timestamps_are_microseconds() -> None:
    import time

    env = Envelope.new(Address.agent("x"), Heartbeat())
    assert abs(env.timestamp_us - time.time() * 1_000_000) < 5_000_000


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda m: m.ClearField("id"), "no id"),
        (lambda m: m.ClearField("recipient"), "no recipient"),
        (lambda m: m.ClearField("command"), "no payload"),
        (lambda m: setattr(m, "kind", 99), "unknown envelope kind"),
        (lambda m: setattr(m.command, "args_json", "{not json"), "not valid JSON"),
        (lambda m: setattr(m.command, "args_json", "[1, 2]"), "must be a JSON object"),
    ],
)
def test_malformed_envelopes_are_typed_errors(mutate: object, reason: str) -> None:
    msg = codec.to_proto(Envelope.new(Address.agent("b1"), Command("run", "x"), sender="u"))
    mutate(msg)  # type: ignore[operator]
    with pytest.raises(InvalidEnvelopeError, match=reason):
        codec.from_proto(msg)


def test_garbage_bytes_are_a_typed_error() -> None:
    with pytest.raises(InvalidEnvelopeError):
        codec.decode(b"\xff\xff\xff\xff garbage")


def test_python_error_codes_match_the_proto_enum() -> None:
    proto = {
        name.removeprefix("ERROR_CODE_"): number
        for name, number in pb.ErrorCode.items()  # type: ignore[attr-defined]
    }
    python = {code.name: code.value for code in ErrorCode}
    assert proto == python


def test_signature_verifies_and_detects_tampering() -> None:
    signer = Signer.generate()
    env = signer.sign(Envelope.new(Address.role("backend"), Command("run", "ls"), kind=Kind.REQUEST))
    verify(env, signer.public_key)
    # the router stamps the sender afterwards: that must not break the signature
    verify(env.with_sender("user-7"), signer.public_key)
    tampered = replace(env, payload=Command("run", "rm -rf /"))
    with pytest.raises(SignatureError, match="bad signature"):
        verify(tampered, signer.public_key)
    with pytest.raises(SignatureError, match="bad signature"):
        verify(replace(env, recipient=Address.role("architect")), signer.public_key)
    with pytest.raises(SignatureError, match="bad signature"):
        verify(env, Signer.generate().public_key)
    with pytest.raises(SignatureError, match="not signed"):
        verify(replace(env, signature=b""), signer.public_key)
    with pytest.raises(SignatureError, match="not a valid"):
        verify(env, b"short")


def test_signature_survives_the_wire() -> None:
    signer = Signer.generate()
    env = signer.sign(Envelope.new(Address.agent("b1"), Task("t", "backend", "x", input={"b": 1, "a": 2})))
    verify(codec.decode(codec.encode(env)), signer.public_key)


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    out.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT / 'autogpt/iac/proto'}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--pyi_out={out}",
            str(ROOT / "autogpt/iac/proto/iac/v1/iac.proto"),
        ],
        check=True,
    )
    grpc_file = out / "iac/v1/iac_pb2_grpc.py"
    grpc_file.write_text(
        grpc_file.read_text().replace("from iac.v1 import", "from autogpt.iac._gen import"), encoding="utf-8"
    )
    for name in ("iac_pb2.py", "iac_pb2.pyi", "iac_pb2_grpc.py"):
        fresh = (out / "iac/v1" / name).read_text()
        committed = (ROOT / "autogpt/iac/_gen" / name).read_text()
        assert fresh == committed, f"autogpt/iac/_gen/{name} is stale: run `make proto`"


def test_received_envelopes_are_checked_against_the_bytes_that_were_signed() -> None:
    signer = Signer.generate()
    sent = signer.sign(Envelope.new(Address.role("backend"), Command("run", "ls", args={"b": 1, "a": 2})))
    received = codec.decode(codec.encode(sent))
    assert received.wire
    verify(received.with_sender("alice"), signer.public_key)
    with pytest.raises(SignatureError, match="changed after it was received"):
        verify(replace(received, payload=Command("run", "rm -rf /")), signer.public_key)


def test_foreign_json_formatting_still_verifies() -> None:
    """Another implementation may format its JSON fields differently; what it signed is what counts."""
    signer = Signer.generate()
    msg = codec.to_proto(Envelope.new(Address.role("backend"), Command("run", "x")))
    msg.command.args_json = '{ "b" : 1,  "a":2 }'  # not our compact, sorted form
    msg.signature = b""
    unsigned = msg.SerializeToString(deterministic=True)
    msg.signature = signer._key.sign(unsigned)
    received = codec.decode(msg.SerializeToString())
    verify(received, signer.public_key)
    assert received.payload == Command("run", "x", args={"a": 2, "b": 1})


def _old_status_class() -> type[Message]:
    """``Status`` as a peer built before ``task`` existed compiles it: fields 1 to 4 only."""
    proto = descriptor_pb2.FileDescriptorProto(name="old_iac.proto", package="old.iac", syntax="proto3")
    message = proto.message_type.add(name="Status")
    for number, (name, kind) in enumerate(
        [("state", FieldDescriptorProto.TYPE_INT32), ("message", FieldDescriptorProto.TYPE_STRING),
         ("progress", FieldDescriptorProto.TYPE_FLOAT), ("delta", FieldDescriptorProto.TYPE_STRING)],
        start=1,
    ):  # fmt: skip
        message.field.add(name=name, number=number, type=kind, label=FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("old.iac.Status"))


def test_an_older_peer_reads_a_status_with_task_progress_as_before() -> None:
    progress = TaskProgress("t2", "backend", "done", "server verified", 1)
    new = pb.Status(state=pb.Status.STATE_WORKING, message="[t2 backend done] server verified", progress=0.5)
    new.task.CopyFrom(codec._task_progress_to_proto(progress))
    old = _old_status_class().FromString(new.SerializeToString())
    assert (old.state, old.message, old.progress) == (State.WORKING, "[t2 backend done] server verified", 0.5)  # type: ignore[attr-defined]


def test_a_status_without_task_progress_decodes_with_none() -> None:
    """What an older peer sends: no field 5."""
    msg = codec.to_proto(Envelope.new(Address.agent("u1"), Status(State.WORKING, "planning"), sender="m1"))
    assert not msg.status.HasField("task")
    assert codec.from_proto(msg).payload == Status(State.WORKING, "planning", task=None)


def test_a_task_state_from_a_newer_peer_drops_only_the_task_part() -> None:
    status = Status(message="[t2 backend skipped] not needed", task=TaskProgress("t2", "backend", "running", "x"))
    msg = codec.to_proto(Envelope.new(Address.agent("u1"), status, sender="m1"))
    msg.status.task.state = 9  # type: ignore[assignment]  # a state this build does not know
    assert codec.from_proto(msg).payload == Status(message="[t2 backend skipped] not needed")
