"""The built-in tools: thin adapters over the Workspace, the Sandbox, git and HTTP.

Every path goes through :class:`~autogpt.tools.workspace.Workspace` (confined, no symlink
followed); every command runs in the :class:`~autogpt.tools.sandbox.Sandbox` with a wall
clock, so a command that hangs comes back as "timed out", not as a stuck agent.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field, model_validator

from autogpt.errors import AutoGPTError
from autogpt.tools.tool import Tool, ToolContext, ToolOutput

SKIP_DIRS = frozenset(
    {".git", ".home", ".tmp", ".autogpt", ".venv", "venv", "node_modules", "__pycache__", ".pytest_cache",
     ".mypy_cache", ".ruff_cache"}
)  # fmt: skip
MAX_LISTED = 300
MAX_MATCHES = 100
MAX_FETCH_BYTES = 200_000


def walk(ctx: ToolContext, folder: str = ".") -> list[str]:
    """The project's files under ``folder`` (relative paths), tools' and environments' folders left out."""
    start = ctx.workspace.resolve(folder) if folder.strip() not in ("", ".") else ctx.workspace.ensure().root
    found: list[str] = []
    for here, dirs, names in os.walk(start):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not Path(here, d).is_symlink())
        for name in sorted(names):
            path = Path(here, name)
            if not path.is_symlink() and path.is_file() and not name.endswith(".tmp"):
                found.append(ctx.workspace.relative(path))
    return found


def unparsable(path: str, text: str) -> str | None:
    """Why ``text`` is not a valid file of its kind (Python, JSON), or None."""
    try:
        if path.endswith(".py"):
            ast.parse(text, filename=path)
        elif path.endswith(".json"):
            json.loads(text)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        return f"line {exc.lineno}: {exc.msg}" + (f": {line[:80]!r}" if line else "")
    except ValueError as exc:
        return str(exc)[:200]
    return None


def write_checked(ctx: ToolContext, path: str, text: str, before: str | None, done: str) -> ToolOutput:
    """Write ``text`` to ``path`` unless that breaks a file that parsed (or makes a new one
    that does not): the change is refused whole, and the model is told the line, so the
    workspace never holds a half-made edit and the error comes with the step that made it."""
    broken = unparsable(path, text)
    if broken and (before is None or unparsable(path, before) is None):
        kind = "Python" if path.endswith(".py") else "JSON"
        return ToolOutput.error(f"{path} would not parse as {kind} ({broken}). Nothing was written; "
                                "send the whole change again, as valid code.")  # fmt: skip
    record = ctx.workspace.write_text(path, text, agent=ctx.agent)
    return ToolOutput(done.format(path=record.path, size=record.size), data={"path": record.path})


def _parsed(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _assigned(code: str) -> list[str]:
    """The names ``code`` assigns at its top level (``app = FastAPI()``, ``notes: list = []``)."""
    names: list[str] = []
    for node in tree.body if (tree := _parsed(code)) else []:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _defined(code: str) -> list[str]:
    """The names ``code`` defines at its top level: functions, classes and assignments."""
    body = tree.body if (tree := _parsed(code)) else []
    defs = [n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    return defs + _assigned(code)


def lost(existing: str, replacement: str) -> list[str]:
    """What a whole-file write would remove: the top-level names ``existing`` defines that
    ``replacement`` does not (a small model "wrote" a route as the whole of app/main.py)."""
    if _parsed(replacement) is None:
        return []  # refused as broken code, which says more
    keep = set(_defined(replacement))
    return [name for name in dict.fromkeys(_defined(existing)) if name not in keep]


def rebound(existing: str, appended: str) -> list[str]:
    """Names the appended Python code defines at top level (assigns, or defines a function or
    class of) that the file already defines there."""
    have = set(_defined(existing))
    return sorted({name for name in _defined(appended) if name in have})


_SETUP = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def without_repeats(existing: str, appended: str) -> tuple[str, list[str]]:
    """``appended`` without the top-level imports, assignments, functions and classes
    ``existing`` already has, word for word (a model appending a test writes the module's
    header again: ``client = TestClient(app)``, ``app = FastAPI()``, which would make a new,
    empty app; the embedded model appended one route three times), and those lines."""
    tree, old = _parsed(appended), _parsed(existing)
    if tree is None or old is None:
        return appended, []
    have = {ast.dump(node) for node in old.body if isinstance(node, _SETUP)}
    lines, dropped = appended.splitlines(keepends=True), []
    for node in reversed(tree.body):
        if isinstance(node, _SETUP) and ast.dump(node) in have and node.end_lineno is not None:
            decorators = getattr(node, "decorator_list", [])
            start = min([node.lineno, *(d.lineno for d in decorators)])  # a function starts at its decorators
            dropped.append("".join(lines[start - 1 : node.end_lineno]).strip())
            del lines[start - 1 : node.end_lineno]
    return "".join(lines).lstrip("\n"), dropped[::-1]


class PathArgs(BaseModel):
    path: str = Field(description="a path relative to the workspace root")


class ReadFile(Tool[PathArgs]):
    name, capability, Args = "read_file", "fs.read", PathArgs
    description = "read a text file of the workspace"

    async def run(self, args: PathArgs, ctx: ToolContext) -> ToolOutput:
        text = ctx.workspace.read_text(args.path)
        return ToolOutput(text or "(empty file)", data={"path": args.path, "size": len(text)})


_FENCED = re.compile(r"\A\s*```[\w+-]*[ \t]*\n(.*?)\n?```\s*\Z", re.DOTALL)


class WriteArgs(BaseModel):
    path: str = Field(description="a path relative to the workspace root")
    content: str = Field(description="the complete new content of the file")

    @model_validator(mode="after")
    def _unfenced(self) -> WriteArgs:
        """Code sent wrapped in a markdown fence (```python ... ```), as small models reply, is
        the code inside it; a markdown file keeps what it was sent."""
        if not self.path.endswith((".md", ".markdown", ".txt")) and (inner := _FENCED.match(self.content)):
            self.content = inner.group(1) + "\n"
        return self


class WriteFile(Tool[WriteArgs]):
    name, capability, Args = "write_file", "fs.write", WriteArgs
    description = "create or replace a file with the given content"

    async def run(self, args: WriteArgs, ctx: ToolContext) -> ToolOutput:
        before = ctx.workspace.read_text(args.path) if ctx.workspace.exists(args.path) else None
        if before is not None and args.path.endswith(".py") and (gone := lost(before, args.content)):
            return ToolOutput.error(
                f"write_file replaces the whole of {args.path}, and this would remove {', '.join(gone[:8])}. "
                "Nothing was written; to add code use append_file, to change lines patch_file, or write the "
                "whole file with what it keeps."
            )
        return write_checked(ctx, args.path, args.content, before, "wrote {path} ({size} bytes)")


class AppendFile(Tool[WriteArgs]):
    name, capability, Args = "append_file", "fs.write", WriteArgs
    description = "add content at the end of a file, on a line of its own (created when missing)"

    async def run(self, args: WriteArgs, ctx: ToolContext) -> ToolOutput:
        before = ctx.workspace.read_text(args.path) if ctx.workspace.exists(args.path) else None
        old, content = before or "", args.content
        dropped: list[str] = []
        if args.path.endswith(".py"):
            content, dropped = without_repeats(old, content)
            if again := rebound(old, content):
                return ToolOutput.error(
                    f"the appended code defines {', '.join(again)} again, which {args.path} already has: that would "
                    "replace them (a second app = FastAPI() drops every route above it). Nothing was written; "
                    "append only the new code, or change what is there with patch_file."
                )
            if dropped and not content.strip():
                said = "; ".join(d.splitlines()[0][:60] for d in dropped)
                return ToolOutput(f"nothing appended: {args.path} already has all of it ({said})")
        if old and not old.endswith("\n") and not content.startswith("\n"):
            old += "\n"  # appended text starts a line: a file without a final newline would swallow it
        if args.path.endswith(".py") and old.strip() and re.match(r"\s*(?:@|def |async def |class )", content):
            old = old.rstrip("\n") + "\n\n\n"  # a new top-level function or class, set apart as usual
        done = "appended to {path} ({size} bytes now)"
        if dropped:
            done += f"; left out {len(dropped)} line(s) the file already has: " + "; ".join(d[:60] for d in dropped)
        return write_checked(ctx, args.path, old + content, before, done)


class Patch(BaseModel):
    old: str = Field(description="text that occurs exactly once in the file")
    new: str = Field(description="what replaces it")


def closest(text: str, wanted: str, *, least: float = 0.6, max_lines: int = 5000) -> str | None:
    """The run of ``text``'s lines most like ``wanted`` (as many lines as it has), if any is
    at least ``least`` alike. A model's 'old' text is most often the file's own with the
    indentation, quotes or a word remembered wrong; shown the real one, it copies it."""
    lines, want = text.splitlines(), wanted.strip("\n").splitlines()
    if not want or len(lines) > max_lines:
        return None
    size, target = len(want), "\n".join(line.strip() for line in want)
    best, best_ratio = None, least - 1e-9
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(target)
    for start in range(max(1, len(lines) - size + 1)):
        window = lines[start : start + size]
        matcher.set_seq1("\n".join(line.strip() for line in window))
        quick = matcher.real_quick_ratio() > best_ratio and matcher.quick_ratio() > best_ratio  # upper bounds
        if quick and (ratio := matcher.ratio()) > best_ratio:
            best, best_ratio = "\n".join(window), ratio
    return best


class PatchArgs(BaseModel):
    path: str = Field(description="a path relative to the workspace root")
    patches: list[Patch] = Field(min_length=1, max_length=20, description="replacements, applied in order")


class PatchFile(Tool[PatchArgs]):
    name, capability, Args = "patch_file", "fs.write", PatchArgs
    description = "replace text in a file (several old -> new patches at once; all apply or none)"

    async def run(self, args: PatchArgs, ctx: ToolContext) -> ToolOutput:
        text = original = ctx.workspace.read_text(args.path)
        for i, patch in enumerate(args.patches, 1):
            count = text.count(patch.old) if patch.old else 0
            if count != 1:
                where = "is empty" if not patch.old else f"occurs {count} times"
                near = closest(text, patch.old) if count == 0 and patch.old.strip() else None
                hint = f" The closest text in the file is:\n{near}\nCopy it exactly as 'old'." if near else ""
                return ToolOutput.error(f"patch {i} of {args.path}: 'old' {where}; it must occur exactly once. "
                                        f"Nothing was changed.{hint}")  # fmt: skip
            text = text.replace(patch.old, patch.new, 1)
        done = f"patched {{path}} ({len(args.patches)} change(s))"
        return write_checked(ctx, args.path, text, original, done)


class ListArgs(BaseModel):
    path: str = Field(".", description="a folder relative to the workspace root")


class ListFiles(Tool[ListArgs]):
    name, capability, Args = "list_files", "fs.read", ListArgs
    description = "list the files under a folder, recursively"

    async def run(self, args: ListArgs, ctx: ToolContext) -> ToolOutput:
        files = walk(ctx, args.path)
        more = f"\n[... {len(files) - MAX_LISTED} more]" if len(files) > MAX_LISTED else ""
        return ToolOutput("\n".join(files[:MAX_LISTED]) + more if files else "(no files)", data={"count": len(files)})


class GlobArgs(BaseModel):
    pattern: str = Field(description="a glob over relative paths, e.g. '**/*.py' or 'tests/test_*.py'")


class GlobFiles(Tool[GlobArgs]):
    name, capability, Args = "glob", "fs.read", GlobArgs
    description = "the files whose relative path matches a glob pattern"

    async def run(self, args: GlobArgs, ctx: ToolContext) -> ToolOutput:
        pattern = args.pattern.removeprefix("./")
        loose = pattern.replace("**/", "")
        files = [f for f in walk(ctx) if fnmatch.fnmatch(f, pattern) or fnmatch.fnmatch(f, loose)]
        return ToolOutput("\n".join(files[:MAX_LISTED]) if files else "(no match)", data={"count": len(files)})


class SearchArgs(BaseModel):
    pattern: str = Field(min_length=1, description="text to look for (a Python regular expression if regex)")
    regex: bool = False
    glob: str = Field("*", description="only files whose relative path matches this glob")


class SearchFiles(Tool[SearchArgs]):
    name, capability, Args = "search", "fs.read", SearchArgs
    description = "find lines containing a text or regular expression in the workspace's files"

    async def run(self, args: SearchArgs, ctx: ToolContext) -> ToolOutput:
        try:
            found = re.compile(args.pattern if args.regex else re.escape(args.pattern))
        except re.error as exc:
            return ToolOutput.error(f"bad regular expression {args.pattern!r}: {exc}")
        hits: list[str] = []
        for path in walk(ctx):
            if not fnmatch.fnmatch(path, args.glob) and not fnmatch.fnmatch(Path(path).name, args.glob):
                continue
            try:
                lines = ctx.workspace.read_text(path).splitlines()
            except (AutoGPTError, UnicodeDecodeError):
                continue
            hits += [f"{path}:{n}: {line.strip()[:200]}" for n, line in enumerate(lines, 1) if found.search(line)]
            if len(hits) >= MAX_MATCHES:
                break
        return ToolOutput("\n".join(hits[:MAX_MATCHES]) if hits else "(no match)", data={"count": len(hits)})


class RunArgs(BaseModel):
    command: str = Field(min_length=1, description="a shell command, run in the sandbox (no network)")
    cwd: str = Field(".", description="folder to run it in, relative to the workspace root")


def python_readable() -> tuple[Path, ...]:
    """This Python's installation, so ``python -m pytest`` works inside the Sandbox."""
    return tuple(dict.fromkeys(Path(p).resolve() for p in (sys.prefix, sys.base_prefix)))


async def sandboxed(argv: list[str], ctx: ToolContext, cwd: str = ".") -> tuple[bool, str, dict[str, Any]]:
    """Run ``argv`` in the Sandbox with this context's limits: (passed, evidence, facts)."""
    from autogpt.tools.sandbox import Limits, Sandbox

    sandbox = Sandbox(ctx.workspace, readable=python_readable(), allow_unconfined=ctx.allow_unconfined)
    env = {"PATH": ":".join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ left in the user's project
    result = await sandbox.run(argv, cwd=cwd, limits=Limits(wall_seconds=ctx.command_seconds), env=env)
    head = f"exit {result.returncode}"
    if result.timed_out:
        head = f"timed out after {ctx.command_seconds:g}s (stopped)"
    elif result.killed_by:
        head += f" (killed: {result.killed_by})"
    text = f"{head}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-2000:]}"
    facts = {"returncode": result.returncode, "timed_out": result.timed_out, "sandbox": sandbox.backend}
    return result.ok, text, facts


class RunCommand(Tool[RunArgs]):
    name, capability, Args = "run_command", "exec.run", RunArgs
    description = "run a shell command in the sandbox, confined to the workspace, with a time limit"

    async def run(self, args: RunArgs, ctx: ToolContext) -> ToolOutput:
        passed, text, facts = await sandboxed(["/bin/sh", "-c", args.command], ctx, args.cwd)
        return ToolOutput(text, ok=passed, data=facts)


class CommitArgs(BaseModel):
    message: str = Field(min_length=1, description="the commit message")
    paths: list[str] | None = Field(None, description="only these files (default: everything changed)")


class Commit(Tool[CommitArgs]):
    name, capability, Args = "commit", "git.commit", CommitArgs
    description = "commit the workspace's changes to its git history"

    async def run(self, args: CommitArgs, ctx: ToolContext) -> ToolOutput:
        from autogpt.tools.git import Repo

        for path in args.paths or ():
            ctx.workspace.resolve(path)
        done = await Repo(ctx.workspace.root, data_dir=ctx.data_dir).commit(args.message, ctx.agent, args.paths)
        if done is None:
            return ToolOutput("nothing to commit")
        withheld = f"; withheld (look like secrets): {', '.join(done.withheld)}" if done.withheld else ""
        return ToolOutput(f"committed {done.sha[:12]}: {', '.join(done.files)}{withheld}", data={"sha": done.sha})


class FetchArgs(BaseModel):
    url: str = Field(description="an http:// or https:// URL")


class FetchUrl(Tool[FetchArgs]):
    name, capability, Args = "fetch_url", "net.http", FetchArgs
    description = "GET a URL and return the start of its body (only when fetching is allowed)"

    async def run(self, args: FetchArgs, ctx: ToolContext) -> ToolOutput:
        if not args.url.startswith(("http://", "https://")):
            return ToolOutput.error(f"only http(s) URLs can be fetched, not {args.url!r}")
        try:
            async with (
                httpx.AsyncClient(timeout=20, follow_redirects=True) as client,
                client.stream("GET", args.url) as response,
            ):
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_FETCH_BYTES:
                        break
        except httpx.HTTPError as exc:
            return ToolOutput.error(f"GET {args.url}: {type(exc).__name__}: {exc}")
        text = body[:MAX_FETCH_BYTES].decode("utf-8", errors="replace")
        return ToolOutput(f"HTTP {response.status_code}\n{text}", ok=response.status_code < 400)


def builtin_tools() -> list[Tool[Any]]:
    return [
        ReadFile(), WriteFile(), AppendFile(), PatchFile(), ListFiles(), GlobFiles(), SearchFiles(),
        RunCommand(), Commit(), FetchUrl(),
    ]  # fmt: skip
