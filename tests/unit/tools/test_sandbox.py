"""Sandbox: each backend this machine offers enforces what it promises, and failures are evidence.

Every test runs once per backend; a backend this machine lacks is skipped. On the project's
machines (root, bubblewrap installed) ``bwrap`` and ``none`` both run. Processes are
found again through a marker in their command line, so "nothing survives" is checked
against the real process table, not against what the sandbox believes.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from autogpt.errors import InvalidInputError, PathOutsideWorkspaceError
from autogpt.tools.sandbox import Limits, Sandbox, SandboxError, available_backends, free_port
from autogpt.tools.sandbox_cgroup import cgroup_base
from autogpt.tools.workspace import Workspace

PY = sys.executable
ISOLATED = ("bwrap",)


@pytest.fixture(params=["bwrap", "none"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Sandbox:
    if request.param not in available_backends():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return Sandbox(Workspace(tmp_path / "ws"), backend=request.param)


@pytest.fixture
def marker() -> str:
    return f"sbx-test-{uuid.uuid4().hex}"


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A host folder outside both the workspace and /tmp (which bwrap replaces with its own)."""
    path = Path("/var/tmp") / f"autogpt-sandbox-test-{uuid.uuid4().hex}"
    path.mkdir()
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def alive_with(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker`` (zombies have an empty one)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                found.append(int(name))
        except OSError:
            continue
    return found


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False


async def test_output_exit_code_and_stdin(sandbox: Sandbox) -> None:
    result = await sandbox.run(["sh", "-c", "echo out; echo err >&2"])
    assert (result.ok, result.returncode, result.stdout, result.stderr) == (True, 0, "out\n", "err\n")
    assert result.killed_by is None
    assert result.backend == sandbox.backend
    echoed = await sandbox.run(["cat"], stdin=b"hello from stdin")
    assert echoed.stdout == "hello from stdin"


async def test_failure_is_a_result_not_an_exception(sandbox: Sandbox) -> None:
    result = await sandbox.run(["sh", "-c", "echo partial; exit 3"])
    assert (result.ok, result.returncode, result.stdout, result.timed_out) == (False, 3, "partial\n", False)
    missing = await sandbox.run(["no-such-program-anywhere"])
    assert not missing.ok
    assert "no-such-program-anywhere" in missing.stderr


async def test_misuse_raises(sandbox: Sandbox) -> None:
    for cwd in ("..", "/etc", "sub/../../x"):
        with pytest.raises(PathOutsideWorkspaceError):
            await sandbox.run(["true"], cwd=cwd)
    with pytest.raises(InvalidInputError):
        await sandbox.run([])
    (sandbox.workspace.root / "sub").mkdir()
    assert (await sandbox.run(["pwd"], cwd="sub")).stdout.strip() == str(sandbox.workspace.root / "sub")


async def test_writes_stay_in_the_workspace(sandbox: Sandbox, host_dir: Path, tmp_path: Path) -> None:
    assert (await sandbox.run(["sh", "-c", "echo kept > inside.txt"])).ok
    assert (sandbox.workspace.root / "inside.txt").read_text() == "kept\n"
    if sandbox.backend != "bwrap":
        pytest.skip(f"{sandbox.backend} does not confine writes (it shares the host's mounts)")
    targets = [host_dir / "outside.txt", tmp_path / "outside.txt", Path("/root") / f"{uuid.uuid4().hex}.txt"]
    for target in targets:
        result = await sandbox.run(["sh", "-c", 'echo escaped > "$0"', str(target)])
        assert not target.exists(), result
    assert not (await sandbox.run(["sh", "-c", f"echo x > {host_dir}/outside.txt"])).ok  # read-only root


async def test_fork_bomb_is_contained(sandbox: Sandbox, marker: str) -> None:
    bomb = (
        "import os, signal\nn = 0\ntry:\n    for _ in range(400):\n        if os.fork() == 0:\n"
        "            signal.pause()  # each child stays alive until the sandbox kills it\n"
        "            os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nprint(n)\n"
    )
    started = time.monotonic()
    result = await sandbox.run([PY, "-c", bomb, marker], limits=Limits(max_processes=16, wall_seconds=10))
    assert time.monotonic() - started < 10
    assert not alive_with(marker), "a process of the fork bomb survived"
    if cgroup_base("pids") is not None or os.geteuid() != 0:
        assert int(result.stdout) < 16, result


async def test_shell_fork_bomb_is_stopped(sandbox: Sandbox, marker: str) -> None:
    started = time.monotonic()
    result = await sandbox.run(
        ["sh", "-c", "f() { f | f & }; f; sleep 30", marker], limits=Limits(max_processes=32, wall_seconds=0.6)
    )
    assert time.monotonic() - started < 5
    assert not result.ok  # timed out, or the main shell itself could not fork any more
    assert result.timed_out or "fork" in result.stderr, result
    assert not alive_with(marker)


async def test_memory_hog_fails_instead_of_taking_the_machine(sandbox: Sandbox) -> None:
    hog = "x = []\nwhile True:\n    x.append(bytearray(64 * 1024 * 1024))\n"
    result = await sandbox.run([PY, "-c", hog], limits=Limits(memory_mb=256, wall_seconds=20))
    assert not result.ok
    assert "MemoryError" in result.stderr or result.killed_by, result


async def test_no_network_by_default(sandbox: Sandbox) -> None:
    if sandbox.backend not in ISOLATED:
        pytest.skip("the none backend has no network isolation (that is what its warning says)")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        port = listener.getsockname()[1]
        probe = (
            "import socket, sys\nfor host, port in [('127.0.0.1', int(sys.argv[1])), ('1.1.1.1', 53)]:\n"
            "    try:\n        socket.create_connection((host, port), timeout=2).close()\n"
            "        print('connected', host)\n    except OSError as exc:\n        print('blocked', host, exc)\n"
        )
        result = await sandbox.run([PY, "-c", probe, str(port)])
        assert result.stdout.count("blocked") == 2, result
        with pytest.raises(BlockingIOError):
            listener.accept()  # the host-side listener never saw a connection
        allowed = await sandbox.run([PY, "-c", probe.replace(", ('1.1.1.1', 53)", ""), str(port)], network=True)
        assert "connected 127.0.0.1" in allowed.stdout, allowed
        listener.accept()[0].close()


async def test_environment_is_scrubbed(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leak-1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-leak-2")
    monkeypatch.setenv("AUTOGPT_SECRET", "sk-leak-3")
    passed = {"PATH": "/opt/venv/bin", "FOO": "bar", "OPENAI_API_KEY": "sk-leak-4"}
    result = await sandbox.run(["env"], env=passed)
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert "sk-leak" not in result.stdout
    assert env["FOO"] == "bar"
    assert env["PATH"].split(":")[0] == "/opt/venv/bin"
    assert "/usr/bin" in env["PATH"].split(":")
    root = sandbox.workspace.root
    assert (env["HOME"], env["LANG"], env["TMPDIR"]) == (str(root / ".home"), "C.UTF-8", str(root / ".tmp"))
    assert set(env) - {"PWD", "SHLVL", "OLDPWD", "_"} == {"PATH", "HOME", "LANG", "TMPDIR", "FOO"}


async def test_timeout_kills_grandchildren(sandbox: Sandbox, marker: str) -> None:
    one, two = f"300.{uuid.uuid4().int % 10**8}", f"301.{uuid.uuid4().int % 10**8}"
    script = f"sleep {one} & sh -c 'echo $$ > gc.pid; exec sleep {two}' & wait"
    started = time.monotonic()
    result = await sandbox.run(["sh", "-c", script, marker], limits=Limits(wall_seconds=0.5))
    assert time.monotonic() - started < 3
    assert (result.timed_out, result.killed_by, result.ok) == (True, "timeout", False)
    assert not alive_with(f"sleep\0{one}")
    assert not alive_with(f"sleep\0{two}")
    grandchild = int((sandbox.workspace.root / "gc.pid").read_text())
    if sandbox.backend != "bwrap":  # in bwrap that is a pid of its own pid namespace
        assert not pid_alive(grandchild)


async def test_output_is_bounded(sandbox: Sandbox) -> None:
    flood = "import sys\nsys.stdout.write('x' * 10_000_000)\nsys.stderr.write('done')\n"
    started = time.monotonic()
    result = await sandbox.run([PY, "-c", flood], limits=Limits(output_bytes=64 * 1024))
    assert time.monotonic() - started < 10
    assert result.ok
    assert len(result.stdout) == 64 * 1024
    assert result.stdout_truncated
    assert (result.stderr, result.stderr_truncated) == ("done", False)


async def test_http_server_start_request_stop(sandbox: Sandbox) -> None:
    sandbox.workspace.write_text("hello.txt", "hi")
    port = free_port()
    argv = [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    proc = await sandbox.start(argv, limits=Limits(wall_seconds=20))
    try:
        deadline, response = time.monotonic() + 10, None
        while response is None:
            try:
                response = await sandbox.request(proc, "GET", port, "/")
            except SandboxError:
                assert time.monotonic() < deadline, proc.output_tail()
                await asyncio.sleep(0.05)
        assert response.status == 200
        assert b"hello.txt" in response.body
        assert response.headers["content-type"].startswith("text/html")
        assert (await sandbox.request(proc, "GET", port, "/nope")).status == 404
        if sandbox.backend in ISOLATED:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        await proc.stop(grace=2)
    assert proc.killed_by == "signal 15"  # it took the SIGTERM, no SIGKILL needed
    assert "GET /nope" in proc.output_tail()
    assert not alive_with(f"http.server\0{port}")
    with pytest.raises(SandboxError):
        await sandbox.request(proc, "GET", port, "/", timeout=1)


def test_auto_picks_the_strongest_backend(tmp_path: Path) -> None:
    chosen = Sandbox(Workspace(tmp_path / "ws")).backend
    assert chosen == available_backends()[0]
    assert chosen == "bwrap" or "bwrap" not in available_backends()


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)) as server:
        assert server.getsockname()[1] == port
