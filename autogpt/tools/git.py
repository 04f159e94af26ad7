"""Git for generated projects: a repository, a sensible .gitignore, commits per agent.

Nothing generated may configure git, because git runs on the host: a ``core.fsmonitor``
or a filter driver is a command. So the repository's git folder (``GIT_DIR``) and git's
HOME live outside the workspace, in a private per-workspace folder under the data folder
(:func:`state_dir`), where neither the Sandbox nor a model reply can write; system and
global config are off, and ``-c`` overrides switch off hooks, fsmonitor and submodule
recursion whatever any config says. A ``.gitattributes`` in the tree can only name
drivers, and every driver would have to be defined in config we alone write. Each commit
is authored as the agent that did the work. Nothing that looks like a secret is ever
committed; such files are left out and named in the result.

That private folder is found by the workspace's path, and belongs to the folder that was
there when it was made (its :meth:`~autogpt.tools.workspace.Workspace.identity`): a project
deleted and built again at the same path starts a history of its own, and the old one is
kept beside it (``git-<when>-<old id>``, the newest three), not continued. The id is in the
workspace's ``.autogpt``, which the Sandbox binds read-only: generated code cannot pass the
folder off as another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import stat
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from autogpt.config import default_data_dir
from autogpt.errors import AgentError, ConfigError
from autogpt.iac.transfer import looks_secret
from autogpt.logs import get_logger
from autogpt.tools.workspace import TEMP_GLOB, Workspace

log = get_logger(__name__)

GITIGNORE = """\
# environments and dependencies
.venv/
venv/
node_modules/
__pycache__/
*.pyc
# sandbox scratch space and the workspace's own state
.home/
.tmp/
.autogpt/
# secrets never belong in git
.env
.env.*
*.key
*.pem
"""

_OVERRIDES = {
    "core.hooksPath": "/dev/null",
    "core.fsmonitor": "false",
    "core.attributesFile": "/dev/null",
    "core.untrackedCache": "false",
    "core.sshCommand": "false",
    "commit.gpgsign": "false",
    "init.defaultBranch": "main",
    "init.templateDir": "",  # no sample hooks copied from the system's template
    "protocol.allow": "never",
    "submodule.recurse": "false",
    "diff.ignoreSubmodules": "all",
    "status.submoduleSummary": "false",
    "safe.directory": "*",
}
_MAX_SCAN = 1_000_000  # all looks_secret reads
_HISTORIES_KEPT = 3  # set-aside histories of earlier folders at one path
_SAFE = tuple(arg for key, value in _OVERRIDES.items() for arg in ("-c", f"{key}={value}"))


def state_dir(root: Path, data_dir: Path | None = None) -> Path:
    """Where the repository of the workspace at ``root`` keeps git's own files (outside it)."""
    resolved = Path(root).resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.name)[:40] or "root"
    return (data_dir or default_data_dir()) / "repos" / f"{name}-{key}"


@dataclass(frozen=True)
class CommitResult:
    sha: str
    files: tuple[str, ...]
    withheld: tuple[str, ...] = field(default=())  # files left out because they look like secrets


def author_email(agent: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', agent.lower()).strip('-') or 'agent'}@agents.autogpt.invalid"


class Repo:
    def __init__(self, root: Path, *, data_dir: Path | None = None) -> None:
        if shutil.which("git") is None:
            raise ConfigError("git is not installed", hint="install git to keep a history of the project")
        self.root = Path(root).resolve()
        self.state = state_dir(self.root, data_dir)
        self.git_dir, self.home = self.state / "git", self.state / "home"

    def git_env(self) -> dict[str, str]:
        """The environment every git call gets: nothing of the user's or the workspace's config."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_DIR": str(self.git_dir),
            "GIT_WORK_TREE": str(self.root),
            "HOME": str(self.home),  # never the user's config or identity, never the workspace
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_ATTR_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LANG": "C.UTF-8",
        }

    async def _git(self, *args: str, author: str = "autogpt") -> str:
        env = self.git_env() | {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": author_email(author),
            "GIT_COMMITTER_NAME": "GitGPT",
            "GIT_COMMITTER_EMAIL": author_email("GitGPT"),
        }
        proc = await asyncio.create_subprocess_exec(
            "git", *_SAFE, *args, cwd=self.root, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise AgentError(f"git {args[0]} failed: {err.decode(errors='replace').strip()[-500:]}")
        return out.decode(errors="replace")

    async def init(self) -> bool:
        """Make the repository and its .gitignore; ``False`` if it already existed."""
        self.root.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # never through a link
        with contextlib.suppress(FileExistsError):
            fd = os.open(self.root / ".gitignore", flags, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(GITIGNORE)
        self._claim()
        if (self.git_dir / "HEAD").exists():
            return False
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.state.chmod(0o700)
        self.home.mkdir(exist_ok=True, mode=0o700)
        await self._git("init", "-q")
        self._claim()
        return True

    async def commit(self, message: str, author: str, paths: Collection[str] | None = None) -> CommitResult | None:
        """Commit as ``author``; ``None`` when nothing changed.

        With ``paths``, only those files (and the ``.gitignore``) go into the commit, so an
        agent's commit never sweeps up what another agent is still writing next to it; the
        rest stays staged for its own commit. Without, everything changed is committed.
        """
        await self.init()
        # A file being written now is a temporary name for a moment: listed, then renamed
        # before git reads it, it failed the whole commit ("unable to stat").
        await self._git("add", "-A", "--", ".", f":(exclude,glob)**/{TEMP_GLOB}")
        staged = [f for f in (await self._git("diff", "--cached", "--name-only", "-z")).split("\0") if f]
        withheld = [f for f in staged if self._looks_secret(f)]
        if withheld:
            await self._git("rm", "--cached", "-q", "--", *withheld)
        wanted = None if paths is None else {*paths, ".gitignore"}
        files = [f for f in staged if f not in withheld and (wanted is None or f in wanted)]
        if not files:
            return None
        if wanted is None:
            await self._git("commit", "-q", "-m", message, author=author)
        else:
            await self._git("commit", "-q", "-m", message, "--", *files, author=author)
        sha = (await self._git("rev-parse", "HEAD")).strip()
        return CommitResult(sha, tuple(files), tuple(withheld))

    def _looks_secret(self, relative: str) -> bool:
        """Read without following a link and without blocking on a FIFO the generated code left."""
        try:
            fd = os.open(self.root / relative, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as fh:
            return stat.S_ISREG(os.fstat(fd).st_mode) and looks_secret(fh.read(_MAX_SCAN))

    def _claim(self) -> None:
        """Make the repository this folder's: one made for an earlier folder at the same path
        is set aside, whole, and the folder's id recorded (an old repository without a record
        is taken as this folder's)."""
        if not self.state.is_dir():
            return
        marker = self.state / "workspace"
        current = Workspace(self.root).identity
        recorded = marker.read_text(encoding="ascii").strip() if marker.is_file() else ""
        if recorded == current:
            return
        if recorded and self.git_dir.exists():
            aside = self.state / f"git-{time.time_ns()}-{recorded.partition('-')[0]}"  # names sort by age
            self.git_dir.rename(aside)
            log.info("history_set_aside", workspace=str(self.root), kept=str(aside))
            for stale in sorted(self.state.glob("git-*"), reverse=True)[_HISTORIES_KEPT:]:
                shutil.rmtree(stale, ignore_errors=True)
        marker.write_text(current + "\n", encoding="ascii")

    async def log(self) -> list[tuple[str, str, str]]:
        """(sha, author, subject) of every commit, newest first."""
        if self.root.is_dir():
            self._claim()
        if not (self.git_dir / "HEAD").exists():
            return []
        out = await self._git("log", "--format=%H%x1f%an%x1f%s")
        return [tuple(line.split("\x1f", 2)) for line in out.splitlines() if line]  # type: ignore[misc]
