"""The bubblewrap command line: what a sandboxed program may see, and as whom it runs.

Reads are confined as well as writes: the program's root is an empty, read-only tmpfs
holding only the system folders a runtime needs (``/usr`` and the ``/lib*``, ``/bin``
links), a few files of ``/etc`` (certificates, resolver, loader cache; a passwd of our
own, never ``shadow``), the Python installation this program runs from (both the venv
and its base, wherever they live, ``/root`` included), the extra read-only folders a
stack asks for (its environment), and the workspace, read-write. No host ``/tmp``,
``/run``, ``/var``, ``/home``, ``/root`` or ``/sys``: host unix sockets and secrets are not
there. ``/tmp`` and ``/dev/shm`` are private tmpfs with a ``--size``; ``/dev`` is read-only;
``/proc`` is fresh (own pid namespace) with ``/proc/sys`` read-only.

A seccomp filter (x86-64) refuses new user namespaces (``unshare``/``clone`` with
``CLONE_NEWUSER``; ``clone3`` answers ENOSYS so libc falls back to ``clone``), ``setns``,
keyrings, ``bpf``, ``userfaultfd``, ``perf_event_open`` and the 32-bit/x32 syscall tables:
kernel surface an unprivileged program could otherwise reach.

As root, bwrap itself needs no user namespace; the program then starts through ``setpriv``
as uid/gid 65501 *on the host* (not a mapped root): no capabilities, no new privileges,
owner bits of root's files do not apply, and it cannot signal anything of ours. The
workspace is lent to that uid while runs use it (:func:`lend`, symlink-safe) and given back
to its owner when the last one ends (:func:`give_back`), set-id bits cleared, so a project
does not stay owned by a uid nobody logs in as. Not root: bwrap makes a user namespace and
maps our own (already unprivileged) uid to 65501; nothing changes hands.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import stat
import struct
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autogpt.tools.workspace import STATE_DIR

SANDBOX_UID = SANDBOX_GID = 65501
TMP_BYTES = 64 * 1024 * 1024
SHM_BYTES = 16 * 1024 * 1024
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = (
    "ssl", "ca-certificates", "ca-certificates.conf", "resolv.conf", "hosts", "host.conf", "nsswitch.conf",
    "gai.conf", "localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
    "mime.types", "protocols", "services", "os-release", "debian_version", "fonts", "chromium", "chromium.d",
)  # fmt: skip
_PASSWD = f"root:x:0:0:root:/:/usr/sbin/nologin\nsandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:sandbox:/tmp:/bin/sh\n"
_GROUP = f"root:x:0:\nsandbox:x:{SANDBOX_GID}:\n"


_X86_64, _X32_BIT, _CLONE_NEWUSER = 0xC000003E, 0x40000000, 0x10000000
_UNSHARE, _CLONE, _CLONE3 = 272, 56, 435
_DENIED = (308, 248, 249, 250, 321, 323, 298)  # setns, add_key, request_key, keyctl, bpf, userfaultfd, perf_event_open
_ALLOW, _EPERM, _ENOSYS = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38


def seccomp_program() -> bytes | None:
    """The classic-BPF filter bwrap loads (``--seccomp FD``), or None off x86-64."""
    if platform.machine() != "x86_64":
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    code: list[tuple[int, int | str, int | str, int]] = [
        (ld, 0, 0, 4),  # arch
        (jeq, 0, "eperm", _X86_64),
        (ld, 0, 0, 0),  # syscall number
        (jge, "eperm", 0, _X32_BIT),
        (jeq, "enosys", 0, _CLONE3),
        *[(jeq, "eperm", 0, nr) for nr in _DENIED],
        (jeq, "flags", 0, _UNSHARE),
        (jeq, "flags", 0, _CLONE),
        (ret, 0, 0, _ALLOW),
    ]
    labels = {"flags": len(code), "eperm": len(code) + 3, "enosys": len(code) + 4}
    code += [(ld, 0, 0, 16), (jset, "eperm", 0, _CLONE_NEWUSER), (ret, 0, 0, _ALLOW), (ret, 0, 0, _EPERM)]
    code += [(ret, 0, 0, _ENOSYS)]

    def hop(i: int, to: int | str) -> int:
        return labels[to] - i - 1 if isinstance(to, str) else to

    return b"".join(struct.pack("<HBBI", op, hop(i, jt), hop(i, jf), k) for i, (op, jt, jf, k) in enumerate(code))


def _memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(f"autogpt-sandbox-{name}", 0)  # inheritable: bwrap reads it
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def open_fds() -> dict[str, int]:
    """What bwrap reads from file descriptors: passwd, group and (x86-64) the seccomp filter.
    Pass them to the child and close them after the spawn; nothing is left on disk."""
    fds = {"passwd": _memfd("passwd", _PASSWD.encode()), "group": _memfd("group", _GROUP.encode())}
    if (program := seccomp_program()) is not None:
        fds["seccomp"] = _memfd("seccomp", program)
    return fds


def runtime_dirs() -> tuple[Path, ...]:
    """The Python installation this process runs from: its venv and the base interpreter."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(sorted({Path(p).resolve() for p in found if p and Path(p).is_dir()}))


def _ancestors(paths: Iterable[str]) -> list[str]:
    """Folders bwrap would otherwise create with mode 0700 (the sandbox user could not pass)."""
    seen: dict[str, None] = {}
    for path in paths:
        for parent in reversed(Path(path).parents):
            if str(parent) != "/":
                seen.setdefault(str(parent))
    return list(seen)


def git_folders(root: Path) -> dict[Path, tuple[int, int]]:
    """Every ``.git`` in the workspace (a folder, or the file a worktree has), by its inode:
    what git on the host reads as configuration and hooks. Links are not followed."""
    found: dict[Path, tuple[int, int]] = {}
    for top, dirs, files, dfd in os.fwalk(root, follow_symlinks=False):
        if ".git" in dirs or ".git" in files:
            with contextlib.suppress(OSError):
                info = os.stat(".git", dir_fd=dfd, follow_symlinks=False)
                found[Path(top) / ".git"] = (info.st_ino, info.st_mode)
        if ".git" in dirs:
            dirs.remove(".git")
    return found


def own_state(root: Path) -> dict[Path, tuple[int, int]]:
    """The workspace's own state folder (its id), by inode, to be bound read-only like the git
    folders: generated code that rewrote the id would make the folder look like a new one (its
    history set aside). Not made when missing: a user's own project gets no folder of ours
    from a run, and an id written by generated code before we make one is just its id."""
    path = root / STATE_DIR
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return {}
    return {path: (info.st_ino, info.st_mode)} if stat.S_ISDIR(info.st_mode) else {}


def hold(paths: Mapping[Path, tuple[int, int]]) -> dict[Path, int]:
    """A handle (``O_PATH``, no link followed) on each of ``paths`` that is still the folder or
    file it was when found; close them after the program started."""
    held: dict[Path, int] = {}
    for path, (inode, mode) in paths.items():
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            continue  # a link named .git is not bound: it would bind what it points to
        try:
            fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        if os.fstat(fd).st_ino != inode:
            os.close(fd)
            continue
        held[path] = fd
    return held


def remove_new_git(root: Path, before: Mapping[Path, tuple[int, int]]) -> list[Path]:
    """Remove each ``.git`` a run made (or swapped in): git on the host would take a hostile
    one's hooks or ``core.fsmonitor`` and run them. Returns what was removed."""
    removed = []
    for path, seen in git_folders(root).items():
        if before.get(path) == seen:
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(seen[1]):
                shutil.rmtree(path)  # rmtree never follows links (its fd-based walk)
            else:
                path.unlink()
            removed.append(path)
    return removed


def bwrap_args(
    bwrap: str, setpriv: str, *, network: bool, workspace: Path, cwd: Path, readable: Sequence[Path],
    fds: Mapping[str, int], read_only: Mapping[Path, int] | None = None, python: bool = True,
) -> list[str]:  # fmt: skip
    """Everything before the program's own argv; ``read_only``: parts of the workspace the
    program may read but not change (the project's git folders), each by an open handle, so
    a name swapped for a link in the meantime binds nothing else (:func:`hold`); ``python``:
    show the Python installation we run from (a program that is not Python needs none of it)."""
    root = os.geteuid() == 0
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    args += ["--seccomp", str(fds["seccomp"])] if "seccomp" in fds else []
    args += ["--unshare-cgroup-try", *([] if network else ["--unshare-net"])]
    if root:  # setpriv needs these three to become the sandbox user; it drops them all
        args += ["--cap-drop", "ALL"] + [a for c in ("SETUID", "SETGID", "SETPCAP") for a in ("--cap-add", f"CAP_{c}")]
    else:
        args += ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
        args += ["--cap-drop", "ALL"]
    private_shm, private_tmp = "/dev/shm", "/tmp"  # noqa: S108 - fresh tmpfs inside the sandbox, not the host's
    args += ["--dev", "/dev", "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", private_shm]
    args += ["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"]
    args += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", private_tmp]
    for path in _SYSTEM:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    args += [a for name in _ETC for a in ("--ro-bind-try", f"/etc/{name}", f"/etc/{name}")]
    args += [
        a for name in ("passwd", "group") for a in ("--perms", "0644", "--ro-bind-data", str(fds[name]), f"/etc/{name}")
    ]
    shown = [str(p) for p in dict.fromkeys([*(runtime_dirs() if python else ()), *readable]) if p.exists()]
    mounts = [*shown, str(workspace)]
    args += [a for parent in _ancestors(mounts) for a in ("--perms", "0755", "--dir", parent)]
    args += [a for path in shown for a in ("--ro-bind", path, path)]
    args += ["--bind", str(workspace), str(workspace)]
    args += [a for path, fd in (read_only or {}).items() for a in ("--ro-bind-fd", str(fd), str(path))]
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    args += ["--chdir", str(cwd), "--"]
    if root:
        args += [setpriv, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups"]
        args += ["--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
    return args


@dataclass(slots=True)
class _Loan:
    owner: tuple[int, int] | None  # who had the workspace before; None: the sandbox user already did
    runs: int = 0


_loans: dict[Path, _Loan] = {}
_loans_lock = threading.Lock()  # lend and give_back run in worker threads


def lend(root: Path) -> None:
    """Hand the workspace to the sandbox user for one more run (as root; else nothing to do)."""
    if os.geteuid() != 0:
        return
    with _loans_lock:
        loan = _loans.get(root)
        if loan is None:
            info = os.stat(root, follow_symlinks=False)
            owner = (info.st_uid, info.st_gid)
            loan = _loans[root] = _Loan(None if owner == (SANDBOX_UID, SANDBOX_GID) else owner)
        loan.runs += 1
        hand_over(root)


def give_back(root: Path) -> None:
    """One run of the workspace ended; after the last, what the sandbox user owns there goes
    back to the workspace's owner, with set-user/group-id bits cleared, and the empty ``.home``
    and ``.tmp`` the runs were given are removed."""
    if os.geteuid() != 0:
        return
    with _loans_lock:
        loan = _loans.get(root)
        if loan is None:
            return
        loan.runs -= 1
        if loan.runs > 0:
            return
        del _loans[root]
        if loan.owner is not None:
            _reown(root, (SANDBOX_UID, SANDBOX_GID), loan.owner)
        for name in (".home", ".tmp"):
            with contextlib.suppress(OSError):  # not there, or not empty: left as it is
                (root / name).rmdir()


def hand_over(root: Path) -> None:
    """Give the workspace to the sandbox user."""
    if os.geteuid() == 0:
        _reown(root, None, (SANDBOX_UID, SANDBOX_GID))


def _reown(root: Path, only: tuple[int, int] | None, owner: tuple[int, int]) -> None:
    """Give ``root`` and what is below it (or what ``only`` owns there) to ``owner``, never
    following a link (``fwalk`` holds each folder by its handle, so a folder swapped for a
    link mid-walk is not entered); a file with other names is left alone (a hard link may be
    a host file's other name), and set-id bits are cleared on files."""
    uid, gid = owner

    def move(name: str | Path, info: os.stat_result, dfd: int | None) -> None:
        if (info.st_uid, info.st_gid) == owner or (only is not None and info.st_uid != only[0]):
            return
        os.chown(name, uid, gid, dir_fd=dfd, follow_symlinks=False)
        if stat.S_ISREG(info.st_mode) and info.st_mode & (stat.S_ISUID | stat.S_ISGID):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
            try:  # by its handle: the name cannot be swapped for a link in between
                os.fchmod(fd, stat.S_IMODE(os.fstat(fd).st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
            finally:
                os.close(fd)

    with contextlib.suppress(OSError):
        move(root, os.stat(root, follow_symlinks=False), None)
    for _, dirs, files, dfd in os.fwalk(root, follow_symlinks=False):
        for name in [*dirs, *files]:
            with contextlib.suppress(OSError):
                info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode) or (not stat.S_ISDIR(info.st_mode) and info.st_nlink > 1):
                    continue
                move(name, info, dfd)
