"""Files confined to one root folder.

Every path is resolved against the root and refused when it is absolute, climbs out
with ``..``, leads outside through a symlink, or names a tool's own folder (``.git``
anywhere; ``.home``, ``.tmp``, ``.autogpt`` at the top). Reads and writes never follow a
symlink at any level: they walk from a handle on the root, one component at a time, with
``O_NOFOLLOW | O_DIRECTORY`` (``dir_fd``), so a sandboxed program that swaps a folder for
a link between our check and our write cannot send the write elsewhere. Writes are atomic
(temp file, then rename, both relative to the folder's handle), bounded per file and in
total, and every write is recorded with the agent that made it. The total is measured by a
walk at most every :data:`USAGE_TTL` seconds (and again after each sandbox run); writes in
between add their own sizes, so a write costs the same in a project of 20,000 files as in
one of ten (a walk of 20,000 files takes a tenth of a second).

A workspace has a stable random id, kept in ``.autogpt/workspace-id``: agents in other
processes compare ids to know whether they share the folder or must send files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autogpt.errors import InvalidInputError, PathOutsideWorkspaceError, WorkspaceError, WorkspaceFullError
from autogpt.iac.transfer import MAX_FILES, FileEntry, excluded_name, looks_secret, shareable
from autogpt.logs import get_logger

log = get_logger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
USAGE_TTL = 2.0
"""Seconds a measured total stays trusted: other writers (another process on the same folder)
are seen within this long."""
STATE_DIR = ".autogpt"
TOOL_DIRS = frozenset({".home", ".tmp", STATE_DIR})  # the Sandbox's HOME and TMPDIR, the workspace id
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ID_FILE = "workspace-id"
_ID = re.compile(r"[0-9a-f]{32}")
TEMP_GLOB = ".*." + "?" * 12 + ".tmp"
"""The names a write's temporary file has (:func:`_temp_name`) for the moment before its rename:
what reads the folder meanwhile (``git add``) must pass over them."""


def _temp_name(name: str) -> str:
    return f".{name[:60]}.{secrets.token_hex(6)}.tmp"


@dataclass(frozen=True, slots=True)
class WriteRecord:
    path: str
    agent: str
    size: int
    sha256: str


class Workspace:
    def __init__(
        self, root: Path | str, *, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES
    ) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes, self.max_total_bytes = max_file_bytes, max_total_bytes
        self._writes: list[WriteRecord] = []
        self._identity = ""
        # (when walked, bytes): the last walk before a write, plus our writes and removals since
        self._used: tuple[float, int] | None = None

    def ensure(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def resolve(self, relative: str | os.PathLike[str]) -> Path:
        """The absolute path for ``relative``, or :class:`PathOutsideWorkspaceError`."""
        text = os.fspath(relative).strip()
        if not text:
            raise InvalidInputError("empty path")
        if "\x00" in text:
            raise InvalidInputError("path contains a NUL byte")
        pure = PurePosixPath(text.replace("\\", "/"))
        if pure.is_absolute() or Path(text).is_absolute() or (len(text) > 1 and text[1] == ":"):
            # "/app/main.py" is most often meant as the project's own app/main.py: say so
            inside = text.replace("\\", "/").lstrip("/") if text[0] in "/\\" else ""
            meant = f"; paths are relative to the workspace root: did you mean {inside!r}?" if inside else ""
            raise PathOutsideWorkspaceError(f"absolute paths are not allowed in the workspace: {text!r}{meant}")
        if ".." in pure.parts:
            raise PathOutsideWorkspaceError(f"'..' is not allowed in workspace paths: {text!r}")
        if ".git" in pure.parts:  # generated files must never reach git's own folder (hooks, config)
            raise PathOutsideWorkspaceError(f"{text!r} is inside .git, which agents may not write")
        if pure.parts and pure.parts[0] in TOOL_DIRS:
            raise PathOutsideWorkspaceError(f"{text!r} is inside {pure.parts[0]}, a tool's own folder")
        candidate = self.root.joinpath(*pure.parts)
        # resolve() follows every symlink on the way, existing or not, so a link that
        # points outside is caught even when the file itself does not exist yet.
        try:
            real = candidate.resolve()
        except (RuntimeError, OSError) as exc:  # a symlink loop, or a name the OS refuses
            raise WorkspaceError(f"cannot resolve {text!r} in the workspace: {exc}") from None
        if real != self.root and self.root not in real.parents:
            raise PathOutsideWorkspaceError(f"{text!r} leads outside the workspace (symlink)")
        return real

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def write_text(self, relative: str, content: str, *, agent: str = "") -> WriteRecord:
        return self.write_bytes(relative, content.encode("utf-8"), agent=agent)

    def write_bytes(self, relative: str, data: bytes, *, agent: str = "") -> WriteRecord:
        if len(data) > self.max_file_bytes:
            raise WorkspaceError(f"{relative!r} is {len(data)} bytes; the limit is {self.max_file_bytes}")
        *folders, name = self._parts(relative)
        with self._walk(folders, create=True) as dfd:
            replaced = 0
            with contextlib.suppress(FileNotFoundError):
                old = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISDIR(old.st_mode):
                    raise WorkspaceError(f"{relative!r} is a directory")
                replaced = old.st_size if stat.S_ISREG(old.st_mode) else 0
            self._check_room(len(data), replaced, relative)
            tmp = _temp_name(name)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(tmp, flags, 0o644, dir_fd=dfd)
            except FileNotFoundError:  # the folder was removed under us (a sandboxed program racing)
                raise WorkspaceError(f"the folder of {relative!r} went away while writing it") from None
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)  # replaces a link, never follows it
                self._counted(len(data) - replaced)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dfd)
                raise
        record = WriteRecord("/".join([*folders, name]), agent, len(data), hashlib.sha256(data).hexdigest())
        self._writes.append(record)
        return record

    def read_bytes(self, relative: str) -> bytes:
        *folders, name = self._parts(relative)
        try:
            with self._walk(folders, create=False) as dfd:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            raise WorkspaceError(f"{relative!r} does not exist in the workspace") from None
        except OSError as exc:
            raise self._refusal(relative, exc) from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > self.max_file_bytes:
            os.close(fd)
            if not stat.S_ISREG(info.st_mode):
                raise WorkspaceError(f"cannot read {relative!r}: not a regular file")
            raise WorkspaceError(f"{relative!r} is larger than the limit of {self.max_file_bytes} bytes")
        with os.fdopen(fd, "rb") as fh:
            return fh.read(self.max_file_bytes + 1)[: self.max_file_bytes]

    def read_text(self, relative: str) -> str:
        return self.read_bytes(relative).decode("utf-8")

    def remove(self, relative: str) -> bool:
        """Delete a file (a link is removed, never followed); False when there was none."""
        *folders, name = self._parts(relative)
        try:
            with self._walk(folders, create=False) as dfd:
                old = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if stat.S_ISDIR(old.st_mode):
                    raise WorkspaceError(f"{relative!r} is a directory")
                os.unlink(name, dir_fd=dfd)
                self._counted(-old.st_size if stat.S_ISREG(old.st_mode) else 0)
        except FileNotFoundError:
            return False
        except WorkspaceError:
            if not self.resolve(relative).parent.is_dir():  # its folder is gone: so is the file
                return False
            raise
        except OSError as exc:
            raise self._refusal(relative, exc) from None
        return True

    def usage(self) -> int:
        """Bytes the workspace's files take (links and special files count as nothing), by a
        walk of the whole folder."""
        total = 0
        stack = [str(self.root)]
        while stack:
            with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_blocks * 512
        return total

    def forget_usage(self) -> None:
        """Something else wrote here (a sandbox run): the next write measures the total again."""
        self._used = None

    def _counted(self, change: int) -> None:
        """Our own write or removal, added to the measured total (``_used`` is read once: a
        sandbox run may forget it from another thread meanwhile)."""
        known = self._used
        if known is not None:
            self._used = (known[0], known[1] + change)

    def check_size(self) -> None:
        """:class:`WorkspaceFullError` when the workspace is over its total size limit."""
        if (used := self.usage()) > self.max_total_bytes:
            raise WorkspaceFullError(
                f"the workspace holds {used} bytes; the limit is {self.max_total_bytes}",
                hint="remove large files from the workspace",
            )

    def _check_room(self, size: int, replaced: int, relative: str) -> None:
        known, now = self._used, time.monotonic()
        if known is None or now - known[0] > USAGE_TTL:
            known = self._used = (now, self.usage())
        if known[1] - replaced + size > self.max_total_bytes:
            raise WorkspaceFullError(
                f"writing {relative!r} ({size} bytes) would take the workspace over its limit of "
                f"{self.max_total_bytes} bytes"
            )

    def _parts(self, relative: str) -> list[str]:
        """The checked components of ``relative`` (same rules as :meth:`resolve`)."""
        self.resolve(relative)
        parts = [p for p in PurePosixPath(os.fspath(relative).strip().replace("\\", "/")).parts if p != "."]
        if not parts:
            raise InvalidInputError(f"{relative!r} names the workspace itself, not a file")
        return parts

    @contextlib.contextmanager
    def _walk(self, folders: list[str], *, create: bool) -> Iterator[int]:
        """A handle on ``root/folders``, reached without following any symlink."""
        self.ensure()
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for part in folders:
                if create:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise self._refusal("/".join(folders), exc) from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _refusal(relative: str, exc: OSError) -> WorkspaceError:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return PathOutsideWorkspaceError(f"{relative!r} goes through a symlink or a file; refused")
        if exc.errno == errno.ENOENT:
            return WorkspaceError(f"{relative!r} does not exist in the workspace")
        return WorkspaceError(f"cannot use {relative!r}: {exc.strerror}")

    def exists(self, relative: str) -> bool:
        return self.resolve(relative).exists()

    def files(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(self.relative(p) for p in self.root.rglob("*") if p.is_file() and not p.name.endswith(".tmp"))

    @property
    def identity(self) -> str:
        """This folder's id, shared by every process that opens the folder.

        A random part is made once and kept in the folder; the folder's inode number is
        added, so a copy of the folder (which carries the same file along) is another
        workspace, while a move, or the same folder mounted elsewhere, is not."""
        if not self._identity:
            self._identity = f"{self._load_identity()}-{self.root.stat().st_ino:x}"
        return self._identity

    def _load_identity(self) -> str:
        """Read (or make) the id through a handle on the state folder: never through a link."""
        with self._walk([STATE_DIR], create=True) as dfd:
            found = self._read_id(dfd)
            if found:
                return found
            tmp = _temp_name(_ID_FILE)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
            try:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(uuid.uuid4().hex + "\n")
                try:  # never replaces the id another process wrote first
                    os.link(tmp, _ID_FILE, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)
                except FileExistsError:
                    if found := self._read_id(dfd):
                        return found
                    os.replace(tmp, _ID_FILE, src_dir_fd=dfd, dst_dir_fd=dfd)  # unreadable: start over
                return self._read_id(dfd) or ""
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dfd)

    @staticmethod
    def _read_id(dfd: int) -> str:
        try:
            fd = os.open(_ID_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except OSError:
            return ""
        with os.fdopen(fd, "rb") as fh:
            found = fh.read(64).decode("utf-8", "replace").strip()
        return found if _ID.fullmatch(found) else ""

    def manifest(self, limit: int = MAX_FILES) -> dict[str, FileEntry]:
        """The project files, path -> (sha256, size), that may travel to another workspace.

        Hidden folders (``.git``, ``.venv``, ``.autogpt`` ...), environments, caches, key files,
        symlinks, files over the size limit and files that look like they hold a secret are
        left out."""
        found: dict[str, FileEntry] = {}
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not excluded_name(d))
            for name in sorted(names):
                path = Path(folder, name)
                relative = self.relative(path)
                if not shareable(relative) or path.is_symlink() or not path.is_file():
                    continue
                try:
                    data = self.read_bytes(relative)  # no link followed on the way, whatever changed since
                except (WorkspaceError, OSError):  # too large, gone, or swapped for a link
                    continue
                if looks_secret(data):
                    continue
                if len(found) >= limit:
                    log.warning("manifest_truncated", root=str(self.root), limit=limit)
                    return found
                found[relative] = FileEntry(hashlib.sha256(data).hexdigest(), len(data))
        return found

    @property
    def writes(self) -> tuple[WriteRecord, ...]:
        return tuple(self._writes)

    def written_by(self, agent: str) -> list[str]:
        return [w.path for w in self._writes if w.agent == agent]
