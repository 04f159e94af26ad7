"""Git for generated projects: a repository, a sensible .gitignore, commits per agent.

Git runs with hooks disabled and no reliance on the machine's git identity: each commit
is authored as the agent that did the work. Nothing that looks like a secret is ever
committed; such files are left out and named in the result.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from autogpt.errors import AgentError, ConfigError
from autogpt.iac.transfer import looks_secret

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

_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")


@dataclass(frozen=True)
class CommitResult:
    sha: str
    files: tuple[str, ...]
    withheld: tuple[str, ...] = field(default=())  # files left out because they look like secrets


def author_email(agent: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '-', agent.lower()).strip('-') or 'agent'}@agents.autogpt.invalid"


class Repo:
    def __init__(self, root: Path) -> None:
        if shutil.which("git") is None:
            raise ConfigError("git is not installed", hint="install git to keep a history of the project")
        self.root = root

    async def _git(self, *args: str, author: str = "autogpt") -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / ".home"),  # never the user's config or identity
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": author_email(author),
            "GIT_COMMITTER_NAME": "GitGPT",
            "GIT_COMMITTER_EMAIL": author_email("GitGPT"),
            "LANG": "C.UTF-8",
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
        ignore = self.root / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE, encoding="utf-8")
        if (self.root / ".git").exists():
            return False
        await self._git("init", "-q")
        return True

    async def commit(self, message: str, author: str, paths: Collection[str] | None = None) -> CommitResult | None:
        """Commit as ``author``; ``None`` when nothing changed.

        With ``paths``, only those files (and the ``.gitignore``) go into the commit, so an
        agent's commit never sweeps up what another agent is still writing next to it; the
        rest stays staged for its own commit. Without, everything changed is committed.
        """
        await self.init()
        await self._git("add", "-A")
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
        path = self.root / relative
        try:
            return looks_secret(path.read_bytes())
        except OSError:
            return False

    async def log(self) -> list[tuple[str, str, str]]:
        """(sha, author, subject) of every commit, newest first."""
        if not (self.root / ".git").exists():
            return []
        out = await self._git("log", "--format=%H%x1f%an%x1f%s")
        return [tuple(line.split("\x1f", 2)) for line in out.splitlines() if line]  # type: ignore[misc]
