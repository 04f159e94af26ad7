"""OptimizerGPT: improves a project's structure without changing what it does.

The model's part is small: it proposes a change (whole files to write, files to remove).
Everything that decides is deterministic: the project's checks (:mod:`autogpt.agents.checks`)
run before the change, and a project that already fails one is refused, since there would
be nothing to preserve; the change is checked and applied through the Workspace
(:mod:`autogpt.agents.changeset`); the checks run again, and if anything that passed before
fails now, every file is restored byte for byte and the report names what failed and why.
A change that keeps every check is committed by GitGPT (or, when no GitGPT is connected,
with the same git tool here), authored as OptimizerGPT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import Any

from autogpt.agents.base import Agent, Context, action
from autogpt.agents.changeset import (
    SOURCE_SUFFIXES,
    Applied,
    Proposal,
    apply,
    changes_of,
    is_check_file,
    rollback,
    tidy,
)
from autogpt.agents.checks import CheckRun, run_checks
from autogpt.errors import (
    AgentError,
    AutoGPTError,
    ConfigError,
    InvalidInputError,
    NoLiveAgentError,
    UnknownRecipientError,
)
from autogpt.iac.envelope import Address, Command, Result
from autogpt.llm.base import Message, Options
from autogpt.tools.builtin_tools import walk
from autogpt.tools.sandbox import require_confinement
from autogpt.tools.tool import ToolContext

DEFAULT_GOAL = "split long modules, remove duplication, add type hints and docstrings"
_MAX_SHOWN = 24_000  # characters of project files in the prompt


class BaselineFailedError(InvalidInputError):
    """The project fails its own checks before any change (or has none that exercise it),
    so a change could not be shown to keep its behaviour."""


Propose = Callable[[CheckRun, ToolContext], Awaitable[Proposal]]


class OptimizerGPT(Agent):
    name = "OptimizerGPT"
    role = "optimizer"
    persona = (
        "You are OptimizerGPT. You improve a project's structure (split long modules, remove duplication, "
        "add type hints and docstrings) without ever changing what it does."
    )
    capabilities = frozenset({"llm.chat", "fs.read", "fs.write", "exec.run", "git.commit"})
    main_action = "run"

    @property
    def _lock(self) -> asyncio.Lock:
        """One change at a time: a second one would be judged against the first's files."""
        if not hasattr(self, "_change_lock"):
            self._change_lock = asyncio.Lock()
        return self._change_lock

    @action("run", help="propose a refactor (the input says what to improve); kept only if every check still passes")
    async def run(self, command: Command, ctx: Context) -> Result:
        goal = command.input.strip() or DEFAULT_GOAL

        async def propose(baseline: CheckRun, tool_ctx: ToolContext) -> Proposal:
            await ctx.status("asking the model for a change")
            window = self.llm.context_window
            reply_tokens = max(self.reply_tokens, min(4096, window // 2))
            shown = max(2000, min(_MAX_SHOWN, (window - reply_tokens - 600) * 3))  # about 3 characters a token
            prompt = _prompt(goal, baseline, tool_ctx, shown)
            messages = [Message.system(self.persona), Message.user(prompt)]
            options = Options(max_tokens=reply_tokens, temperature=self.settings.temperature)
            reply = await self.think_structured(
                messages, Proposal, repairs=self.settings.structured_repairs, options=options
            )
            return reply.value

        return await self._optimize(propose, ctx)

    @action("tidy", help="model-free: trailing spaces, blank-line runs and final newlines of Python files")
    async def tidy(self, command: Command, ctx: Context) -> Result:
        async def propose(baseline: CheckRun, tool_ctx: ToolContext) -> Proposal:
            return tidy(tool_ctx.workspace, walk(tool_ctx))

        return await self._optimize(propose, ctx)

    @action("check", help="run the project's checks (compile, tests, acceptance, contract) and change nothing")
    async def check(self, command: Command, ctx: Context) -> Result:
        tool_ctx = self._tool_ctx()
        require_confinement(self.settings.allow_unconfined)
        run = await run_checks(tool_ctx, self.settings, ctx.status)
        lines = [f"checks: {run.summary()}", *(f"  {c.line()}" for c in run.checks)]
        return Result(ok=not run.failed, output="\n".join(lines), data={"checks": run.rows()})

    # -- the flow -------------------------------------------------------------------------

    def _tool_ctx(self) -> ToolContext:
        if self.workspace is None:
            raise ConfigError(f"{self.name} needs a workspace holding a project", hint="pass --workspace DIR")
        settings = self.settings
        return ToolContext(
            self.workspace.ensure(), agent=self.name, data_dir=settings.data_dir,
            command_seconds=settings.act_command_seconds, allow_unconfined=settings.allow_unconfined,
        )  # fmt: skip

    async def _optimize(self, propose: Propose, ctx: Context) -> Result:
        """baseline checks -> propose -> apply -> checks again -> keep and commit, or roll back."""
        tool_ctx = self._tool_ctx()
        require_confinement(self.settings.allow_unconfined)  # before any model call: refusing costs nothing
        async with self._lock:
            await ctx.status("checking the project before any change")
            baseline = await run_checks(tool_ctx, self.settings, ctx.status)
            _require_sound(baseline)
            proposal = await propose(baseline, tool_ctx)
            changes = changes_of(tool_ctx.workspace, proposal)  # refuses before anything is written
            if not changes:  # nothing changed, nothing broken
                return Result(
                    output=f"no change: the proposal changes no file ({proposal.summary})",
                    data={"kept": False, "changed": [], "before": baseline.rows()},
                )  # fmt: skip
            await ctx.status(f"applying the change to {len(changes)} file(s)")
            applied = apply(tool_ctx.workspace, changes, self.name)
            try:
                await ctx.status("checking the project after the change")
                after = await run_checks(tool_ctx, self.settings, ctx.status)
            except BaseException:
                rollback(tool_ctx.workspace, applied)
                raise
            lost = baseline.regressions(after)
            if lost:
                stuck = rollback(tool_ctx.workspace, applied)
                return _rolled_back(proposal, applied, baseline, after, lost, stuck)
            commit = await self._commit(applied, proposal.summary, ctx)
        return _kept(proposal, applied, baseline, after, commit)

    async def _commit(self, applied: Applied, summary: str, ctx: Context) -> dict[str, Any]:
        """GitGPT commits the change; with none connected, the same git tool does it here.
        History is a convenience: a failed commit leaves the change in place and says so."""
        message = f"optimizer: {summary.strip().splitlines()[0][:70] if summary.strip() else 'refactor'}\n\n{summary}"
        args = {"author": self.name, "paths": applied.paths}
        try:
            done = await self.bus.call(
                Address.role("git"), Command("commit", message, args=args), timeout=120,
                session_id=ctx.session_id, files=self.workspace,
            )  # fmt: skip
            return {"by": "GitGPT", "sha": str(done.data.get("sha", "")), "line": done.output}
        except (NoLiveAgentError, UnknownRecipientError):
            pass
        except AutoGPTError as exc:
            return {"by": "", "sha": "", "line": f"not committed: {exc}"}
        from autogpt.tools.git import Repo

        assert self.workspace is not None
        try:
            made = await Repo(self.workspace.root, data_dir=self.settings.data_dir).commit(
                message, self.name, applied.paths
            )
        except AutoGPTError as exc:
            return {"by": "", "sha": "", "line": f"not committed: {exc}"}
        if made is None:
            return {"by": "", "sha": "", "line": "nothing to commit"}
        return {"by": self.name, "sha": made.sha, "line": f"{made.sha[:10]} (no GitGPT connected: committed here)"}


def _require_sound(baseline: CheckRun) -> None:
    if failed := baseline.failed:
        lines = "\n".join(f"  {c.line()}" for c in failed)
        raise BaselineFailedError(
            f"the project fails {len(failed)} of {len(baseline.checks)} checks before any change, so there is no "
            f"behaviour to preserve; nothing was changed:\n{lines}",
            hint="fix the project first, then optimise it",
        )
    if all(c.name == "compile" for c in baseline.checks):
        raise BaselineFailedError(
            "the project has no tests and no acceptance examples, so nothing could show a change keeps its "
            "behaviour; nothing was changed",
            hint="add tests (or acceptance.json for a server), then optimise",
        )


def _prompt(goal: str, baseline: CheckRun, ctx: ToolContext, budget: int = _MAX_SHOWN) -> str:
    """The request, the source files the model may change and the files that judge the change
    (source files first), as many as ``budget`` characters allow, and the checks to keep."""
    editable = [p for p in walk(ctx) if PurePosixPath(p).suffix in SOURCE_SUFFIXES and not is_check_file(p)]
    fixed = [p for p in walk(ctx) if is_check_file(p)]
    shown: dict[str, list[str]] = {"editable": [], "fixed": []}
    for kind, paths in (("editable", editable), ("fixed", fixed)):
        for path in paths:
            try:
                text = ctx.workspace.read_text(path)
            except (UnicodeDecodeError, AutoGPTError):
                continue
            if len(text) > budget:
                shown[kind].append(f"--- {path} ({len(text)} characters, not shown)")
                continue
            budget -= len(text)
            shown[kind].append(f"--- {path}\n{text}")
    checks = "\n".join(f"- {c.name}" for c in baseline.checks)
    return (
        f"Improve this project's structure without changing its behaviour: {goal}.\n\n"
        f"Project files you may change:\n{chr(10).join(shown['editable']) or '(none)'}\n\n"
        f"Files that judge the change (read them, never change them):\n{chr(10).join(shown['fixed']) or '(none)'}\n\n"
        f"These checks pass now and must all pass after your change:\n{checks}\n\n"
        "Keep every public name, route and import path working. Reply as JSON with 'summary' (one sentence), "
        "'files' (each new or changed source file: relative 'path' and its complete 'content') and 'remove' "
        "(source files whose code moved elsewhere)."
    )


def _kept(proposal: Proposal, applied: Applied, before: CheckRun, after: CheckRun, commit: dict[str, Any]) -> Result:
    lines = [
        f"KEPT: {proposal.summary}",
        f"changed: {', '.join(applied.paths)}",
        f"checks before: {before.summary()}; after: {after.summary()}",
        f"commit: {commit['line']}",
    ]
    data = {
        "kept": True, "changed": applied.paths, "before": before.rows(), "after": after.rows(),
        "failed": [], "commit": commit,
    }  # fmt: skip
    return Result(output="\n".join(lines), data=data)


def _rolled_back(
    proposal: Proposal, applied: Applied, before: CheckRun, after: CheckRun, lost: list[Any], stuck: list[str]
) -> Result:
    lines = [
        f"ROLLED BACK: {proposal.summary}",
        f"restored: {', '.join(applied.paths)}" if not stuck else f"could NOT restore: {'; '.join(stuck)}",
        f"checks before: {before.summary()}; after the change: {after.summary()}",
        "failed after the change (passed before):",
        *(f"  {c.line()}" for c in lost),
    ]
    data = {
        "kept": False, "changed": applied.paths, "before": before.rows(), "after": after.rows(),
        "failed": [c.name for c in lost], "reasons": {c.name: c.evidence for c in lost}, "not_restored": stuck,
    }  # fmt: skip
    if stuck:
        raise AgentError("\n".join(lines))
    return Result(ok=False, output="\n".join(lines), data=data)
