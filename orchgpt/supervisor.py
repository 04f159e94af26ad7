"""``orchgpt up``: a whole local team in one step, as supervised processes.

It makes the deployment's certificates when they are missing (a CA, the server, one
client per role and one ``user`` for consoles), starts ``orchgpt serve`` on loopback and
one ``autogpt --net --agent ROLE`` per role, restarts any that crashes (with backoff, so a
process that cannot start does not spin), and stops everything on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autogpt.errors import ConfigError


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started: float = 0.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def ensure_certs(folder: Path, roles: Sequence[str]) -> None:
    from orchgpt.pki import init_pki, issue_client

    if not (folder / "ca.pem").exists():
        init_pki(folder)
    for role in (*roles, "user"):
        name = f"{role}1" if role != "user" else "user"
        if not (folder / f"{name}.pem").exists():
            issue_client(folder, name, [role])


def say(message: str) -> None:
    print(f"[orchgpt up] {message}", flush=True)


async def _pump(child: Child) -> None:
    """Relay a child's output with its name in front."""
    assert child.proc is not None
    assert child.proc.stdout is not None
    async for raw in child.proc.stdout:
        print(f"{child.name:>10} | {raw.decode(errors='replace').rstrip()}", flush=True)


async def _start(child: Child) -> None:
    child.proc = await asyncio.create_subprocess_exec(
        *child.argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    child.started = time.monotonic()
    child.tasks = [asyncio.create_task(_pump(child), name=f"pump-{child.name}")]
    say(f"started {child.name} (pid {child.proc.pid})")


async def _stop(child: Child, grace: float = 5.0) -> None:
    proc = child.proc
    if proc is None or proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    for task in child.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_team(folder: Path, roles: Sequence[str], listen: str, workspace: Path) -> int:
    ensure_certs(folder, roles)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    py = sys.executable
    serve = [py, "-m", "orchgpt", "serve", "--listen", listen, "--certs", str(folder)]
    orch = Child("orchgpt", [*serve, "--ledger", str(folder / "ledger.sqlite3")])
    orch.proc = await asyncio.create_subprocess_exec(*orch.argv, stdout=asyncio.subprocess.PIPE)
    assert orch.proc.stdout is not None
    line = (await orch.proc.stdout.readline()).decode()
    match = re.search(r"listening on ([\d.]+):(\d+)", line)
    if not match:
        await _stop(orch)
        raise ConfigError(f"orchgpt did not start: {line.strip() or 'no output'}")
    target = f"localhost:{match.group(2)}"
    orch.tasks = [asyncio.create_task(_pump(orch))]
    say(f"orchgpt listening on {match.group(1)}:{match.group(2)}")
    agents = [
        Child(role, [py, "-m", "autogpt", "--net", "--agent", role, "--orchestrator", target, "--certs", str(folder),
                     "--cert-name", f"{role}1", "--workspace", str(workspace)])
        for role in roles
    ]  # fmt: skip
    for child in agents:
        await _start(child)
    say(f"team up. Console: autogpt --net --orchestrator {target} --certs {folder} --cert-name user")
    say(f"task ledger: orchgpt tasks --ledger {folder / 'ledger.sqlite3'}")
    try:
        while not stop.is_set():
            waits = {asyncio.create_task(c.proc.wait()): c for c in agents if c.proc is not None}
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({*waits, stopping}, return_when=asyncio.FIRST_COMPLETED)
            for task in (*waits, stopping):
                task.cancel()
            for task in done:
                if task is stopping or stop.is_set():
                    continue
                child = waits[task]
                code = child.proc.returncode if child.proc else None
                child.restarts += 1
                quick = time.monotonic() - child.started < 10  # died at once: back off
                delay = min(2.0 ** min(child.restarts, 5), 30.0) if quick else 0.5
                say(f"{child.name} exited with {code}; restarting in {delay:g}s (restart {child.restarts})")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                if not stop.is_set():
                    await _start(child)
    finally:
        say("stopping the team")
        await asyncio.gather(*(_stop(c) for c in agents))
        await _stop(orch)
        say("stopped")
    return 0
