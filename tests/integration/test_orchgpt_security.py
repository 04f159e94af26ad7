"""orchgpt against hostile or broken clients: no TLS, foreign or missing certificates,
roles the certificate does not grant, spoofed senders, oversized and malformed envelopes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from autogpt.errors import (
    ConfigError,
    ErrorCode,
    InvalidEnvelopeError,
    PermissionDeniedError,
    UnreachableError,
)
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import ROUTER_ID, Address, Command, Envelope, Kind, Register, Result
from autogpt.net.link import TlsFiles, connect
from orchgpt.pki import issue_client, make_test_pki
from orchgpt.server import Orchestrator

if TYPE_CHECKING:
    from conftest import Net, StartOrchestrator


async def _drain(call: grpc.aio.StreamStreamCall, first: object = None) -> None:
    """Write ``first`` (if any), then read until the stream ends; a non-OK status raises."""
    if first is not None:
        await call.write(first)
    while await call.read() is not grpc.aio.EOF:  # type: ignore[attr-defined]
        pass


# -- transport security ------------------------------------------------------------------


async def test_plaintext_health_check_is_refused(orchestrator: Orchestrator, net: Net) -> None:
    stub = health_pb2_grpc.HealthStub(net.channel(orchestrator))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_connect_stream_gets_no_data(orchestrator: Orchestrator, net: Net) -> None:
    call = net.channel(orchestrator).stream_stream(
        "/iac.v1.Iac/Connect", request_serializer=pb.Frame.SerializeToString, response_deserializer=pb.Frame.FromString
    )(timeout=5)
    hello = Envelope.new(Address.agent(ROUTER_ID), Register("user"), kind=Kind.CONTROL)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(call, net.frame_of(hello))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(orchestrator.board.router) == 0


async def test_client_certificate_from_another_ca_is_refused(orchestrator: Orchestrator, pki: Path, net: Net) -> None:
    other = make_test_pki(pki.parent / "other", {"alice": ["user"]})
    # Trusts the real CA, so only the client certificate is wrong.
    tls = TlsFiles(pki / "ca.pem", other / "alice.pem", other / "alice.key")
    with pytest.raises(UnreachableError, match="come from its CA"):
        await connect(net.target(orchestrator), tls, Register("user"), timeout=5)
    assert "alice" not in orchestrator.board.router


async def test_client_trusting_another_ca_does_not_connect(orchestrator: Orchestrator, pki: Path, net: Net) -> None:
    other = make_test_pki(pki.parent / "other", {"alice": ["user"]})
    with pytest.raises(UnreachableError):
        await connect(net.target(orchestrator), TlsFiles.from_dir(other, "alice"), Register("user"), timeout=5)


async def test_client_without_certificate_is_refused(orchestrator: Orchestrator, net: Net, pki: Path) -> None:
    channel = net.channel(orchestrator, grpc.ssl_channel_credentials(root_certificates=(pki / "ca.pem").read_bytes()))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    hello = Envelope.new(Address.agent(ROUTER_ID), Register("user"), kind=Kind.CONTROL)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _drain(pb_grpc.IacStub(channel).Connect(timeout=5), net.frame_of(hello))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert len(orchestrator.board.router) == 0


# -- registration --------------------------------------------------------------------------


async def test_role_not_in_certificate_is_refused(orchestrator: Orchestrator, pki: Path, net: Net) -> None:
    with pytest.raises(PermissionDeniedError, match="architect"):
        await connect(net.target(orchestrator), TlsFiles.from_dir(pki, "back1"), Register("architect"), timeout=5)
    assert "back1" not in orchestrator.board.router
    assert orchestrator.board.router.by_role("architect") == ()
    session = await net.session(orchestrator, "back1")  # the role it does hold still works
    assert session.registered.agent_id == "back1"
    assert orchestrator.board.router.get("back1").role == "backend"  # type: ignore[union-attr]


async def test_unsupported_protocol_version_is_refused(orchestrator: Orchestrator, pki: Path, net: Net) -> None:
    register = Register("generic", protocol_version=2)
    with pytest.raises(InvalidEnvelopeError, match="protocol version 2") as caught:
        await connect(net.target(orchestrator), TlsFiles.from_dir(pki, "gen1"), register, timeout=5)
    assert caught.value.code == ErrorCode.UNSUPPORTED_VERSION
    assert len(orchestrator.board.router) == 0


async def test_suggested_agent_id_cannot_take_another_identity(orchestrator: Orchestrator, net: Net) -> None:
    registered = await net.raw(orchestrator, "mallory").register("user", agent_id="alice")
    assert registered.registered.agent_id == "mallory"
    assert "alice" not in orchestrator.board.router


async def test_certificate_named_router_cannot_impersonate_the_router(
    orchestrator: Orchestrator, pki: Path, net: Net
) -> None:
    try:
        issue_client(pki, ROUTER_ID, ["generic"])
    except ConfigError:
        return  # refusing to issue such a certificate is a fine answer
    try:
        session = await connect(
            net.target(orchestrator), TlsFiles.from_dir(pki, ROUTER_ID), Register("generic"), timeout=5
        )
    except PermissionDeniedError:
        return  # so is refusing the registration
    try:
        assert session.registered.agent_id != ROUTER_ID
    finally:
        await session.close()


# -- spoofing ------------------------------------------------------------------------------


async def test_sender_field_is_replaced_by_the_connection_identity(orchestrator: Orchestrator, net: Net) -> None:
    alice = await net.session(orchestrator, "alice")
    gen1 = await net.session(orchestrator, "gen1")
    mallory = net.raw(orchestrator, "mallory")
    await mallory.register("user")
    forged = net.agents_request("forged")
    forged.recipient.CopyFrom(pb.Address(agent_id="gen1"))
    forged.sender = "alice"
    await mallory.send(forged)
    async with asyncio.timeout(5):
        received = await gen1.bus.receive()
        assert received is not None
        assert received.id == "forged"
        assert received.sender == "mallory"
        await gen1.bus.reply(received, Result(output="for the real sender"))
        _, reply = await mallory.until_reply("forged")
        assert reply.result.output == "for the real sender"
        assert reply.sender == "gen1"
        # Alice never saw the reply: the marker sent after it is the first thing she gets.
        await gen1.bus.send(Envelope.new(Address.agent("alice"), Result(output="marker")))
        first = await alice.bus.receive()
    assert first is not None
    assert first.payload == Result(output="marker")


# -- oversized, malformed and garbage input ---------------------------------------------------


async def test_oversized_request_gets_typed_error_and_connection_survives(
    orchestrator_factory: StartOrchestrator, net: Net
) -> None:
    orch = await orchestrator_factory(max_envelope_bytes=4096)
    await net.echo(orch, "gen1")
    alice = await net.session(orch, "alice")
    mallory = await net.session(orch, "mallory")
    async with asyncio.timeout(10):
        with pytest.raises(InvalidEnvelopeError, match="exceeds 4096") as caught:
            await alice.bus.request(Address.role("generic"), Command("run", "x" * 10_000))
        assert caught.value.code == ErrorCode.ENVELOPE_TOO_LARGE
        assert (await alice.bus.call(Address.role("generic"), Command("run", "small"))).output == "small"
        assert (await mallory.bus.call(Address.role("generic"), Command("run", "other"))).output == "other"
    assert not alice.lost.is_set()


async def test_oversized_reply_fails_the_request_promptly(orchestrator_factory: StartOrchestrator, net: Net) -> None:
    orch = await orchestrator_factory(max_envelope_bytes=4096)
    gen1 = await net.session(orch, "gen1")
    alice = await net.session(orch, "alice")
    pending = asyncio.create_task(alice.bus.request(Address.agent("gen1"), Command("run"), timeout=0.5))
    request = await gen1.bus.receive()
    assert request is not None
    await gen1.bus.reply(request, Result(output="y" * 10_000))
    with pytest.raises(InvalidEnvelopeError) as caught:  # today: RequestTimeoutError after the full timeout
        await pending
    assert caught.value.code == ErrorCode.ENVELOPE_TOO_LARGE


async def test_garbage_first_frame_ends_that_stream_only(orchestrator: Orchestrator, net: Net) -> None:
    await net.echo(orchestrator, "gen1")
    alice = await net.session(orchestrator, "alice")
    call = net.mtls(orchestrator, "mallory").stream_stream(
        "/iac.v1.Iac/Connect", request_serializer=lambda b: b, response_deserializer=pb.Frame.FromString
    )(timeout=5)
    await call.write(b"\xff\xff\xff garbage")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() != grpc.StatusCode.OK
    assert "mallory" not in orchestrator.board.router
    async with asyncio.timeout(5):
        assert (await alice.bus.call(Address.agent("gen1"), Command("run", "still here"))).output == "still here"


async def test_garbage_after_handshake_ends_stream_with_error_status(orchestrator: Orchestrator, net: Net) -> None:
    call = net.mtls(orchestrator, "mallory").stream_stream(
        "/iac.v1.Iac/Connect", request_serializer=lambda b: b, response_deserializer=pb.Frame.FromString
    )(timeout=5)
    hello = Envelope.new(Address.agent(ROUTER_ID), Register("user"), kind=Kind.CONTROL)
    await call.write(net.frame_of(hello).SerializeToString())
    assert (await call.read()).envelopes[0].registered.agent_id == "mallory"
    await call.write(b"\xff\xff\xff garbage")
    with pytest.raises(grpc.aio.AioRpcError):
        await _drain(call)
    assert await call.code() != grpc.StatusCode.OK


def _bad(
    *, id: str = "bad", to: str | None = ROUTER_ID, kind: int = pb.KIND_REQUEST, payload: bool = True
) -> pb.Envelope:
    msg = pb.Envelope(id=id, kind=kind)  # type: ignore[arg-type]
    if to is not None:
        msg.recipient.agent_id = to
    if payload:
        msg.command.action = "agents"
    return msg


@pytest.mark.parametrize(
    ("envelope", "kind", "problem"),
    [
        pytest.param(_bad(id=""), pb.KIND_REPLY, "no id", id="request-without-id"),
        pytest.param(_bad(to=None), pb.KIND_REPLY, "no recipient", id="request-without-recipient"),
        pytest.param(_bad(payload=False), pb.KIND_REPLY, "no payload", id="request-without-payload"),
        pytest.param(_bad(kind=9), pb.KIND_CONTROL, "unknown envelope kind 9", id="unknown-kind"),
        pytest.param(_bad(kind=0), pb.KIND_CONTROL, "unknown envelope kind 0", id="unspecified-kind"),
        pytest.param(_bad(kind=pb.KIND_EVENT, to=None), pb.KIND_CONTROL, "no recipient", id="event-without-recipient"),
    ],
)
async def test_malformed_header_gets_typed_error_and_connection_survives(
    orchestrator: Orchestrator, net: Net, envelope: pb.Envelope, kind: int, problem: str
) -> None:
    raw = net.raw(orchestrator, "mallory")
    await raw.register("user")
    async with asyncio.timeout(5):
        await raw.send(envelope, net.agents_request("probe"))
        before, probe_reply = await raw.until_reply("probe")
    assert [(e.kind, e.error.code, e.sender) for e in before] == [(kind, ErrorCode.INVALID_ENVELOPE, ROUTER_ID)]
    assert problem in before[0].error.message
    assert before[0].correlation_id == envelope.id
    assert "mallory" in probe_reply.result.output  # the same connection still works


async def test_malformed_reply_is_dropped_without_notice(orchestrator: Orchestrator, net: Net) -> None:
    """IAC.md 5.3: a REPLY that fails the checks is dropped and logged, nothing comes back."""
    raw = net.raw(orchestrator, "mallory")
    await raw.register("user")
    reply = pb.Envelope(id="bad", kind=pb.KIND_REPLY, correlation_id="x", result=pb.Result())
    async with asyncio.timeout(5):
        await raw.send(reply, net.agents_request("probe"))
        before, probe_reply = await raw.until_reply("probe")
    assert before == []
    assert "mallory" in probe_reply.result.output


async def test_second_register_is_refused(orchestrator: Orchestrator, net: Net) -> None:
    raw = net.raw(orchestrator, "mallory")
    await raw.register("user")
    again = Envelope.new(Address.agent(ROUTER_ID), Register("user", agent_id="alice"), kind=Kind.CONTROL)
    async with asyncio.timeout(5):
        await raw.send(again, net.agents_request("probe"))
        before, _ = await raw.until_reply("probe")
    assert [(e.kind, e.error.code) for e in before] == [(pb.KIND_CONTROL, ErrorCode.INVALID_ENVELOPE)]
    assert "first envelope" in before[0].error.message
    assert [a.agent_id for a in orchestrator.board.router.agents()] == ["mallory"]
