"""GitGPT: keeps the project's history, one commit per finished task, authored as the agent
that did the work."""

from __future__ import annotations

import asyncio

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Command, Result, Task
from autogpt.tools.git import Repo


class GitGPT(Agent):
    name = "GitGPT"
    role = "git"
    persona = "You are GitGPT. You keep a clean, honest history of the project."
    capabilities = frozenset({"git.commit"})
    main_action = "commit"  # a plain line is a commit message

    def _repo(self) -> Repo:
        if self.workspace is None:
            raise ConfigError("GitGPT needs a workspace")
        return Repo(self.workspace.ensure().root, data_dir=self.settings.data_dir)

    @property
    def _lock(self) -> asyncio.Lock:
        """Commits are serialized: git's index admits one writer at a time."""
        if not hasattr(self, "_commit_lock"):
            self._commit_lock = asyncio.Lock()
        return self._commit_lock

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return await self.commit(Command("commit", task.description, args={"author": self.name}), ctx)

    @action("init", help="create the repository and its .gitignore")
    async def init(self, command: Command, ctx: Context) -> Result:
        created = await self._repo().init()
        return Result(output="repository created" if created else "repository already there")

    @action(
        "commit",
        help="commit as args.author (default GitGPT) with the input as message: args.paths if given, else every change",
    )
    async def commit(self, command: Command, ctx: Context) -> Result:
        message = command.input.strip()
        if not message:
            raise InvalidInputError("a commit needs a message")
        author = str(command.args.get("author") or self.name)
        paths = command.args.get("paths")
        if paths is not None and not (isinstance(paths, list) and all(isinstance(p, str) for p in paths)):
            raise InvalidInputError("args.paths must be a list of workspace paths")
        async with self._lock:
            done = await self._repo().commit(message, author, paths)
        if done is None:
            return Result(output="nothing to commit", data={"sha": ""})
        note = f"; left out (look like secrets): {', '.join(done.withheld)}" if done.withheld else ""
        return Result(
            output=f"{done.sha[:10]} {message.splitlines()[0]} ({len(done.files)} files, by {author}){note}",
            data={"sha": done.sha, "files": list(done.files), "withheld": list(done.withheld), "author": author},
        )

    @action("log", help="the project's history")
    async def log(self, command: Command, ctx: Context) -> Result:
        entries = await self._repo().log()
        return Result(
            output="\n".join(f"{sha[:10]} {author:<14} {subject}" for sha, author, subject in entries)
            or "(no commits)",
            data={"commits": [{"sha": s, "author": a, "subject": m} for s, a, m in entries]},
        )
