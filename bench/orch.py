"""orchgpt throughput and latency, on this machine: orchgpt in its own process, two agents
in another, mutual TLS. Prints figures; asserts nothing."""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from autogpt.iac.envelope import Address, Command, Envelope, Heartbeat, Result
from autogpt.iac.envelope import Register as Reg
from autogpt.net.link import TlsFiles, connect
from orchgpt.pki import make_test_pki


async def _start_orchgpt(certs: Path, ledger: Path) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "orchgpt", "serve", "--listen", "127.0.0.1:0", "--certs", str(certs),
        "--ledger", str(ledger), "--log-level", "warning", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await proc.stdout.readline()).decode()
    match = re.search(r":(\d+)$", line.strip())
    assert match, line
    return proc, int(match.group(1))


async def run(count: int = 100_000, pings: int = 3000) -> None:
    from autogpt.logs import configure_logging

    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_test_pki(Path(tmp), {"a": ["generic"], "b": ["backend"]})
        ledger = Path(tmp) / "ledger.sqlite3"
        proc, port = await _start_orchgpt(certs, ledger)
        target = f"localhost:{port}"
        try:
            a = await connect(target, TlsFiles.from_dir(certs, "a"), Reg("generic"))
            b = await connect(target, TlsFiles.from_dir(certs, "b"), Reg("backend"))
            print(f"== orchgpt routing (mTLS, orchgpt in its own process, {count:,} envelopes)")
            done = asyncio.Event()
            got = 0

            async def sink() -> None:
                nonlocal got
                async for _env in b.bus:
                    got += 1
                    if got == count:
                        done.set()
                        return

            sinking = asyncio.create_task(sink())
            started = time.perf_counter()
            to_b = Address.agent("b")
            for i in range(count):
                await a.bus.send(Envelope.new(to_b, Heartbeat(i)))
            await asyncio.wait_for(done.wait(), 120)
            elapsed = time.perf_counter() - started
            await sinking
            print(f"  {'one-way envelopes a -> orchgpt -> b':<44} {count / elapsed:,.0f} /s")

            async def echo() -> None:
                async for env in b.bus:
                    await b.bus.reply(env, Result(output="pong"))

            echoing = asyncio.create_task(echo())
            samples = []
            for _ in range(pings):
                t = time.perf_counter()
                await a.bus.request(Address.role("backend"), Command("run", "ping"), timeout=10)
                samples.append(time.perf_counter() - t)
            samples.sort()
            p50 = statistics.median(samples) * 1000
            p99 = samples[int(len(samples) * 0.99)] * 1000
            print(f"  {'ping-pong round trip p50 / p99':<44} {p50:.2f} ms / {p99:.2f} ms ({pings} requests)")
            print(f"  {'sequential request/reply rate':<44} {pings / sum(samples):,.0f} /s")

            async def burst(n: int) -> None:
                for _ in range(n):
                    await a.bus.request(Address.role("backend"), Command("run", "ping"), timeout=30)

            started = time.perf_counter()
            await asyncio.gather(*(burst(pings // 64) for _ in range(64)))
            rate = 64 * (pings // 64) / (time.perf_counter() - started)
            print(f"  {'request/reply rate, 64 in flight':<44} {rate:,.0f} /s")
            echoing.cancel()
            await a.close()
            await b.close()
        finally:
            proc.terminate()
            await proc.wait()
        from orchgpt.ledger import counts

        recorded = ", ".join(f"{n:,} {state}" for state, n in sorted(counts(ledger).items()))
        print(f"  {'task ledger rows after SIGTERM':<44} {recorded} (every request, written in batches)")


if __name__ == "__main__":
    asyncio.run(run())
