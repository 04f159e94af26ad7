"""Run generated, untrusted programs confined to their workspace.

Why each piece is there (measured on Debian 12, kernel 6.x, running as root):

* **Network.** ``network=False`` puts the program in a fresh network namespace: no route
  anywhere, only its own loopback (bwrap brings ``lo`` up; for ``unshare -n`` a tiny
  ``sh`` step does). A server started that way is unreachable from the host's
  127.0.0.1, so :meth:`Sandbox.request` and :meth:`Sandbox.open_connection` connect
  *from inside* its namespace: a short-lived thread ``setns()`` into
  ``/proc/<pid>/ns/net``, creates the socket, switches back; the socket stays in the
  sandbox's namespace. Nothing from inside can reach the host's loopback services.
* **Privileges.** bwrap started by root keeps every capability unless told otherwise,
  so it gets ``--cap-drop ALL``; the unshare backend drops them with ``setpriv``
  (bounding set cleared, no new privileges). A capability-less uid 0 cannot raise its
  rlimits, mount, enter namespaces or write through a read-only mount, but owner bits
  still let it *read* root-owned files (``/root``, ``/etc/shadow``): reads are not
  confined, only writes (bwrap) and the network.
* **Process count.** ``RLIMIT_NPROC`` is not enforced for uid 0 (the kernel exempts the
  root user and ``CAP_SYS_RESOURCE``): 50 forks passed a limit of 5. bwrap's
  ``--unshare-user --uid 65534`` does not help, the sandbox uid maps back to real uid 0
  (also 50 of 5). ``setpriv --reuid 65534`` does enforce it, but the count is per uid
  across the whole machine and a root-owned workspace is not writable for nobody. What
  works here is a **pids cgroup** per run (``pids.max``; v1 hierarchy at
  /sys/fs/cgroup/pids is writable by root): it counts every task (threads too) of that
  run only, and it lists exactly which processes belong to the run, so the tree kill
  finds even daemons that left the process group. Inside bwrap ``/sys`` is read-only,
  so the program cannot leave its cgroup; under the unshare backend it could (root may
  write cgroup.procs). ``RLIMIT_NPROC`` is still set for when we do not run as root.
* **Tree kill.** Children start in a new session; stop and timeout send SIGTERM to every
  process of the run (cgroup members, the process group, descendants), wait ``grace``,
  then SIGKILL until none is left. bwrap adds ``--unshare-pid --die-with-parent``: when
  its pid 1 dies the kernel kills the whole namespace. Whatever the program left running
  when its main process exits is killed too.
* **Filesystem.** bwrap: ``/`` read-only, a minimal ``/dev``, fresh ``/proc`` and
  ``/tmp``, the workspace bound read-write at its own path. ``unshare`` and ``none``
  do not confine writes at all.

Backends: ``bwrap`` (all of the above), ``unshare`` (network, capabilities, limits;
filesystem open), ``none`` (limits only; one loud warning per process).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar

from autogpt.errors import AgentError, ConfigError, InvalidInputError, WorkspaceError
from autogpt.logs import get_logger
from autogpt.tools.workspace import Workspace

log = get_logger(__name__)
_T = TypeVar("_T")
Backend = Literal["bwrap", "unshare", "none"]
SAFE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SECRET_ENV = re.compile(r"OPENAI_API_KEY|ANTHROPIC_API_KEY|AUTOGPT_.*")
_CLONE_NEWNET = 0x40000000
_TIMEOUT_GRACE = 1.0
_MAX_BODY = 8 * 1024 * 1024
_serial = itertools.count()
_warned_none = False


class SandboxError(AgentError):
    """The sandbox could not do what was asked (request to a sandboxed server failed)."""


@dataclass(frozen=True, slots=True)
class Limits:
    wall_seconds: float = 60
    cpu_seconds: int = 60
    memory_mb: int = 1024  # RLIMIT_AS: address space, so runtimes that reserve a lot (V8, Go) need more
    max_processes: int = 64  # tasks, threads included
    file_size_mb: int = 50
    output_bytes: int = 64 * 1024  # kept per stream; the rest is read and dropped

    def __post_init__(self) -> None:
        if min(self.wall_seconds, self.cpu_seconds, self.memory_mb, self.max_processes, self.output_bytes) <= 0:
            raise InvalidInputError(f"sandbox limits must be positive: {self}")


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
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    truncated: bool = False  # body cut at 8 MiB

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@cache
def _tool(name: str) -> str | None:
    return shutil.which(name, path=f"{_TOOL_PATH}:{os.environ.get('PATH', '')}")


def _bwrap_prefix(network: bool) -> list[str]:
    flags = ["--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    flags += ["--unshare-cgroup-try", "--cap-drop", "ALL", *([] if network else ["--unshare-net"])]
    return [_tool("bwrap") or "bwrap", *flags, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]


def _unshare_prefix(network: bool) -> list[str]:
    drop = [_tool("setpriv") or "setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
    drop += ["--pdeathsig=SIGKILL", "--"]
    if network:
        return drop
    lo_up = f'{_tool("ip") or "ip"} link set lo up 2>/dev/null; exec "$@"'
    user = ["-r"] if os.geteuid() else []  # unprivileged: a user namespace makes -n possible
    return [_tool("unshare") or "unshare", *user, "-n", "--", "/bin/sh", "-c", lo_up, "sh", *drop]


@cache
def backend_available(backend: Backend) -> bool:
    """Probe once per process with the same flags a real run uses."""
    if backend == "none":
        return True
    if backend == "bwrap":
        probe = [*_bwrap_prefix(False), "true"] if _tool("bwrap") else []
    else:
        probe = [*_unshare_prefix(False), "true"] if _tool("unshare") and _tool("setpriv") and _tool("ip") else []
    try:
        return bool(probe) and subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def available_backends() -> list[Backend]:
    return [b for b in ("bwrap", "unshare", "none") if backend_available(b)]


@cache
def _cgroup_base() -> Path | None:
    """Where this process may create pids cgroups (v1 ``pids`` hierarchy or delegated v2), if anywhere."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text().splitlines()
        own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
    except (OSError, ValueError):
        return None
    v1 = next((v for k, v in own.items() if "pids" in k.split(",")), None)
    candidates: list[tuple[bool, Path]] = []
    for line in mountinfo:
        pre, _, post = line.partition(" - ")
        fields, (fstype, _src, opts) = pre.split(), post.split()[:3]
        rel = v1 if fstype == "cgroup" and "pids" in opts.split(",") else own.get("") if fstype == "cgroup2" else None
        if rel is not None and rel.startswith(fields[3]):
            candidates.append((fstype == "cgroup2", Path(fields[4]) / rel[len(fields[3]) :].lstrip("/")))
    for _, base in sorted(candidates):
        probe = base / f"autogpt-sbx-probe-{os.getpid()}"
        try:
            probe.mkdir()
            usable = (probe / "pids.max").exists()
            probe.rmdir()
        except OSError:
            continue
        if usable:
            for stale in base.glob("autogpt-sbx-*"):  # left by a crashed process; rmdir only frees empty ones
                owner = stale.name.split("-")[2]
                if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                    with contextlib.suppress(OSError):
                        stale.rmdir()
            return base
    return None


def _new_cgroup(max_tasks: int) -> Path | None:
    base = _cgroup_base()
    if base is None:
        return None
    path = base / f"autogpt-sbx-{os.getpid()}-{next(_serial)}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_tasks))
    except OSError as exc:
        log.warning("sandbox.cgroup_failed", path=str(path), error=str(exc))
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return path


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgrp) of every live, non-zombie process."""
    table: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    state, ppid, pgrp = fh.read().rpartition(b")")[2].split()[:3]
            except (OSError, ValueError):
                continue
            if state not in (b"Z", b"X"):
                table[int(name)] = (int(ppid), int(pgrp))
    return table


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


class _Capture:
    """At most ``limit`` bytes: the head (evidence of a run) or the tail (a server's latest log)."""

    def __init__(self, limit: int, *, tail: bool = False) -> None:
        self.limit, self.tail, self.buf, self.truncated = limit, tail, bytearray(), False

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.buf)
        if len(chunk) > room:
            self.truncated = True
        if self.tail:
            self.buf += chunk[-self.limit :]
            del self.buf[: max(0, len(self.buf) - self.limit)]
        else:
            self.buf += chunk[: max(0, room)]

    def text(self) -> str:
        return self.buf.decode("utf-8", "replace")


class SandboxProcess:
    """A running sandboxed program. Its watchdog enforces ``wall_seconds`` even if nobody waits."""

    def __init__(
        self, proc: asyncio.subprocess.Process, argv: Sequence[str], limits: Limits, cgroup: Path | None, *,
        backend: Backend, net_isolated: bool, stdin: bytes | None,
    ) -> None:  # fmt: skip
        self._proc, self.pid, self.argv, self._cgroup = proc, proc.pid, tuple(argv), cgroup
        self.backend, self._net_isolated = backend, net_isolated
        self.timed_out = False
        self.duration = 0.0
        self._t0 = time.monotonic()
        self._out, self._err = _Capture(limits.output_bytes), _Capture(limits.output_bytes)
        self._tail = _Capture(2 * limits.output_bytes, tail=True)
        assert proc.stdout is not None and proc.stderr is not None
        self._pumps = [
            asyncio.create_task(self._pump(s, c)) for s, c in ((proc.stdout, self._out), (proc.stderr, self._err))
        ]
        self._feeder = asyncio.create_task(self._feed(stdin)) if stdin is not None else None
        self._watchdog = asyncio.create_task(self._watch(limits.wall_seconds))

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @property
    def killed_by(self) -> str | None:
        rc = self._proc.returncode
        if self.timed_out:
            return "timeout"
        if rc is not None and rc < 0:
            return f"signal {-rc}"
        if rc is not None and self.backend == "bwrap" and 128 < rc < 160:  # bwrap reports 128+N
            return f"signal {rc - 128}"
        return None

    def output_tail(self) -> str:
        """The latest stdout and stderr, interleaved as they arrived, bounded to twice ``output_bytes``."""
        return self._tail.text()

    async def wait(self) -> int:
        await asyncio.shield(self._watchdog)
        assert self._proc.returncode is not None
        return self._proc.returncode

    async def stop(self, grace: float = 2.0) -> int:
        """SIGTERM the whole tree, SIGKILL what is left after ``grace`` seconds; the exit code."""
        if self._proc.returncode is None:
            await self._terminate(grace)
        return await self.wait()

    async def __aenter__(self) -> SandboxProcess:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.shield(self.stop())

    def result(self) -> RunResult:
        rc = self._proc.returncode
        return RunResult(
            self.argv, -1 if rc is None else rc, self._out.text(), self._err.text(), self.timed_out,
            self.killed_by, self.duration, self._out.truncated, self._err.truncated, self.backend,
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

    async def _watch(self, wall: float) -> None:
        try:
            await asyncio.wait_for(self._proc.wait(), wall)
        except TimeoutError:
            self.timed_out = True
            await self._terminate(_TIMEOUT_GRACE)
            await self._proc.wait()
        self.duration = time.monotonic() - self._t0
        await self._terminate(0)  # nothing the program started may outlive it
        _, pending = await asyncio.wait(self._pumps, timeout=1.0)  # an escaped daemon may hold a pipe
        for task in [*pending, *([self._feeder] if self._feeder else [])]:
            task.cancel()
        await asyncio.gather(*pending, *([self._feeder] if self._feeder else []), return_exceptions=True)
        for _ in range(50):
            if self._cgroup is None or not self._cgroup.exists():
                break
            try:
                self._cgroup.rmdir()
            except OSError:
                await asyncio.sleep(0.01)

    def _signal(self, sig: int, *, spare_bwrap: bool = False) -> bool:
        """Send ``sig`` to every process of this run; False when none is left."""
        table = _proc_table()
        members = {pid for pid, (_, pgrp) in table.items() if pgrp == self.pid}
        if self._proc.returncode is None and self.pid in table:  # not reaped: its pid is still ours
            members.add(self.pid)
            kids: dict[int, list[int]] = {}
            for pid, (ppid, _) in table.items():
                kids.setdefault(ppid, []).append(pid)
            stack = list(members)
            while stack:
                fresh = [k for k in kids.get(stack.pop(), []) if k not in members]
                members.update(fresh)
                stack += fresh
        if self._cgroup is not None:
            with contextlib.suppress(OSError, ValueError):
                members.update(int(p) for p in (self._cgroup / "cgroup.procs").read_text().split())
        members = {pid for pid in members if pid in table} - {os.getpid()}
        bwrap = _tool("bwrap") if spare_bwrap else None
        for pid in members:
            if not (bwrap and _exe(pid) == bwrap):  # SIGTERM to bwrap would SIGKILL its sandbox at once
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
        if sig == signal.SIGKILL and any(table[p][1] == self.pid for p in members):
            with contextlib.suppress(OSError):
                os.killpg(self.pid, sig)  # atomic for the group, which beats a fork bomb
        return bool(members)

    async def _terminate(self, grace: float) -> None:
        if grace > 0 and self._signal(signal.SIGTERM, spare_bwrap=self.backend == "bwrap"):
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and self._signal(0):
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
        for pid in [self.pid, *(p for p, (pp, _) in table.items() if pp == self.pid)]:
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{pid}/ns/net").st_ino != own:
                    return pid
        raise SandboxError(f"the network namespace of sandboxed pid {self.pid} is not ready or gone")


def _connect(ns_pid: int | None, port: int, timeout: float) -> socket.socket:
    """Connect to 127.0.0.1:port as seen from ``ns_pid``'s network namespace (root: setns works)."""
    if ns_pid is None:
        return socket.create_connection(("127.0.0.1", port), timeout)
    setns = ctypes.CDLL(None, use_errno=True).setns
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(f"/proc/{ns_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            if setns(target, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into the sandbox network namespace")
            try:
                return socket.create_connection(("127.0.0.1", port), timeout)
            finally:
                if setns(own, _CLONE_NEWNET) != 0:  # the thread is discarded anyway
                    raise OSError(ctypes.get_errno(), "setns back to the host network namespace")
        finally:
            os.close(target)
    finally:
        os.close(own)


async def _in_fresh_thread(fn: Callable[[], _T], timeout: float) -> _T:
    """Run ``fn`` in a thread of its own, so a namespace switch can never leak into a pool thread."""
    fut: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def runner() -> None:
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

    threading.Thread(target=runner, name="sandbox-netns", daemon=True).start()
    return await asyncio.wait_for(asyncio.wrap_future(fut), timeout)


class Sandbox:
    """Runs programs in ``workspace`` with the strongest backend this machine offers."""

    def __init__(self, workspace: Workspace, *, backend: Literal["auto", "bwrap", "unshare", "none"] = "auto") -> None:
        global _warned_none
        self.workspace = workspace.ensure()
        if backend == "auto":
            self.backend: Backend = available_backends()[0]
        elif backend_available(backend):
            self.backend = backend
        else:
            raise ConfigError(f"sandbox backend {backend!r} is not available here", hint="apt-get install bubblewrap")
        if self.backend == "none" and not _warned_none:
            _warned_none = True
            log.warning(
                "sandbox.NO_ISOLATION",
                message="neither bwrap nor unshare -n works here: generated code runs with network access "
                "and can write anywhere this process can; only rlimits apply. Install bubblewrap.",
            )

    async def run(
        self, argv: Sequence[str], *, cwd: str = ".", limits: Limits | None = None,
        env: Mapping[str, str] | None = None, network: bool = False, stdin: bytes | None = None,
    ) -> RunResult:  # fmt: skip
        """Run to completion. A failing program is a result, not an exception."""
        proc = await self.start(argv, cwd=cwd, limits=limits, env=env, network=network, stdin=stdin)
        try:
            await proc.wait()
        finally:
            if proc.returncode is None:  # cancelled: take the program down with us
                await asyncio.shield(proc.stop(grace=0.2))
        return proc.result()

    async def start(
        self, argv: Sequence[str], *, cwd: str = ".", limits: Limits | None = None,
        env: Mapping[str, str] | None = None, network: bool = False, stdin: bytes | None = None,
    ) -> SandboxProcess:  # fmt: skip
        """Start a long-running program (a server); stop it with :meth:`SandboxProcess.stop`."""
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) and a for a in argv):
            raise InvalidInputError(f"argv must be a non-empty list of non-empty strings, got {argv!r}")
        limits = limits or Limits()
        workdir = self.workspace.resolve(cwd)
        if not workdir.is_dir():
            raise WorkspaceError(f"{cwd!r} is not a directory in the workspace")
        cgroup = _new_cgroup(limits.max_processes + 2)  # + bwrap and its pid 1
        cmd = self._command(argv, workdir, limits, network, cgroup)
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=workdir, env=self._env(env), start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        log.debug("sandbox.start", backend=self.backend, argv=list(argv), pid=proc.pid, cwd=str(workdir))
        isolated = not network and self.backend != "none"
        return SandboxProcess(proc, argv, limits, cgroup, backend=self.backend, net_isolated=isolated, stdin=stdin)

    async def open_connection(
        self, proc: SandboxProcess, port: int, timeout: float = 5
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP stream to 127.0.0.1:``port`` as the sandboxed program sees it."""
        ns_pid = proc.netns_pid()
        try:
            sock = await _in_fresh_thread(lambda: _connect(ns_pid, port, timeout), timeout)
            sock.setblocking(False)
            return await asyncio.open_connection(sock=sock)
        except OSError as exc:
            raise SandboxError(f"cannot connect to port {port} of sandboxed pid {proc.pid}: {exc}") from exc

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
                merged: dict[str, str] = {}
                for name, value in resp.getheaders():
                    key = name.lower()
                    merged[key] = f"{merged[key]}, {value}" if key in merged else value
                return HttpResponse(resp.status, merged, data[:_MAX_BODY], len(data) > _MAX_BODY)
            finally:
                conn.close()

        try:
            return await _in_fresh_thread(call, timeout)
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
            raise SandboxError(f"{method} {path} on port {port} of sandboxed pid {proc.pid} failed: {exc!r}") from exc

    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """Nothing from our own environment: API keys must never reach generated code."""
        home, tmp = self.workspace.root / ".home", self.workspace.root / ".tmp"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        env = {"HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp)}
        path: list[str] = []
        for name, value in (extra or {}).items():
            if _SECRET_ENV.fullmatch(name):
                log.warning("sandbox.secret_env_dropped", name=name)
            elif name == "PATH":
                path = [p for p in value.split(":") if p]
            else:
                env[name] = value
        env["PATH"] = ":".join(dict.fromkeys([*path, *SAFE_PATH]))
        return env

    def _command(self, argv: Sequence[str], cwd: Path, limits: Limits, network: bool, cgroup: Path | None) -> list[str]:
        root = str(self.workspace.root)
        cmd = list(argv)
        if self.backend == "bwrap":  # /tmp first: a workspace under /tmp is then bound on top of it
            scratch = ["--tmpfs", "/tmp", "--bind", root, root, "--chdir", str(cwd), "--"]  # noqa: S108
            cmd = [*_bwrap_prefix(network), *scratch, *cmd]
        elif self.backend == "unshare":
            cmd = [*_unshare_prefix(network), *cmd]
        if prlimit := _tool("prlimit"):
            mib = 1024 * 1024
            cmd = [
                prlimit, f"--as={limits.memory_mb * mib}", f"--cpu={limits.cpu_seconds}", "--core=0",
                f"--fsize={limits.file_size_mb * mib}", f"--nproc={limits.max_processes}", "--", *cmd,
            ]  # fmt: skip
        # Join the cgroup before anything can fork, and exec so no extra process stays around.
        join = 'echo $$ > "$0" || exit 125; exec "$@"' if cgroup else 'exec "$@"'
        return ["/bin/sh", "-c", join, str(cgroup / "cgroup.procs") if cgroup else "sh", *cmd]
