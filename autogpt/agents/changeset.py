"""A proposed change to a project's source files: checked, applied, and undone byte for byte.

What a model proposes is hostile input. Every path goes through the Workspace (absolute
paths, ``..``, symlinks out, ``.git`` are refused) before anything is written, and a change
may touch source files only, never what judges it: the tests, ``acceptance.json`` and
``contract.json`` stay as they are, or a change could make a failing check pass by
rewriting it. Applying keeps the exact bytes of every file it touches, so a rollback
restores them, deletes the files the change created, and removes folders it made.

:func:`tidy` is the model-free change: whitespace only, kept per file only where the
Python syntax tree is provably the same.
"""

from __future__ import annotations

import ast
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pydantic import BaseModel, Field

from autogpt.agents.checks import CHECK_FILES
from autogpt.errors import InvalidInputError
from autogpt.tools.workspace import Workspace

SOURCE_SUFFIXES = frozenset({".py", ".pyi", ".js", ".mjs", ".cjs"})
_BLANK_RUN = re.compile(r"\n{4,}")


class FileChange(BaseModel):
    path: str = Field(description="relative path of the file in the project, e.g. app/store.py")
    content: str = Field(description="the complete new content of the file")


class Proposal(BaseModel):
    summary: str = Field(description="one sentence: what is better now, and why behaviour stays the same")
    files: list[FileChange] = Field(default_factory=list, max_length=12, description="every new or changed file")
    remove: list[str] = Field(default_factory=list, max_length=12, description="files whose code moved elsewhere")


def is_check_file(path: str) -> bool:
    """A file that judges behaviour (tests, acceptance examples, the contract)."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        path in CHECK_FILES
        or "tests" in parts[:-1]
        or name.startswith("test_")
        or name.endswith(("_test.py", ".test.js", ".spec.js"))
        or name == "conftest.py"
    )


def _clean(ws: Workspace, path: str) -> str:
    """``path`` checked against the workspace rules and the change's, in one normal form."""
    ws.resolve(path)  # PathOutsideWorkspaceError for anything that leaves the workspace
    clean = PurePosixPath(path.strip().replace("\\", "/")).as_posix()
    if is_check_file(clean):
        raise InvalidInputError(
            f"a change may not touch {clean!r}: tests, acceptance.json and contract.json judge the change"
        )
    if PurePosixPath(clean).suffix not in SOURCE_SUFFIXES:
        raise InvalidInputError(
            f"a change touches source files only ({', '.join(sorted(SOURCE_SUFFIXES))}), not {clean!r}"
        )
    return clean


def changes_of(ws: Workspace, proposal: Proposal) -> dict[str, bytes | None]:
    """path -> new bytes (None: delete), for every path the proposal really changes.

    Raises before anything is written when one path is refused: a proposal is taken whole
    or not at all."""
    out: dict[str, bytes | None] = {}
    for change in proposal.files:
        path = _clean(ws, change.path)
        if path in out:
            raise InvalidInputError(f"the change names {path!r} twice")
        out[path] = change.content.encode("utf-8")
    for name in proposal.remove:
        path = _clean(ws, name)
        if path in out:
            raise InvalidInputError(f"the change both writes and removes {path!r}")
        if not ws.exists(path):
            raise InvalidInputError(f"the change removes {path!r}, which does not exist")
        out[path] = None
    return {path: data for path, data in out.items() if data != _current(ws, path)}


def _current(ws: Workspace, path: str) -> bytes | None:
    return ws.read_bytes(path) if ws.exists(path) else None


@dataclass
class Applied:
    """What a change replaced: the old bytes of each path (None: it did not exist) and the
    folders it had to make."""

    before: dict[str, bytes | None] = field(default_factory=dict)
    made_dirs: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return sorted(self.before)


def apply(ws: Workspace, changes: dict[str, bytes | None], agent: str) -> Applied:
    """Write and delete as ``changes`` say; on any failure part-way, undo what was done."""
    applied = Applied({path: _current(ws, path) for path in changes})
    for path in changes:
        for parent in reversed(PurePosixPath(path).parents[:-1]):
            folder = parent.as_posix()
            if folder not in applied.made_dirs and not ws.resolve(folder).exists():
                applied.made_dirs.append(folder)
    try:
        for path, data in changes.items():
            if data is None:
                ws.remove(path)
            else:
                ws.write_bytes(path, data, agent=agent)
    except BaseException:
        rollback(ws, applied)
        raise
    return applied


def rollback(ws: Workspace, applied: Applied) -> list[str]:
    """Every touched file as it was, byte for byte; the paths that could not be restored."""
    stuck = []
    for path, data in applied.before.items():
        try:
            if data is None:
                ws.remove(path)
            elif _current(ws, path) != data:
                ws.write_bytes(path, data)
        except Exception as exc:  # one stuck path must not keep the others from being restored
            stuck.append(f"{path}: {exc}")
    for folder in sorted(applied.made_dirs, key=lambda f: f.count("/"), reverse=True):
        with contextlib.suppress(OSError):
            _remove_if_empty(ws, folder)
    return stuck


def _remove_if_empty(ws: Workspace, folder: str) -> None:
    """The folder goes if nothing but bytecode caches the checks left is in it."""
    path = ws.resolve(folder)
    cache = path / "__pycache__"
    if cache.is_dir() and not cache.is_symlink():
        for item in cache.iterdir():
            if item.suffix == ".pyc" and not item.is_symlink():
                item.unlink()
        cache.rmdir()
    path.rmdir()


def tidy_python(text: str) -> str:
    """Trailing spaces, runs of blank lines and the final newline, tidied; ``text`` itself
    unless the result compiles to the very same syntax tree (so no string changed)."""
    if not text.strip():
        return text  # an empty module (a package's __init__.py) stays as it is
    lines = [line.rstrip() for line in text.splitlines()]
    tidied = _BLANK_RUN.sub("\n\n\n", "\n".join(lines).strip("\n")) + "\n"
    if tidied == text:
        return text
    try:
        same = ast.dump(ast.parse(text)) == ast.dump(ast.parse(tidied))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    return tidied if same else text


def tidy(ws: Workspace, paths: list[str]) -> Proposal:
    """The model-free change: :func:`tidy_python` over the project's Python source files."""
    files = []
    for path in paths:
        if not path.endswith(".py") or is_check_file(path):
            continue
        try:
            text = ws.read_text(path)
        except (UnicodeDecodeError, OSError):
            continue
        if (tidied := tidy_python(text)) != text:
            files.append(FileChange(path=path, content=tidied))
    return Proposal(summary="tidy whitespace (trailing spaces, blank-line runs, final newlines)", files=files[:12])
