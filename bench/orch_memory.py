"""orchgpt's memory per peer, on this machine: orchgpt in its own process (resident set read
from /proc), mutual TLS, a certificate per test run. Prints figures; asserts nothing.

1. ``--idle N`` agent connections, each on its own TCP connection, registered and silent:
   resident memory per idle connection.
2. One slow consumer: a peer subscribed to a topic that never reads, while another peer
   publishes ``--events`` events of 1 MB to that topic: how far orchgpt's resident memory
   grows for it (the bound is ORCHGPT_QUEUE_BYTES plus what gRPC holds in flight).

``--source DIR`` runs the orchgpt found in DIR (say, a checkout of an older commit) instead.

    python bench/orch_memory.py --idle 200 --events 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import grpc

from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import ROUTER_ID, Address, Envelope, Kind, Register, Result
from autogpt.net.link import TlsFiles, connect
from orchgpt.pki import make_test_pki

MB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]


def rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, flags=re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


async def start_orchgpt(
    certs: Path, tmp: Path, source: str | None, env: dict[str, str]
) -> tuple[asyncio.subprocess.Process, int]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ORCHGPT_")} | env
    if source:
        environ["PYTHONPATH"] = source
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchgpt", "serve", "--listen", "127.0.0.1:0", "--certs", str(certs),
        "--ledger", str(tmp / "ledger.sqlite3"), "--log-level", "error", stdout=asyncio.subprocess.PIPE, env=environ,
        cwd=source or ROOT,  # ``-m`` imports from the working folder first
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode()
    match = re.search(r":(\d+)$", line.strip())
    assert match, line
    return proc, int(match.group(1))


def hello(role: str, topics: tuple[str, ...] = ()) -> pb.Frame:
    env = Envelope.new(Address.agent(ROUTER_ID), Register(role, topics=topics), kind=Kind.CONTROL)
    return pb.Frame(envelopes=[codec.to_proto(env)])


class RawPeer:
    """One stream on its own TCP connection (a local subchannel pool: no sharing)."""

    def __init__(self, target: str, tls: TlsFiles) -> None:
        options = [("grpc.use_local_subchannel_pool", 1), ("grpc.max_receive_message_length", 8 * MB)]
        self.channel = grpc.aio.secure_channel(target, tls.credentials(), options=options)
        self.call = pb_grpc.IacStub(self.channel).Connect()  # type: ignore[no-untyped-call]

    async def register(self, role: str, topics: tuple[str, ...] = ()) -> str:
        """Join; returns the agent id orchgpt gave this stream."""
        await self.call.write(hello(role, topics))
        frame = await self.call.read()
        assert frame.envelopes[0].WhichOneof("payload") == "registered", frame
        return str(frame.envelopes[0].registered.agent_id)

    async def close(self) -> None:
        self.call.cancel()
        await self.channel.close(None)


async def settle(pid: int, rounds: int = 10) -> int:
    """RSS once it stops moving (allocator and gRPC threads catch up)."""
    last = rss(pid)
    for _ in range(rounds):
        await asyncio.sleep(0.2)
        now = rss(pid)
        if abs(now - last) < 64 * 1024:
            return now
        last = now
    return last


async def idle_connections(certs: Path, tmp: Path, source: str | None, count: int) -> None:
    env = {"ORCHGPT_STREAMS_PER_CERT": str(count + 8), "ORCHGPT_HEARTBEAT_TIMEOUT": "600"}
    proc, port = await start_orchgpt(certs, tmp, source, env)
    target = f"localhost:{port}"
    tls = TlsFiles.from_dir(certs, "idle")
    peers: list[RawPeer] = []
    try:
        warm = RawPeer(target, tls)  # the first connection pays for TLS and gRPC setup once
        await warm.register("generic")
        peers.append(warm)
        before = await settle(proc.pid)
        started = time.perf_counter()
        for _ in range(count):
            peer = RawPeer(target, tls)
            await peer.register("generic")
            peers.append(peer)
        joined = time.perf_counter() - started
        after = await settle(proc.pid)
        per = (after - before) / count
        print(f"idle connections: {count} registered in {joined:.1f}s; orchgpt RSS {before / MB:.1f} -> "
              f"{after / MB:.1f} MiB: {per / 1024:.1f} KiB per idle connection")  # fmt: skip
    finally:
        for peer in peers:
            await peer.close()
        proc.terminate()
        await proc.wait()


async def consumer_process(target: str, certs: Path) -> None:
    """The slow consumer, in a process of its own that the benchmark freezes (SIGSTOP) once
    it has registered: it reads nothing more, and TCP pushes back on orchgpt."""
    consumer = RawPeer(target, TlsFiles.from_dir(certs, "slow"))
    await consumer.register("user", topics=("news",))
    print("ready", flush=True)
    await asyncio.Event().wait()


async def slow_consumer(certs: Path, tmp: Path, source: str | None, events: int, stall: float) -> None:
    env = {"ORCHGPT_STALL_TIMEOUT": str(stall), "ORCHGPT_HEARTBEAT_TIMEOUT": "600"}
    proc, port = await start_orchgpt(certs, tmp, source, env)
    target = f"localhost:{port}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--consumer", target, "--certs", str(certs), stdout=asyncio.subprocess.PIPE
    )
    publisher = await connect(target, TlsFiles.from_dir(certs, "pub"), Register("generic"), timeout=10)
    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, rss(proc.pid))
            await asyncio.sleep(0.02)

    try:
        assert child.stdout is not None
        assert (await child.stdout.readline()).strip() == b"ready"
        child.send_signal(signal.SIGSTOP)
        before = await settle(proc.pid)
        sampler = asyncio.create_task(sample())
        payload = Result(output="x" * (1_000_000 - 200))
        started = time.perf_counter()
        for _ in range(events):
            await publisher.bus.publish("news", payload)
            await asyncio.sleep(0.005)  # a steady stream, not one burst
        sent = time.perf_counter() - started
        await asyncio.sleep(stall + 2)  # long enough for orchgpt to give up on the consumer
        sampling = False
        await sampler
        after = await settle(proc.pid)
        print(f"slow consumer: {events} events of 1 MB published in {sent:.1f}s; orchgpt RSS {before / MB:.1f} MiB "
              f"-> peak {peak / MB:.1f} MiB (+{(peak - before) / MB:.1f} MiB), {after / MB:.1f} MiB after")  # fmt: skip
    finally:
        await publisher.close()
        child.kill()
        await child.wait()
        proc.terminate()
        await proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--idle", type=int, default=200, help="idle connections to open")
    parser.add_argument("--events", type=int, default=200, help="1 MB events for the slow consumer")
    parser.add_argument("--stall", type=float, default=5.0, help="ORCHGPT_STALL_TIMEOUT for the slow-consumer run")
    parser.add_argument("--source", help="run the orchgpt found in this folder")
    parser.add_argument("--consumer", help=argparse.SUPPRESS)
    parser.add_argument("--certs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer:
        await consumer_process(args.consumer, args.certs)
        return
    from autogpt.logs import configure_logging

    configure_logging("error")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        certs = make_test_pki(tmp / "pki", {"idle": ["generic"], "slow": ["user"], "pub": ["generic"]})
        await idle_connections(certs, tmp, args.source, args.idle)
        await slow_consumer(certs, tmp, args.source, args.events, args.stall)


if __name__ == "__main__":
    asyncio.run(main())
