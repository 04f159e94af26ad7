"""orchgpt against a bare grpc.aio relay, in one run, on this machine: both servers in
processes of their own, started by this script with the same mutual TLS, driven by the same
client process. Prints figures and ratios (medians of ``--repeat`` runs); asserts nothing.

* one-way envelopes through the client library (``Bus.send``) vs the bare relay fed one
  envelope per message and 64 per message, and orchgpt fed ready-made 64-envelope frames;
* ping-pong through ``Bus.request`` (p50/p99) vs the same through the bare relay;
* request/reply with 64 in flight;
* ``--join N``: N idle agents joining a fresh orchgpt, each on its own TCP connection, from
  ``--joiners`` client processes at once, run at a lower priority (one Python process spends
  more CPU on a TLS client handshake than orchgpt spends on the server side, so a single one
  would measure itself, and busy ones would starve the bystander of CPU):
  time, orchgpt's CPU and resident memory per agent, the latency of a bystander making a
  request every 5 ms meanwhile, and the same joins against the bare relay (the floor of
  TLS + grpc.aio).

    python bench/orch.py [--count 30000] [--pings 2000] [--repeat 3] [--join 1000] [--joiners 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc

from autogpt.iac import codec
from autogpt.iac._gen import iac_pb2 as pb
from autogpt.iac._gen import iac_pb2_grpc as pb_grpc
from autogpt.iac.envelope import Address, Command, Envelope, Heartbeat, Register, Result
from autogpt.net.link import NetSession, TlsFiles, connect
from orchgpt.pki import make_test_pki

sys.path.insert(0, str(Path(__file__).parent))
from orch_memory import RawPeer, settle, start_orchgpt

MB = 1 << 20
BYSTANDER_PACE = 0.005  # seconds between a bystander's requests while agents join


# -- the bare relay: generated stubs, forwards each Frame to the first envelope's recipient ----


class Relay(pb_grpc.IacServicer):
    def __init__(self) -> None:
        self.streams: dict[str, grpc.aio.ServicerContext[pb.Frame, pb.Frame]] = {}

    async def Connect(
        self, request_iterator: AsyncIterator[pb.Frame], context: grpc.aio.ServicerContext[pb.Frame, pb.Frame]
    ) -> None:
        first = await anext(request_iterator)
        name = first.envelopes[0].register.agent_id
        self.streams[name] = context
        registered = pb.Envelope(id="r", kind=pb.KIND_CONTROL, registered=pb.Registered(agent_id=name))
        await context.write(pb.Frame(envelopes=[registered]))
        try:
            async for frame in request_iterator:
                peer = self.streams.get(frame.envelopes[0].recipient.agent_id)
                if peer is not None:
                    await peer.write(frame)
        finally:
            self.streams.pop(name, None)


async def serve_relay(certs: Path) -> None:
    creds = grpc.ssl_server_credentials(
        [((certs / "server.key").read_bytes(), (certs / "server.pem").read_bytes())],
        root_certificates=(certs / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 8 * MB)])
    pb_grpc.add_IacServicer_to_server(Relay(), server)  # type: ignore[no-untyped-call]
    port = server.add_secure_port("127.0.0.1:0", creds)
    await server.start()
    print(f"relay listening on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


async def start_relay(certs: Path) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--relay", str(certs), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode()
    match = re.search(r":(\d+)$", line.strip())
    assert match, line
    return proc, int(match.group(1))


class RelayPeer(RawPeer):
    async def join(self, name: str) -> None:
        hello = pb.Envelope(id="h", kind=pb.KIND_CONTROL, register=pb.Register(agent_id=name, role="x"))
        await self.call.write(pb.Frame(envelopes=[hello]))
        await self.call.read()


def heartbeats(to: str, count: int) -> list[pb.Envelope]:
    return [codec.to_proto(Envelope.new(Address.agent(to), Heartbeat(i))) for i in range(count)]


# -- the measurements ----------------------------------------------------------------------


async def raw_one_way(a: RawPeer, b: RawPeer, to: str, count: int, batch: int) -> float:
    """Envelopes/s from ``a`` to ``b``, written ``batch`` to a frame, read as protobuf."""
    frame = pb.Frame(envelopes=heartbeats(to, batch))
    count = count // batch * batch

    async def sink() -> None:
        got = 0
        while got < count:
            got += len((await b.call.read()).envelopes)

    sinking = asyncio.create_task(sink())
    started = time.perf_counter()
    for _ in range(count // batch):
        await a.call.write(frame)
    await asyncio.wait_for(sinking, 120)
    return count / (time.perf_counter() - started)


async def raw_ping_pong(
    a: RawPeer, b: RawPeer, to_b: str, to_a: str, pings: int, stop: asyncio.Event | None = None
) -> list[float]:
    """Raw round trips (no client library): ``pings`` back to back or, with ``stop``, one every
    ``BYSTANDER_PACE`` seconds until it is set (a working agent while others join)."""
    ping = pb.Frame(envelopes=heartbeats(to_b, 1))
    pong = pb.Frame(envelopes=heartbeats(to_a, 1))

    async def echo() -> None:
        while True:
            await b.call.read()
            await b.call.write(pong)

    echoing = asyncio.create_task(echo())
    samples: list[float] = []
    while (not stop.is_set()) if stop is not None else len(samples) < pings:
        t = time.perf_counter()
        await a.call.write(ping)
        await a.call.read()
        samples.append(time.perf_counter() - t)
        if stop is not None:
            await asyncio.sleep(BYSTANDER_PACE)
    echoing.cancel()
    return samples


async def lib_one_way(a: NetSession, b: NetSession, count: int) -> float:
    got = 0

    async def sink() -> None:
        nonlocal got
        async for _env in b.bus:
            got += 1
            if got == count:
                return

    sinking = asyncio.create_task(sink())
    to_b = Address.agent(b.bus.agent_id)
    started = time.perf_counter()
    for i in range(count):
        await a.bus.send(Envelope.new(to_b, Heartbeat(i)))
    await asyncio.wait_for(sinking, 120)
    return count / (time.perf_counter() - started)


async def lib_requests(a: NetSession, b: NetSession, pings: int, in_flight: int) -> tuple[list[float], float]:
    async def echo() -> None:
        async for env in b.bus:
            await b.bus.reply(env, Result(output="pong"))

    echoing = asyncio.create_task(echo())
    samples: list[float] = []
    to_b = Address.agent(b.bus.agent_id)

    async def worker(n: int) -> None:
        for _ in range(n):
            t = time.perf_counter()
            await a.bus.request(to_b, Command("run", "ping"), timeout=60)
            samples.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(worker(pings // in_flight) for _ in range(in_flight)))
    rate = in_flight * (pings // in_flight) / (time.perf_counter() - started)
    echoing.cancel()
    return samples, rate


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)] * 1000


async def median_of(repeat: int, measure: Callable[[], Awaitable[float]]) -> float:
    return statistics.median([await measure() for _ in range(repeat)])


async def with_cpu(
    repeat: int, server: int, envelopes: int, measure: Callable[[], Awaitable[float]]
) -> tuple[float, float, float]:
    """Median rate, and the median CPU per envelope in microseconds of the ``server`` process
    and of this one (the clients): figures that a busy machine distorts less than rates."""
    runs = []
    for _ in range(repeat):
        spent, mine = cpu_seconds(server), time.process_time()
        rate = await measure()
        runs.append(
            (rate, (cpu_seconds(server) - spent) / envelopes * 1e6, (time.process_time() - mine) / envelopes * 1e6)
        )
    rate, server_us, client_us = (statistics.median(column) for column in zip(*runs, strict=True))
    return rate, server_us, client_us


def row(name: str, value: str) -> None:
    print(f"  {name:<52} {value}", flush=True)


async def throughput(certs: Path, tmp: Path, count: int, pings: int, repeat: int) -> None:
    relay, relay_port = await start_relay(certs)
    orch, orch_port = await start_orchgpt(
        certs, tmp, None, {"ORCHGPT_STREAMS_PER_CERT": "64", "ORCHGPT_HEARTBEAT_TIMEOUT": "600"}
    )
    try:
        ra = RelayPeer(f"localhost:{relay_port}", TlsFiles.from_dir(certs, "a"))
        rb = RelayPeer(f"localhost:{relay_port}", TlsFiles.from_dir(certs, "b"))
        await ra.join("a")
        await rb.join("b")
        oa = RawPeer(f"localhost:{orch_port}", TlsFiles.from_dir(certs, "a"))
        ob = RawPeer(f"localhost:{orch_port}", TlsFiles.from_dir(certs, "b"))
        await oa.register("generic")
        await ob.register("backend")
        target = f"localhost:{orch_port}"
        a = await connect(target, TlsFiles.from_dir(certs, "a"), Register("generic"))
        b = await connect(target, TlsFiles.from_dir(certs, "b"), Register("backend"))
        ob_id = "b"  # the raw peers joined first, so they hold the certificate names

        print(f"== orchgpt vs a bare grpc.aio relay (mTLS, each server in its own process; median of {repeat})")
        big = count * 4 // 64 * 64
        relay1 = await median_of(repeat, lambda: raw_one_way(ra, rb, "b", count // 4, 1))
        relay64, relay_us, _ = await with_cpu(repeat, relay.pid, big, lambda: raw_one_way(ra, rb, "b", big, 64))
        orch64, orch_us, _ = await with_cpu(repeat, orch.pid, big, lambda: raw_one_way(oa, ob, ob_id, big, 64))
        lib, lib_us, client_us = await with_cpu(repeat, orch.pid, count, lambda: lib_one_way(a, b, count))
        row("bare relay, 1 envelope per message", f"{relay1:>10,.0f} /s")
        row("bare relay, 64 envelopes per message", f"{relay64:>10,.0f} /s  (server CPU {relay_us:.1f} us/envelope)")
        row(
            "orchgpt, raw client, 64 per frame",
            f"{orch64:>10,.0f} /s  ({orch64 / relay64:.2f}x relay-64; server CPU {orch_us:.1f} us/envelope, "
            f"{orch_us / relay_us:.2f}x relay)",
        )
        row(
            "orchgpt, client library (Bus.send -> Bus)",
            f"{lib:>10,.0f} /s  ({lib / relay64:.2f}x relay-64, {lib / relay1:.2f}x relay-1)",
        )
        row(
            "  CPU per envelope: orchgpt / both client ends",
            f"{lib_us:.1f} us / {client_us:.1f} us",
        )

        relay_pp = await raw_ping_pong(ra, rb, "b", "a", pings)
        lib_pp, _ = await lib_requests(a, b, pings, 1)
        row("ping-pong p50 / p99, bare relay", f"{pct(relay_pp, 0.5):.2f} ms / {pct(relay_pp, 0.99):.2f} ms")
        row(
            "ping-pong p50 / p99, orchgpt Bus.request",
            f"{pct(lib_pp, 0.5):.2f} ms / {pct(lib_pp, 0.99):.2f} ms  "
            f"({pct(lib_pp, 0.5) / pct(relay_pp, 0.5):.2f}x relay p50)",
        )

        async def burst() -> float:
            return (await lib_requests(a, b, pings * 4, 64))[1]

        rate, rr_us, rr_client_us = await with_cpu(repeat, orch.pid, pings * 4, burst)
        row("request/reply, 64 in flight, orchgpt Bus.request", f"{rate:>10,.0f} /s")
        row("  CPU per request and reply: orchgpt / both client ends", f"{rr_us:.1f} us / {rr_client_us:.1f} us")
        await a.close()
        await b.close()
        for peer in (ra, rb, oa, ob):
            await peer.close()
    finally:
        for proc in (relay, orch):
            proc.terminate()
            await proc.wait()
    from orchgpt.ledger import counts

    recorded = ", ".join(f"{n:,} {state}" for state, n in sorted(counts(tmp / "ledger.sqlite3").items()))
    row("task ledger rows after SIGTERM", recorded)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time ``pid`` has used, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def joiner(target: str, certs: Path, count: int, relay: bool) -> None:
    """One of the processes that join: ``count`` peers, each on its own TCP connection, kept
    until standard input closes. Prints ``half`` and ``joined`` as it gets there."""
    os.nice(10)  # the load under test is orchgpt's work for the joins, not these processes' own
    tls = TlsFiles.from_dir(certs, "idle")
    peers: list[RawPeer] = []
    loop = asyncio.get_running_loop()
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)  # go
    for i in range(count):
        if relay:
            peer: RawPeer = RelayPeer(target, tls)
            await peer.join(f"idle-{os.getpid()}-{i}")  # type: ignore[attr-defined]
        else:
            peer = RawPeer(target, tls)
            await peer.register("generic")
        peers.append(peer)
        if i + 1 == count // 2:
            print("half", flush=True)
    print("joined", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    for peer in peers:
        await peer.close()


async def join_from(
    processes: int, target: str, certs: Path, count: int, relay: bool = False
) -> tuple[float, float, list[asyncio.subprocess.Process]]:
    """``count`` peers joined from ``processes`` processes at once: the seconds until all had
    joined, until all had half, and the processes (close their stdin to let them go)."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--joiner", target, "--certs", str(certs), "--join", str(share),
            *(["--relay-join"] if relay else []), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        for share in (count // processes + (i < count % processes) for i in range(processes))
    ]  # fmt: skip
    for proc in procs:  # started, imported and ready: go at once
        assert proc.stdout is not None
        assert (await proc.stdout.readline()).strip() == b"ready"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
    halves: list[float] = []

    async def reported(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while (line := (await proc.stdout.readline()).strip()) != b"joined":
            if not line:
                raise RuntimeError("a joining process ended early")
            halves.append(time.perf_counter() - started)

    await asyncio.gather(*(reported(proc) for proc in procs))
    return time.perf_counter() - started, max(halves, default=0.0), procs


async def release(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
    for proc in procs:
        await proc.wait()


async def joining(certs: Path, tmp: Path, count: int, pings: int, processes: int) -> None:
    env = {
        "ORCHGPT_STREAMS_PER_CERT": str(count + 8), "ORCHGPT_HEARTBEAT_TIMEOUT": "600", "ORCHGPT_METRICS": "127.0.0.1:0"
    }  # fmt: skip
    proc, port = await start_orchgpt(certs, tmp, None, env)
    assert proc.stdout is not None
    metrics = re.search(r"metrics at (\S+)", (await proc.stdout.readline()).decode())
    assert metrics, "orchgpt did not say where its metrics are"
    target = f"localhost:{port}"
    joiners: list[asyncio.subprocess.Process] = []
    try:
        a = await connect(target, TlsFiles.from_dir(certs, "a"), Register("generic"))
        b = await connect(target, TlsFiles.from_dir(certs, "b"), Register("backend"))
        spent = cpu_seconds(proc.pid)
        quiet, _ = await lib_requests(a, b, pings, 1)
        per_ping = (cpu_seconds(proc.pid) - spent) / pings  # orchgpt's CPU per bystander round trip
        warm = RawPeer(target, TlsFiles.from_dir(certs, "idle"))
        await warm.register("generic")
        before, cpu = await settle(proc.pid), cpu_seconds(proc.pid)
        collected = await gc_pauses(metrics.group(1))
        busy: list[float] = []
        joined = asyncio.Event()

        async def echo() -> None:
            async for env in b.bus:
                await b.bus.reply(env, Result(output="pong"))

        async def bystander() -> None:
            """One request every ``BYSTANDER_PACE`` seconds, as a working agent makes them: back
            to back, it would take a core of its own from the joins it is meant to watch."""
            to_b = Address.agent(b.bus.agent_id)
            while not joined.is_set():
                t = time.perf_counter()
                await a.bus.request(to_b, Command("run", "ping"), timeout=60)
                busy.append(time.perf_counter() - t)
                await asyncio.sleep(BYSTANDER_PACE)

        ra, rb = RawPeer(target, TlsFiles.from_dir(certs, "a")), RawPeer(target, TlsFiles.from_dir(certs, "b"))
        ra_id, rb_id = await ra.register("generic"), await rb.register("backend")
        echoing = asyncio.create_task(echo())
        watching = asyncio.create_task(bystander())
        watching_raw = asyncio.create_task(raw_ping_pong(ra, rb, rb_id, ra_id, 0, joined))
        elapsed, halfway, joiners = await join_from(processes, target, certs, count)
        joined.set()
        await watching
        raw = await watching_raw
        cpu = cpu_seconds(proc.pid) - cpu - per_ping * (len(busy) + len(raw))  # the joins' share alone
        echoing.cancel()
        full, paused, longest = await gc_pauses(metrics.group(1))  # the longest: since orchgpt started
        full, paused = full - collected[0], paused - collected[1]
        after = await settle(proc.pid)
        print(
            f"== {count:,} idle agents joining orchgpt (each its own TCP + TLS connection, from {processes} processes)"
        )
        row("time to join", f"{elapsed:.1f} s (first half {halfway:.1f} s, second half {elapsed - halfway:.1f} s)")
        row("orchgpt CPU per joining agent (bystander's share taken out)", f"{cpu / count * 1000:.2f} ms")
        row("orchgpt resident memory per idle agent", f"{(after - before) / count / 1024:.1f} KiB")
        row("bystander ping-pong p50 / p99, quiet", f"{pct(quiet, 0.5):.2f} ms / {pct(quiet, 0.99):.2f} ms")
        if busy:
            row("bystander ping-pong p50 / p99, while joining", f"{pct(busy, 0.5):.2f} ms / {pct(busy, 0.99):.2f} ms")
        if raw:
            row("  the same, raw client (no client library)", f"{pct(raw, 0.5):.2f} ms / {pct(raw, 0.99):.2f} ms")
        row(
            "orchgpt full garbage collections while joining",
            f"{full:.0f}, {paused * 1000:.0f} ms in all, the longest {longest * 1000:.0f} ms",
        )
        await a.close()
        await b.close()
        await warm.close()
        await ra.close()
        await rb.close()
    finally:
        await release(joiners)
        proc.terminate()
        await proc.wait()
    await relay_joining(certs, count, processes)


async def gc_pauses(url: str) -> tuple[float, float, float]:
    """orchgpt's full garbage collections so far: how many, their seconds, the longest."""

    def scrape() -> dict[str, float]:
        with urllib.request.urlopen(url + "metrics", timeout=10) as reply:
            lines = reply.read().decode().splitlines()
        return {line.split(" ")[0]: float(line.split(" ")[1]) for line in lines if line[:1] != "#"}

    got = await asyncio.to_thread(scrape)
    full = '{generation="2"}'
    return (
        got[f"orchgpt_gc_collections_total{full}"],
        got[f"orchgpt_gc_pause_seconds_total{full}"],
        got[f"orchgpt_gc_pause_seconds_max{full}"],
    )


async def relay_joining(certs: Path, count: int, processes: int) -> None:
    """The same joins against the bare relay: what TLS, HTTP/2 and grpc.aio cost on their own."""
    relay, port = await start_relay(certs)
    joiners: list[asyncio.subprocess.Process] = []
    try:
        ra = RelayPeer(f"localhost:{port}", TlsFiles.from_dir(certs, "a"))
        rb = RelayPeer(f"localhost:{port}", TlsFiles.from_dir(certs, "b"))
        await ra.join("bystander-a")
        await rb.join("bystander-b")
        before, cpu = await settle(relay.pid), cpu_seconds(relay.pid)
        joined = asyncio.Event()
        watching = asyncio.create_task(raw_ping_pong(ra, rb, "bystander-b", "bystander-a", 0, joined))
        elapsed, _, joiners = await join_from(processes, f"localhost:{port}", certs, count, relay=True)
        joined.set()
        raw = await watching
        cpu = cpu_seconds(relay.pid) - cpu
        after = await settle(relay.pid)
        row("bare relay: time to join, the same way", f"{elapsed:.1f} s")
        row("bare relay: CPU per joining agent (with its bystander)", f"{cpu / count * 1000:.2f} ms")
        row("bare relay: resident memory per idle agent", f"{(after - before) / count / 1024:.1f} KiB")
        if raw:
            quantiles = f"{pct(raw, 0.5):.2f} ms / {pct(raw, 0.99):.2f} ms"
            row("bare relay: bystander p50 / p99 while joining, raw", quantiles)
        await ra.close()
        await rb.close()
    finally:
        await release(joiners)
        relay.terminate()
        await relay.wait()


async def run(count: int = 30_000, pings: int = 2000, repeat: int = 3, join: int = 1000, joiners: int = 4) -> None:
    from autogpt.logs import configure_logging

    configure_logging("warning")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        certs = make_test_pki(tmp / "pki", {"a": ["generic"], "b": ["backend"], "idle": ["generic"]})
        await throughput(certs, tmp, count, pings, repeat)
        if join:
            await joining(certs, tmp / "join", join, 200, joiners)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=30_000, help="envelopes per one-way run")
    parser.add_argument("--pings", type=int, default=2000, help="ping-pong round trips")
    parser.add_argument("--repeat", type=int, default=3, help="runs per throughput figure (median)")
    parser.add_argument("--join", type=int, default=1000, help="idle agents to join (0: skip)")
    parser.add_argument("--joiners", type=int, default=4, help="processes the idle agents join from")
    parser.add_argument("--relay", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--joiner", help=argparse.SUPPRESS)
    parser.add_argument("--relay-join", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--certs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        asyncio.run(serve_relay(args.relay))
        return
    if args.joiner:
        asyncio.run(joiner(args.joiner, args.certs, args.join, args.relay_join))
        return
    asyncio.run(run(args.count, args.pings, args.repeat, args.join, args.joiners))


if __name__ == "__main__":
    main()
