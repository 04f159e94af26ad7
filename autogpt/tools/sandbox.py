"""Run generated, untrusted programs confined to their workspace. Findings behind the design (root, Debian 12, 6.x):

* Network: ``network=False`` gives the program its own network namespace with only a loopback (bwrap brings ``lo`` up;
  for ``unshare -n`` an ``sh`` step does). Its servers are then unreachable from the host's 127.0.0.1, so
  :meth:`Sandbox.request` connects from inside: a throw-away thread ``setns()`` into ``/proc/<pid>/ns/net``, makes the
  socket and switches back; the socket stays in the sandbox's namespace. The program reaches nothing, host loopback
  included.
* Privileges: bwrap started by root keeps every capability unless told, hence ``--cap-drop ALL``; the unshare backend
  drops them with ``setpriv``. A capability-less uid 0 cannot raise its rlimits, mount, or write through a read-only
  mount, but owner bits still let it *read* root-owned files: reads are not confined, writes (bwrap) are.
* Process count: ``RLIMIT_NPROC`` is not enforced for uid 0 (50 forks passed a limit of 5), and bwrap's ``--uid 65534``
  maps back to real uid 0 (same result). ``setpriv --reuid`` enforces it, but per uid machine-wide, and nobody cannot
  write a root-owned workspace. So each run gets its own pids cgroup (``pids.max``; threads count too; the v1 hierarchy
  is writable here), which also names every process of the run, so the tree kill finds daemons that left the process
  group. Inside bwrap ``/sys`` is read-only; under ``unshare`` root could leave its cgroup. ``RLIMIT_NPROC`` is still
  set, for when we are not root.
* Tree kill: a new session per run; stop and timeout SIGTERM every process of the run (cgroup, process group,
  descendants), then SIGKILL after ``grace``. bwrap adds ``--unshare-pid --die-with-parent``: its pid 1 dying takes the
  whole namespace down. Whatever a program leaves running when its main process exits is killed too.
* Filesystem (bwrap only): ``/`` read-only (``/tmp`` included), minimal ``/dev``, fresh ``/proc``, the workspace
  read-write at its own path. ``unshare`` confines network, capabilities and limits, not writes; ``none`` only
  limits (and warns).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from autogpt.errors import AgentError, ConfigError, InvalidInputError, WorkspaceError
from autogpt.logs import get_logger
from autogpt.tools.workspace import Workspace

log = get_logger(__name__)
Backend = Literal["bwrap", "unshare", "none"]
SAFE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_SECRET_ENV = re.compile(r"OPENAI_API_KEY|ANTHROPIC_API_KEY|AUTOGPT_.*")
_CLONE_NEWNET, _TIMEOUT_GRACE, _MAX_BODY = 0x40000000, 1.0, 8 * 1024 * 1024
_serial = itertools.count()
_warned_none = False


class SandboxError(AgentError):
    """A request to a sandboxed server failed (not up yet, refused, timed out, bad HTTP)."""


@dataclass(frozen=True, slots=True)
class Limits:
    wall_seconds: float = 60  # applies to start() too: a forgotten server does not live forever
    cpu_seconds: int = 60
    memory_mb: int = 1024  # RLIMIT_AS (address space): V8 or Go reserve a lot and need more
    max_processes: int = 64  # tasks, so threads count too
    file_size_mb: int = 50
    output_bytes: int = 64 * 1024  # kept per stream; the rest is read and dropped


@dataclass(frozen=True, slots=True)
class RunResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    killed_by: str | None  # None, "timeout" or "signal N"
    duration: float
    stdout_truncated: bool
    stderr_truncated: bool
    backend: Backend = "none"

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    truncated: bool = False  # the body is cut at 8 MiB


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@cache
def _tool(name: str) -> str | None:
    return shutil.which(name, path=f"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:{os.defpath}")


def _prefix(backend: Backend, network: bool) -> list[str]:
    """The isolating part of the command line; ``sh`` brings up the loopback of ``unshare -n``."""
    if backend == "bwrap":
        flags = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        flags += ["--unshare-cgroup-try", "--cap-drop", "ALL", *([] if network else ["--unshare-net"])]
        return [_tool("bwrap") or "bwrap", *flags, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if backend == "none":
        return []
    drop = [_tool("setpriv") or "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
    drop += ["--pdeathsig=SIGKILL", "--"]
    lo_up = f'{_tool("ip") or "ip"} link set lo up 2>/dev/null; exec "$@"'
    user = ["-r"] if os.geteuid() else []  # not root: a user namespace makes -n possible
    return drop if network else [_tool("unshare") or "unshare", *user, "-n", "/bin/sh", "-c", lo_up, "sh", *drop]


@cache
def backend_available(backend: Backend) -> bool:
    """Probed once per process, with the flags a real run uses."""
    tools = {"bwrap": ("bwrap",), "unshare": ("unshare", "setpriv", "ip"), "none": ()}[backend]
    if backend == "none" or not all(map(_tool, tools)):
        return backend == "none"
    try:
        return subprocess.run([*_prefix(backend, False), "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def available_backends() -> list[Backend]:
    return [b for b in ("bwrap", "unshare", "none") if backend_available(b)]


@cache
def _cgroup_base() -> Path | None:
    """Where we may create pids cgroups: our place in the v1 ``pids`` hierarchy, or in a delegated v2 one."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, rel = line.split(":", 2)
            if controllers and "pids" not in controllers.split(","):
                continue
            base = Path(f"/sys/fs/cgroup{'/pids' if controllers else ''}{rel}")
            probe = base / f"autogpt-sbx-probe-{os.getpid()}"
            with contextlib.suppress(OSError):
                probe.mkdir()
                usable = (probe / "pids.max").exists()
                probe.rmdir()
                if usable:
                    return base
    return None


def _new_cgroup(max_tasks: int) -> Path | None:
    if (base := _cgroup_base()) is None:
        return None
    path = base / f"autogpt-sbx-{os.getpid()}-{next(_serial)}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_tasks))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgrp) of every live, non-zombie process."""
    table: dict[int, tuple[int, int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                state, ppid, pgrp = fh.read().rpartition(b")")[2].split()[:3]
        except (OSError, ValueError):
            continue
        if state not in (b"Z", b"X"):
            table[int(name)] = (int(ppid), int(pgrp))
    return table


class _Capture:
    """At most ``limit`` bytes: the head (a run's evidence) or the tail (a server's latest log)."""

    def __init__(self, limit: int, *, tail: bool = False) -> None:
        self.limit, self.tail, self.buf, self.truncated = limit, tail, bytearray(), False

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.buf)
        self.truncated |= len(chunk) > room
        self.buf += chunk[-self.limit :] if self.tail else chunk[: max(0, room)]
        del self.buf[: max(0, len(self.buf) - self.limit)]

    def text(self) -> str:
        return self.buf.decode("utf-8", "replace")


class SandboxProcess:
    """A running sandboxed program. Its watchdog enforces ``wall_seconds`` even if nobody waits."""

    def __init__(
        self, proc: asyncio.subprocess.Process, argv: Sequence[str], limits: Limits, cgroup: Path | None, *,
        backend: Backend, net_isolated: bool, stdin: bytes | None,
    ) -> None:  # fmt: skip
        self._proc, self.pid, self.argv, self._cgroup = proc, proc.pid, tuple(argv), cgroup
        self.backend, self._net_isolated, self.timed_out = backend, net_isolated, False
        self._t0, self.duration = time.monotonic(), 0.0
        self._out, self._err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
        self._tail = _Capture(2 * limits.output_bytes, tail=True)
        streams = [(proc.stdout, self._out), (proc.stderr, self._err)]
        self._tasks = [asyncio.create_task(self._pump(s, c)) for s, c in streams if s is not None]
        if stdin is not None:
            self._tasks.append(asyncio.create_task(self._feed(stdin)))
        self._watchdog = asyncio.create_task(self._watch(limits.wall_seconds))

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @property
    def killed_by(self) -> str | None:
        rc = self._proc.returncode or 0
        if rc > 128 and self.backend == "bwrap":  # bwrap reports a signalled command as 128+N
            rc = 128 - rc
        return "timeout" if self.timed_out else f"signal {-rc}" if rc < 0 else None

    def output_tail(self) -> str:
        """The latest stdout and stderr, interleaved as they arrived, at most twice ``output_bytes``."""
        return self._tail.text()

    async def wait(self) -> int:
        await asyncio.shield(self._watchdog)
        return self._proc.returncode if self._proc.returncode is not None else -1

    async def stop(self, grace: float = 2.0) -> int:
        """SIGTERM every process of the run, SIGKILL what is left after ``grace`` seconds; the exit code."""
        if self._proc.returncode is None:
            await self._terminate(grace)
        return await self.wait()

    def result(self) -> RunResult:
        rc, out, err = self._proc.returncode, self._out, self._err
        return RunResult(
            self.argv, -1 if rc is None else rc, out.text(), err.text(), self.timed_out, self.killed_by,
            self.duration, out.truncated, err.truncated, self.backend,
        )  # fmt: skip

    async def _pump(self, stream: asyncio.StreamReader, capture: _Capture) -> None:
        while chunk := await stream.read(65536):
            capture.feed(chunk)
            self._tail.feed(chunk)

    async def _feed(self, data: bytes) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(OSError):  # the program may exit without reading it all
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        self._proc.stdin.close()

    async def _main_exit(self) -> None:
        """Until the main process exits (3.11's Process.wait() also waits for pipes leftovers hold)."""
        try:
            fd = os.pidfd_open(self.pid)
        except ProcessLookupError:  # reaped already
            return
        exited, loop = asyncio.Event(), asyncio.get_running_loop()
        loop.add_reader(fd, exited.set)
        try:
            await exited.wait()
        finally:
            loop.remove_reader(fd)
            os.close(fd)

    async def _watch(self, wall: float) -> None:
        try:
            await asyncio.wait_for(self._main_exit(), wall)
        except TimeoutError:
            self.timed_out = True
            await self._terminate(_TIMEOUT_GRACE)
        self.duration = time.monotonic() - self._t0
        await self._terminate(0)  # nothing the program started may outlive it
        reaped = asyncio.ensure_future(self._proc.wait())
        _, pending = await asyncio.wait([*self._tasks, reaped], timeout=1.0)  # an escaped daemon may hold a pipe
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for _ in range(50 if self._cgroup else 0):  # the cgroup can go once its last zombie is reaped
            with contextlib.suppress(OSError):
                self._cgroup.rmdir()  # type: ignore[union-attr]
                break
            await asyncio.sleep(0.01)

    def _signal(self, sig: int, *, spare_bwrap: bool = False) -> bool:
        """Send ``sig`` to every process of this run; False when none is left."""
        table = _proc_table()
        members = {pid for pid, (_, pgrp) in table.items() if pgrp == self.pid}
        if self._proc.returncode is None and self.pid in table:  # not reaped yet, so the pid is still ours
            members.add(self.pid)
            while fresh := {pid for pid, (ppid, _) in table.items() if ppid in members} - members:
                members |= fresh
        if self._cgroup is not None:
            with contextlib.suppress(OSError, ValueError):
                members.update(map(int, (self._cgroup / "cgroup.procs").read_text().split()))
        members = {pid for pid in members if pid in table} - {os.getpid()}
        for pid in members:  # spare bwrap and its pid 1: SIGTERM to them SIGKILLs the sandbox at once
            if not (spare_bwrap and self.pid in (pid, table[pid][0])):
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
        if sig == signal.SIGKILL and any(table[pid][1] == self.pid for pid in members):
            with contextlib.suppress(OSError):
                os.killpg(self.pid, sig)  # atomic for the whole group, which beats a fork bomb
        return bool(members)

    async def _terminate(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        if grace > 0 and self._signal(signal.SIGTERM, spare_bwrap=self.backend == "bwrap"):
            while time.monotonic() < deadline and self._signal(0):  # noqa: ASYNC110 - polling /proc
                await asyncio.sleep(0.02)
        for _ in range(200):
            if not self._signal(signal.SIGKILL):
                return
            await asyncio.sleep(0.01)
        log.warning("sandbox.survivors", pid=self.pid)

    def netns_pid(self) -> int | None:
        """A process inside this run's network namespace, or None when it shares the host's."""
        if not self._net_isolated:
            return None
        table, own = _proc_table(), os.stat("/proc/self/ns/net").st_ino
        for pid in [self.pid, *(p for p, (ppid, _) in table.items() if ppid == self.pid)]:
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{pid}/ns/net").st_ino != own:
                    return pid
        raise SandboxError(f"the network namespace of sandboxed pid {self.pid} is not ready yet, or gone")


def _connect(ns_pid: int | None, port: int, timeout: float) -> socket.socket:
    """Connect to 127.0.0.1:port as ``ns_pid``'s network namespace sees it (setns needs root)."""
    if ns_pid is None:
        return socket.create_connection(("127.0.0.1", port), timeout)
    setns = ctypes.CDLL(None, use_errno=True).setns
    fds = [os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)]
    try:
        fds.append(os.open(f"/proc/{ns_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC))
        if setns(fds[1], _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the sandbox network namespace")
        try:
            return socket.create_connection(("127.0.0.1", port), timeout)
        finally:
            if setns(fds[0], _CLONE_NEWNET) != 0:  # the thread is thrown away right after anyway
                raise OSError(ctypes.get_errno(), "setns back to the host network namespace")
    finally:
        for fd in fds:
            os.close(fd)


class Sandbox:
    """Runs programs in ``workspace`` with the strongest backend this machine offers."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        backend: Literal["auto", "bwrap", "unshare", "none"] = "auto",
        readable: Sequence[Path] = (),
    ) -> None:
        global _warned_none
        self.workspace = workspace.ensure()
        self.readable = tuple(Path(p).resolve() for p in readable)  # read-only extras, e.g. a toolchain
        if backend == "auto":
            self.backend: Backend = available_backends()[0]
        elif backend_available(backend):
            self.backend = backend
        else:
            raise ConfigError(f"sandbox backend {backend!r} is not available here", hint="apt-get install bubblewrap")
        if self.backend == "none" and not _warned_none:
            _warned_none = True
            msg = "NO SANDBOX: generated code runs WITH network access and can write anywhere; install bubblewrap"
            log.warning("sandbox.no_isolation", message=msg)

    async def run(
        self, argv: Sequence[str], *, cwd: str = ".", limits: Limits | None = None,
        env: Mapping[str, str] | None = None, network: bool = False, stdin: bytes | None = None,
    ) -> RunResult:  # fmt: skip
        """Run to completion. A failing program is a result, not an exception."""
        proc = await self.start(argv, cwd=cwd, limits=limits, env=env, network=network, stdin=stdin)
        try:
            await proc.wait()
        finally:
            if proc.returncode is None:  # cancelled: take the program down too
                await asyncio.shield(proc.stop(grace=0.2))
        return proc.result()

    async def start(
        self, argv: Sequence[str], *, cwd: str = ".", limits: Limits | None = None,
        env: Mapping[str, str] | None = None, network: bool = False, stdin: bytes | None = None,
    ) -> SandboxProcess:  # fmt: skip
        """Start a long-running program (a server); end it with :meth:`SandboxProcess.stop`."""
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) and a for a in argv):
            raise InvalidInputError(f"argv must be a non-empty list of non-empty strings, got {argv!r}")
        limits = limits or Limits()
        workdir = self.workspace.resolve(cwd)
        if not workdir.is_dir():
            raise WorkspaceError(f"{cwd!r} is not a directory in the workspace")
        cgroup = _new_cgroup(limits.max_processes + 2 * (self.backend == "bwrap"))  # bwrap and its pid 1
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command(argv, workdir, limits, network, cgroup), cwd=workdir, env=self._env(env),
                stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
        except BaseException:
            if cgroup is not None:
                cgroup.rmdir()
            raise
        log.debug("sandbox.start", backend=self.backend, argv=list(argv), pid=proc.pid, cwd=str(workdir))
        isolated = not network and self.backend != "none"
        return SandboxProcess(proc, argv, limits, cgroup, backend=self.backend, net_isolated=isolated, stdin=stdin)

    async def request(
        self, proc: SandboxProcess, method: str, port: int, path: str, body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float = 5,
    ) -> HttpResponse:  # fmt: skip
        """One HTTP/1.1 request to the sandboxed server, sent from inside its network namespace."""
        ns_pid = proc.netns_pid()

        def call() -> HttpResponse:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.sock = _connect(ns_pid, port, timeout)
            try:
                conn.request(method, path, body=body, headers=dict(headers or {}))
                resp = conn.getresponse()
                data = resp.read(_MAX_BODY + 1)
                names = {name.lower(): value for name, value in resp.getheaders()}
                return HttpResponse(resp.status, names, data[:_MAX_BODY], len(data) > _MAX_BODY)
            finally:
                conn.close()

        pool = ThreadPoolExecutor(1, thread_name_prefix="sandbox-netns")  # fresh: setns never leaks into a pool
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, call), timeout)
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
            raise SandboxError(f"{method} {path} on port {port} of sandboxed pid {proc.pid}: {exc!r}") from exc
        finally:
            pool.shutdown(wait=False)

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """Nothing from our own environment: API keys must never reach generated code."""
        home, tmp = self.workspace.root / ".home", self.workspace.root / ".tmp"
        for folder in (home, tmp):
            folder.mkdir(exist_ok=True)
        if dropped := [name for name in extra or {} if _SECRET_ENV.fullmatch(name)]:
            log.warning("sandbox.secret_env_dropped", names=dropped)
        env = {"HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp)}
        env |= {name: value for name, value in (extra or {}).items() if name not in dropped}
        env["PATH"] = ":".join(p for p in dict.fromkeys([*env.get("PATH", "").split(":"), *SAFE_PATH]) if p)
        return env

    def _command(self, argv: Sequence[str], cwd: Path, limits: Limits, network: bool, cgroup: Path | None) -> list[str]:
        root, mib = str(self.workspace.root), 1024 * 1024
        cmd = list(argv)
        if self.backend == "bwrap":
            # /tmp stays read-only like the rest of /, not a fresh tmpfs: the interpreter, its
            # packages or a toolchain may live under /tmp (a checkout there, a test's cache), and
            # TMPDIR points into the workspace anyway.
            shown = [arg for path in self.readable for arg in ("--ro-bind", str(path), str(path))]
            cmd = [*shown, "--bind", root, root, "--chdir", str(cwd), "--", *cmd]
        cmd = [*_prefix(self.backend, network), *cmd]
        if prlimit := _tool("prlimit"):  # util-linux, like unshare and setpriv; CPU: SIGXCPU first, SIGKILL 1 s later
            cpu, fsize = limits.cpu_seconds, limits.file_size_mb * mib
            cmd = [
                prlimit, f"--as={limits.memory_mb * mib}", f"--cpu={cpu}:{cpu + 1}", f"--fsize={fsize}",
                f"--nproc={limits.max_processes}", "--core=0", "--", *cmd,
            ]  # fmt: skip
        # Join the cgroup before anything can fork; exec, so no extra process stays around.
        join = 'echo $$ > "$0" || exit 125; exec "$@"' if cgroup else 'exec "$@"'
        return ["/bin/sh", "-c", join, str(cgroup / "cgroup.procs") if cgroup else "sh", *cmd]
