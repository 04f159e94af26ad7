"""Run generated, untrusted programs confined to their workspace. Findings behind the design (root, Debian 12, 6.x):

* Network: ``network=False`` gives the program its own network namespace with only a loopback (bwrap brings ``lo``
  up). Its servers are then unreachable from the host's 127.0.0.1, so :meth:`Sandbox.request` connects from inside:
  a throw-away thread ``setns()`` into ``/proc/<pid>/ns/net``, makes the socket and switches back; the socket stays
  in the sandbox's namespace. The program reaches nothing, host loopback and abstract unix sockets included.
* What it sees and who it is: see :mod:`autogpt.tools.sandbox_bwrap` (reads confined, uid 65501 on the host, no
  capabilities, private size-limited ``/tmp`` and ``/dev/shm``, read-only ``/proc/sys``).
* Limits: ``RLIMIT_NPROC`` is not enforced for uid 0 and counts a uid machine-wide, so each run gets its own pids
  cgroup (threads count too), and a memory cgroup for the whole run (:mod:`autogpt.tools.sandbox_cgroup`); the
  groups also name every process of the run, so the tree kill finds daemons that left the process group. CPU,
  address space and file size are rlimits. The workspace's total size is watched while the run lasts; over the
  limit, the run is stopped (``killed_by="disk"``).
* Tree kill: a new session per run; stop and timeout SIGTERM every process of the run (cgroup, process group,
  descendants), then SIGKILL after ``grace``. bwrap adds ``--unshare-pid --die-with-parent``: its pid 1 dying takes the
  whole namespace down. Whatever a program leaves running when its main process exits is killed too.
* Without a working bwrap nothing confines the program (the ``none`` backend: limits only), so it runs only when
  the user allowed it (``allow_unconfined``, ``AUTOGPT_ALLOW_UNCONFINED=1``, ``--allow-unconfined``), and
  :attr:`Sandbox.confinement` says so in the build's verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from autogpt.errors import AgentError, ConfigError, InvalidInputError, UnconfinedError, WorkspaceError
from autogpt.logs import get_logger
from autogpt.tools.sandbox_bwrap import (
    bwrap_args,
    git_folders,
    give_back,
    hold,
    lend,
    open_fds,
    own_state,
    remove_new_git,
)
from autogpt.tools.sandbox_cgroup import RunGroups, memory_enforcement, new_groups
from autogpt.tools.sandbox_net import HttpResponse as HttpResponse
from autogpt.tools.sandbox_net import free_port as free_port
from autogpt.tools.sandbox_net import http_in
from autogpt.tools.workspace import Workspace

log = get_logger(__name__)
Backend = Literal["bwrap", "none"]
SAFE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
_SECRET_ENV = re.compile(r"OPENAI_API_KEY|ANTHROPIC_API_KEY|AUTOGPT_.*")
_TIMEOUT_GRACE = 1.0
_DISK_POLL = 0.05  # seconds between looks at the workspace's size while a program runs
_warned_none = False


def unconfined_allowed() -> bool:
    return os.environ.get("AUTOGPT_ALLOW_UNCONFINED", "").strip().lower() in ("1", "true", "yes")


class SandboxError(AgentError):
    """A request to a sandboxed server failed (not up yet, refused, timed out, bad HTTP)."""


@dataclass(frozen=True, slots=True)
class Limits:
    wall_seconds: float = 60  # applies to start() too: a forgotten server does not live forever
    cpu_seconds: int = 60
    memory_mb: int = 1024  # the whole run's memory (cgroup) and each process's address space (RLIMIT_AS)
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
    memory_peak: int | None = None  # bytes, as the run's memory cgroup counted them

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


@cache
def _tool(name: str) -> str | None:
    return shutil.which(name, path=f"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:{os.defpath}")


@cache
def backend_available(backend: Backend) -> bool:
    """Probed once per process, with the flags a real run uses."""
    if backend == "none":
        return True
    if not (_tool("bwrap") and (_tool("setpriv") or os.geteuid() != 0)):
        return False
    fds = open_fds()
    try:
        with tempfile.TemporaryDirectory(prefix="autogpt-sandbox-probe-") as folder:
            probe = bwrap_args(
                _tool("bwrap") or "bwrap", _tool("setpriv") or "setpriv", network=False,
                workspace=Path(folder), cwd=Path(folder), readable=(), fds=fds,
            )  # fmt: skip
            run = subprocess.run([*probe, "true"], capture_output=True, timeout=10, pass_fds=tuple(fds.values()))
            return run.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        for fd in fds.values():
            os.close(fd)


def available_backends() -> list[Backend]:
    return [b for b in ("bwrap", "none") if backend_available(b)]


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
        self, proc: asyncio.subprocess.Process, argv: Sequence[str], limits: Limits, groups: RunGroups, *,
        backend: Backend, net_isolated: bool, stdin: bytes | None, workspace: Workspace | None = None,
        lent: Path | None = None, gits: Mapping[Path, tuple[int, int]] | None = None,
    ) -> None:  # fmt: skip
        self._proc, self.pid, self.argv, self._groups = proc, proc.pid, tuple(argv), groups
        self.backend, self._net_isolated, self.timed_out = backend, net_isolated, False
        self.over_disk, self._workspace, self._lent = False, workspace, lent  # lent: given back when it ends
        self._gits = gits  # the workspace's git folders before the run: any other is removed after it
        self.memory_peak: int | None = None
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
        if self.timed_out or self.over_disk:
            return "timeout" if self.timed_out else "disk"
        return f"signal {-rc}" if rc < 0 else None

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
            self.duration, out.truncated, err.truncated, self.backend, self.memory_peak,
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
            await self._watch_run(wall)
        finally:
            await asyncio.shield(asyncio.to_thread(self._after))

    def _after(self) -> None:
        """What a run leaves for git on the host to read goes; the workspace goes back to its
        owner after the last run."""
        if self._workspace is not None:
            self._workspace.forget_usage()  # what the run wrote counts against the next write
        if self._workspace is not None and self._gits is not None:
            for path in remove_new_git(self._workspace.root, self._gits):
                log.warning("sandbox.git_removed", pid=self.pid, path=str(path), reason="made by generated code")
        if self._lent is not None:
            give_back(self._lent)

    async def _watch_run(self, wall: float) -> None:
        disk = asyncio.create_task(self._watch_disk())
        try:
            await asyncio.wait_for(self._main_exit(), wall)
        except TimeoutError:
            self.timed_out = True
            await self._terminate(_TIMEOUT_GRACE)
        finally:
            disk.cancel()
            await asyncio.gather(disk, return_exceptions=True)
        self.duration = time.monotonic() - self._t0
        await self._terminate(0)  # nothing the program started may outlive it
        reaped = asyncio.ensure_future(self._proc.wait())
        _, pending = await asyncio.wait([*self._tasks, reaped], timeout=1.0)  # an escaped daemon may hold a pipe
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self.memory_peak = self._groups.memory_peak()
        for _ in range(50):  # a group can go once its last zombie is reaped
            if self._groups.remove():
                break
            await asyncio.sleep(0.01)
        if self._workspace is not None and not self.over_disk:
            self.over_disk = await asyncio.to_thread(self._workspace.usage) > self._workspace.max_total_bytes

    async def _watch_disk(self) -> None:
        """Stop the run once the workspace is over its total size (the rlimit bounds each file only)."""
        if self._workspace is None:
            return
        ws = self._workspace
        while await asyncio.to_thread(ws.usage) <= ws.max_total_bytes:  # noqa: ASYNC110 - polling the disk
            await asyncio.sleep(_DISK_POLL)
        self.over_disk = True
        log.warning("sandbox.workspace_full", pid=self.pid, limit=ws.max_total_bytes)
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int, *, spare_bwrap: bool = False) -> bool:
        """Send ``sig`` to every process of this run; False when none is left."""
        table = _proc_table()
        members = {pid for pid, (_, pgrp) in table.items() if pgrp == self.pid}
        if self._proc.returncode is None and self.pid in table:  # not reaped yet, so the pid is still ours
            members.add(self.pid)
            while fresh := {pid for pid, (ppid, _) in table.items() if ppid in members} - members:
                members |= fresh
        members.update(self._groups.members())
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


def require_confinement(allow_unconfined: bool = False) -> Backend:
    """The backend ``auto`` picks; :class:`UnconfinedError` when it confines nothing and that was not allowed.
    Agents call it before any model call, so a refusal costs nothing and is the task's own error."""
    backend = available_backends()[0]
    if backend == "none" and not (allow_unconfined or unconfined_allowed()):
        raise UnconfinedError(
            "no confining sandbox here (bubblewrap is missing or cannot run), so generated code will not run",
            hint="install bubblewrap, or allow it explicitly: --allow-unconfined or AUTOGPT_ALLOW_UNCONFINED=1",
        )
    return backend


class Sandbox:
    """Runs programs in ``workspace`` with the strongest backend this machine offers."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        backend: Literal["auto", "bwrap", "none"] = "auto",
        readable: Sequence[Path] = (),
        allow_unconfined: bool = False,
    ) -> None:
        """``auto`` without a working bwrap raises :class:`UnconfinedError` unless running unconfined
        was allowed (``allow_unconfined`` or ``AUTOGPT_ALLOW_UNCONFINED=1``); ``none`` by name is a choice."""
        global _warned_none
        self.workspace = workspace.ensure()
        self.readable = tuple(Path(p).resolve() for p in readable)  # read-only extras, e.g. a toolchain
        if backend == "auto":
            self.backend: Backend = require_confinement(allow_unconfined)
        elif backend_available(backend):
            self.backend = backend
        else:
            raise ConfigError(f"sandbox backend {backend!r} is not available here", hint="apt-get install bubblewrap")
        if self.backend == "none" and not _warned_none:
            _warned_none = True
            msg = "NO SANDBOX: generated code runs WITH network access and can read and write anywhere"
            log.warning("sandbox.no_isolation", message=msg)

    @property
    def confinement(self) -> dict[str, object]:
        """What the build's verification records about where generated code ran."""
        return {"confined": self.backend == "bwrap", "sandbox": self.backend, "memory_limit": memory_enforcement()}

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
        gits = await asyncio.to_thread(self._survey)
        env_vars = self._env(env)
        lent = self.workspace.root if self.backend == "bwrap" else None
        if lent is not None:
            await asyncio.to_thread(lend, lent)
        try:
            proc, groups = await self._spawn(argv, workdir, limits, env_vars, network, stdin, gits)
        except BaseException:
            if lent is not None:
                await asyncio.to_thread(give_back, lent)
            raise
        log.debug("sandbox.start", backend=self.backend, argv=list(argv), pid=proc.pid, cwd=str(workdir))
        isolated = not network and self.backend != "none"
        return SandboxProcess(
            proc, argv, limits, groups, backend=self.backend, net_isolated=isolated, stdin=stdin,
            workspace=self.workspace, lent=lent, gits=gits,
        )  # fmt: skip

    def _survey(self) -> dict[Path, tuple[int, int]]:
        """Before a run, in a worker thread (both walk the whole workspace, a tenth of a second
        for 20,000 files): the size check, and the git folders there are now."""
        self.workspace.check_size()
        return git_folders(self.workspace.root)

    async def _spawn(
        self, argv: Sequence[str], workdir: Path, limits: Limits, env: dict[str, str], network: bool,
        stdin: bytes | None, gits: Mapping[Path, tuple[int, int]],
    ) -> tuple[asyncio.subprocess.Process, RunGroups]:  # fmt: skip
        mib = 1024 * 1024  # bwrap and its pid 1 count too
        groups = new_groups(limits.max_processes + 2 * (self.backend == "bwrap"), limits.memory_mb * mib)
        try:
            fds = open_fds() if self.backend == "bwrap" else {}
            read_only = hold({**gits, **own_state(self.workspace.root)}) if self.backend == "bwrap" else {}
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self._command(argv, workdir, limits, network, groups, fds, read_only), cwd=workdir, env=env,
                    stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True,
                    pass_fds=(*fds.values(), *read_only.values()),
                )  # fmt: skip
            finally:
                for fd in (*fds.values(), *read_only.values()):
                    os.close(fd)
        except BaseException:
            groups.remove()
            raise
        return proc, groups

    async def request(
        self, proc: SandboxProcess, method: str, port: int, path: str, body: bytes | None = None,
        headers: Mapping[str, str] | None = None, timeout: float = 5,
    ) -> HttpResponse:  # fmt: skip
        """One HTTP/1.1 request to the sandboxed server, sent from inside its network namespace."""
        try:
            return await http_in(proc.netns_pid(), method, port, path, body, headers, timeout)
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
            raise SandboxError(f"{method} {path} on port {port} of sandboxed pid {proc.pid}: {exc!r}") from exc

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

    def _command(
        self, argv: Sequence[str], cwd: Path, limits: Limits, network: bool, groups: RunGroups,
        fds: Mapping[str, int], read_only: Mapping[Path, int] | None = None,
    ) -> list[str]:  # fmt: skip
        mib = 1024 * 1024
        cmd = list(argv)
        if self.backend == "bwrap":
            bwrap, setpriv = _tool("bwrap") or "bwrap", _tool("setpriv") or "setpriv"
            root = self.workspace.root
            wrap = bwrap_args(
                bwrap, setpriv, network=network, workspace=root, cwd=cwd, readable=self.readable, fds=fds,
                read_only=read_only,
            )  # fmt: skip
            cmd = [*wrap, *cmd]
        if prlimit := _tool("prlimit"):  # util-linux; CPU: SIGXCPU first, SIGKILL 1 s later
            cpu, fsize = limits.cpu_seconds, limits.file_size_mb * mib
            cmd = [
                prlimit, f"--as={limits.memory_mb * mib}", f"--cpu={cpu}:{cpu + 1}", f"--fsize={fsize}",
                f"--nproc={4 * limits.max_processes}", "--core=0", "--", *cmd,
            ]  # fmt: skip
        # Join the groups before anything can fork; exec, so no extra process stays around. RLIMIT_NPROC
        # counts the sandbox uid machine-wide, so it is only a backstop to the run's pids group.
        join = "".join(f"echo $$ > {shlex.quote(str(g / 'cgroup.procs'))} || exit 125; " for g in groups.paths)
        return ["/bin/sh", "-c", join + 'exec "$@"', "sh", *cmd]
