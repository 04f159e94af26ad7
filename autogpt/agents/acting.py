"""An agent that acts on its workspace: intent -> plan -> approval -> act -> verify -> reflect -> report.

* **Plan** and every later decision are structured replies (:func:`complete_structured`),
  so a model's free text never becomes an action by accident.
* **Approval** comes before anything changes: the plan, with every command it means to
  run, goes to an :data:`Approver` (a person at a terminal). A command, commit, fetch or
  MCP call the approved plan did not name is asked about again when it comes up. ``yolo``
  skips asking; with neither a person to ask nor ``yolo``, nothing is done at all
  (:class:`ApprovalRequiredError`).
* **Acting** goes through a :class:`~autogpt.tools.registry.Registry` holding only the
  agent's granted capabilities; an unknown tool, bad arguments, a path outside the
  workspace or a command that hangs comes back to the model as one error line of
  evidence, and the loop goes on within its step and token budgets.
* **Verify** runs the project's own tests in the Sandbox (pyproject.toml: pytest;
  package.json: ``npm test``; Makefile: ``make test``). The report states what the tests
  did, whatever the model concluded.
* Cancellation (Ctrl-C) stops at the next await; a running command is killed by the
  Sandbox and every file write is atomic, so the workspace holds whole files only.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from autogpt.agents import task_evidence
from autogpt.agents.base import Agent, Context
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError, StructuredOutputError
from autogpt.iac.envelope import Command, Result
from autogpt.llm.base import Message, Options
from autogpt.llm.structured import Structured
from autogpt.logs import get_logger
from autogpt.tools.builtin_tools import sandboxed, walk
from autogpt.tools.registry import Registry
from autogpt.tools.tool import Tool, ToolContext, ToolOutput

log = get_logger(__name__)

Approver = Callable[[str], Awaitable[bool]]
"""Shown a question (the plan, or one call); True to go ahead."""
Say = Callable[[str], Awaitable[None]]
Think = Callable[[Sequence[Message], type[BaseModel], "dict[str, Any] | None"], Awaitable[Structured[Any]]]
"""Messages, the reply's model, and the schema to guide the provider with (None: the model's own)."""
GATED = frozenset({"run_command", "commit", "fetch_url"})  # and every MCP tool: asked about unless planned
# The tools in the order a change uses them, as the model is shown them: a small model offered
# the alphabetical list called each tool in turn (append, commit, glob, list...) whatever the task.
TOOL_ORDER = ("read_file", "write_file", "append_file", "patch_file", "search", "glob", "list_files",
              "run_command", "commit", "fetch_url")  # fmt: skip
READING = frozenset({"read_file", "search", "glob", "list_files"})  # tools that change nothing
REPEATS = 4  # calls in a row sent again with nothing changed before a run stops as stuck
UNREPEATABLE = frozenset({"fetch_url"})  # what they see is not the workspace: a retry may differ
# Calls a guided turn may make: a few, then their results; a small model asked for up to
# eight wrote a script of every tool instead of the step at hand.
GUIDED_CALLS = 3


class ApprovalRequiredError(InvalidInputError):
    """Acting needs someone to approve the plan, or ``--yolo``."""


def refusal() -> ApprovalRequiredError:
    return ApprovalRequiredError(
        "refusing to act: changing the workspace needs approval, and there is no terminal to ask on; "
        "nothing was changed",
        hint="rerun with --yolo to act without asking",
    )


class ActPlan(BaseModel):
    summary: str = Field(description="one sentence: what will change")
    steps: list[str] = Field(
        min_length=1, max_length=12, description="short steps, each naming the file it changes and what, in words"
    )
    commands: list[str] = Field(default_factory=list, description="every shell command you will run, verbatim")
    tools: list[str] = Field(default_factory=list, description="other tools you will use (commit, fetch_url, mcp)")


class ToolCallSpec(BaseModel):
    tool: str = Field(description="a tool's name, from the list")
    args: dict[str, Any] = Field(default_factory=dict, description="the tool's arguments")


class Turn(BaseModel):
    thought: str = Field("", description="one line: why these calls")
    calls: list[ToolCallSpec] = Field(default_factory=list, max_length=8)
    done: bool = Field(False, description="true once the change is complete")


class Verdict(BaseModel):
    verdict: Literal["done", "retry", "give_up"]
    reasons: str = Field(description="why, in one or two sentences")
    fixes: list[str] = Field(default_factory=list, description="for retry: what to change")


def in_use_order(tools: Sequence[Tool[Any]]) -> list[Tool[Any]]:
    """``tools`` in :data:`TOOL_ORDER`; others (MCP tools) after, by name."""
    rank = {name: i for i, name in enumerate(TOOL_ORDER)}
    return sorted(tools, key=lambda t: (rank.get(t.name, len(rank)), t.name))


def plan_guide(tool_names: Sequence[str]) -> dict[str, Any]:
    """An :class:`ActPlan`'s schema, bounded for a provider that compiles it to a grammar: a few
    short steps and commands, and tools only by their names. A small model left unbounded wrote
    a code block into its plan, one "step" per line, for thousands of tokens."""
    schema = ActPlan.model_json_schema()
    props = schema["properties"]
    props["summary"]["maxLength"] = 160
    props["steps"] |= {"maxItems": 6, "items": {"type": "string", "maxLength": 160}}
    props["commands"] |= {"maxItems": 4, "items": {"type": "string", "maxLength": 160}}
    props["tools"] |= {"maxItems": 4, "items": {"enum": list(tool_names)} if tool_names else {"type": "string"}}
    schema["required"] = ["summary", "steps", "commands", "tools"]
    return schema


def turn_guide(tools: Sequence[Tool[Any]], *, first: bool) -> dict[str, Any]:
    """A :class:`Turn`'s schema with each call spelt out per tool (its name, its own arguments).

    A provider that compiles schemas to a grammar (the embedded model) can then only write
    calls to tools that exist, with the arguments they take; the first turn must make at least
    one call, so a small model cannot answer a task by saying it is done, and no turn makes
    more than :data:`GUIDED_CALLS`. Replies are still validated as a plain :class:`Turn`, and
    the registry judges each call."""
    schema = Turn.model_json_schema()
    defs: dict[str, Any] = {}
    variants = []
    for tool in in_use_order(tools):
        args = dict(tool.describe()["args"] or {"type": "object"})
        prefix = f"{tool.name}__"
        for name, sub in args.pop("$defs", {}).items():
            defs[prefix + name] = _prefixed(sub, prefix)
        variants.append(
            {
                "type": "object",
                "properties": {"tool": {"const": tool.name}, "args": _prefixed(args, prefix)},
                "required": ["tool", "args"],
            }
        )
    calls = schema["properties"]["calls"]
    calls["items"] = {"anyOf": variants} if variants else calls["items"]
    calls["maxItems"] = GUIDED_CALLS
    if first and variants:
        calls["minItems"] = 1
    schema["required"] = ["thought", "calls", "done"]
    schema["$defs"] = defs
    return schema


def _prefixed(node: Any, prefix: str) -> Any:
    """``node`` with every local ``$ref`` renamed under ``prefix`` (one tool's definitions among many)."""
    if isinstance(node, dict):
        return {
            k: ("#/$defs/" + prefix + v.removeprefix("#/$defs/"))
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
            else _prefixed(v, prefix)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_prefixed(v, prefix) for v in node]
    return node


@dataclass(frozen=True)
class Budget:
    max_steps: int = 12
    max_tokens: int = 60_000
    rounds: int = 2  # act -> verify -> reflect, at most this many times


@dataclass(frozen=True)
class Step:
    tool: str
    brief: str
    ok: bool
    evidence: str


@dataclass(frozen=True)
class TestRun:
    command: str
    passed: bool | None  # None: no tests found to run
    output: str = ""

    def line(self) -> str:
        if self.passed is None:
            return f"tests: not run ({self.output})"
        return f"tests: {'PASSED' if self.passed else 'FAILED'} ({self.command})"


@dataclass
class ActReport:
    task: str
    plan: ActPlan | None = None
    steps: list[Step] = field(default_factory=list)
    tests: TestRun | None = None
    verdict: Verdict | None = None
    stopped: str = ""  # why acting ended early (budget, refusal)
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what the task promises and the workspace does not show
    tokens: int = 0

    @property
    def ok(self) -> bool:
        if self.stopped or self.missing or self.verdict is None or self.verdict.verdict != "done":
            return False
        return self.tests is None or self.tests.passed is not False

    def text(self) -> str:
        lines = [f"task: {self.task}"]
        if self.plan is not None:
            lines.append(f"plan: {self.plan.summary}")
        lines += [f"  {'ok ' if s.ok else 'ERR'} {s.tool} {s.brief}" for s in self.steps]
        if self.changed:
            lines.append(f"changed: {', '.join(self.changed)}")
        if self.tests is not None:
            lines.append(self.tests.line())
            if self.tests.passed is False:
                lines.append("  " + "\n  ".join(self.tests.output.strip().splitlines()[-12:]))
        if self.verdict is not None:
            lines.append(f"verdict: {self.verdict.verdict} - {self.verdict.reasons}")
        if self.missing:
            lines.append(f"missing: {'; '.join(self.missing)}")
        if self.stopped:
            lines.append(f"stopped: {self.stopped}")
        lines.append(f"result: {'DONE' if self.ok else 'NOT DONE'}")
        return "\n".join(lines)


def test_command(ctx: ToolContext) -> list[str] | None:
    """The project's own test command, from what its root holds."""
    ws = ctx.workspace
    if ws.exists("pyproject.toml") or ws.exists("setup.py") or ws.exists("pytest.ini"):
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if ws.exists("package.json"):
        with contextlib.suppress(AutoGPTError, ValueError):
            if "test" in json.loads(ws.read_text("package.json")).get("scripts", {}):
                return ["npm", "test", "--silent"]
    if ws.exists("Makefile"):
        with contextlib.suppress(AutoGPTError, ValueError):
            if any(line.startswith("test:") for line in ws.read_text("Makefile").splitlines()):
                return ["make", "test"]
    return None


_MANIFESTS = ("pyproject.toml", "package.json", "Makefile", "requirements.txt")
_ENTRIES = ("main.py", "app.py", "server.py", "server.js", "index.js", "app.js")
_SOURCE = (".py", ".js", ".ts", ".toml", ".json", ".md", ".txt", ".html", ".css", "Makefile")


def excerpts(files: Sequence[str], read: Callable[[str], str], task: str, budget: int = 6000) -> str:
    """The files a change most likely touches or copies, shown before the plan: the project's
    manifest, the files the task names, its entry points, and one test to copy the style of.
    A plan made from the file names alone invents the project (a small model wrote a Flask
    route into a FastAPI app it had not read)."""
    words = {w.lower() for w in re.findall(r"[A-Za-z_][\w.-]*", task)}

    def rank(path: str) -> int | None:
        name = path.rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0].lower()
        if name in _MANIFESTS and "/" not in path:
            return 0
        if path.lower() in words or name.lower() in words or (len(stem) > 3 and stem in words):
            return 1
        if name in _ENTRIES:
            return 2
        if name.startswith("test_") or name.endswith((".test.js", ".spec.js")):
            return 3
        return None

    ranked = sorted((r, len(p), p) for p in files if p.endswith(_SOURCE) and (r := rank(p)) is not None)
    tests = [path for r, _, path in ranked if r == 3][:1]  # one test is enough to copy from
    chosen = [path for r, _, path in ranked if r < 3] + tests
    parts, left = [], budget
    for path in chosen[:6]:
        if left <= 200:
            break
        try:
            text = read(path)
        except (AutoGPTError, OSError, UnicodeDecodeError):
            continue
        cut = text[: min(left, 2000)]
        more = f"\n[... {len(text) - len(cut)} more characters: read_file for the rest]" if len(cut) < len(text) else ""
        parts.append(f"--- {path}\n{cut}{more}")
        left -= len(cut)
    return "Files you will likely read or change:\n" + "\n".join(parts) + "\n\n" if parts else ""


_CODE_LINE = re.compile(
    r"^\s*(?:```|from \S+ import |import \w|def |async def |class |@\w|return\b|[\w.]+\s*=\s|[\w.]+\(.*\)\s*$|"
    r"[{}\[\]()]+\s*$)"
)

_FILE_NAME = re.compile(r"^\s*(?!\./)[\w/-][\w./-]*\.\w+\s*$")  # app/main.py, not ./run.sh


def tidied(plan: ActPlan, tool_names: Sequence[str]) -> ActPlan:
    """``plan`` without what a small model spills into it: lines of code listed as steps or
    commands (a plan with a code block came back as twelve "steps", one per line), tool calls
    or bare file names written as commands, and tool names that are not tools. Code is written step by step later,
    and the steps are what the user approves and what each turn is asked for. A plan that is
    all code keeps its steps."""
    steps = [step for step in plan.steps if not _CODE_LINE.match(step)] or plan.steps
    tools = [tool for tool in plan.tools if tool.strip() in tool_names]
    commands = [  # shell commands only: not code, not a tool call written as one, not a file's name
        c
        for c in plan.commands
        if c.strip() and not _CODE_LINE.match(c) and c.split()[0] not in tool_names and not _FILE_NAME.match(c)
    ]
    if steps == plan.steps and tools == plan.tools and commands == plan.commands:
        return plan
    return plan.model_copy(update={"steps": steps, "tools": tools, "commands": commands})


def _step_at(plan: ActPlan, index: int) -> str:
    """What the next turn is asked for: the plan's step ``index``, or, past the last, to check and finish."""
    if index < len(plan.steps):
        return (
            f"Now step {index + 1} of {len(plan.steps)}: {plan.steps[index]}\n"
            "Reply with the tool calls for this step only; set done once the whole change is made."
        )
    return "Every step of the plan has had its turn: check the change if you need to, fix what failed, or set done."


def _brief(args: dict[str, Any]) -> str:
    text = " ".join(f"{k}={v!r}" if k not in ("content", "patches") else f"{k}=..." for k, v in args.items())
    return text[:160]


def _why(output: ToolOutput) -> str:
    """A failed call's reason in one short line, for the progress view."""
    line = next((ln.strip() for ln in output.text.splitlines() if ln.strip()), "no reason given")
    return line if len(line) <= 120 else line[:117] + "..."


class Actor:
    """One acting run. The agent supplies thinking, tools and an approver; this drives the loop."""

    def __init__(
        self, think: Think, tools: Registry, ctx: ToolContext, *, persona: str, say: Say,
        approver: Approver | None, yolo: bool, budget: Budget = Budget(),
    ) -> None:  # fmt: skip
        self.think, self.tools, self.ctx, self.persona = think, tools, ctx, persona
        self.say, self.approver, self.yolo, self.budget = say, approver, yolo, budget
        self.approved_commands: set[str] = set()
        self.approved_tools: set[str] = set()
        self._before: dict[str, tuple[int, int]] = {}
        self._failed: dict[str, str] = {}  # calls that failed since the last change, and why
        self._read: set[str] = set()  # reading calls made since the last change
        self._repeats = 0  # calls in a row answered from the above instead of being run

    async def run(self, task: str) -> ActReport:
        report = ActReport(task)
        self._before = self._snapshot()
        try:
            await self._run(task, report)
        finally:
            report.changed = self._changed()
        return report

    def _changed(self) -> list[str]:
        after = self._snapshot()
        return sorted(p for p in set(self._before) | set(after) if self._before.get(p) != after.get(p))

    def _missing(self, task: str) -> list[str]:
        """What the task promises that the workspace does not show (see :mod:`autogpt.agents.task_evidence`)."""
        return task_evidence.missing(task, self._changed(), self.ctx.workspace.read_text)

    async def _run(self, task: str, report: ActReport) -> None:
        if not self.yolo and self.approver is None:
            raise refusal()
        messages = [Message.system(self._system()), Message.user(self._brief(task))]
        names = [t.name for t in in_use_order(self.tools.usable())]
        plan = tidied(await self._structured(messages, ActPlan, report, plan_guide(names)), names)
        plan = await self._complete(task, plan, messages, report, names)
        report.plan = plan
        if not await self._approve_plan(plan):
            report.stopped = "the plan was not approved; nothing was changed"
            return
        messages += [
            Message.assistant(plan.model_dump_json()),
            Message.user(f"The plan is approved. Act now, one step at a time. {_step_at(plan, 0)}"),
        ]
        steps, at = 0, 0  # turns taken; the plan step the next turn is asked for
        for round_no in range(1, self.budget.rounds + 1):
            fresh = True  # a round's first turn must act
            while True:
                if steps >= self.budget.max_steps:
                    report.stopped = f"step budget spent ({self.budget.max_steps} steps)"
                    break
                if report.tokens >= self.budget.max_tokens:
                    report.stopped = f"token budget spent ({report.tokens} of {self.budget.max_tokens})"
                    break
                steps += 1
                try:
                    guide = turn_guide(self.tools.usable(), first=fresh)
                    turn = await self._structured(messages, Turn, report, guide)
                except StructuredOutputError as exc:  # one unusable reply is a wasted step, not the end
                    messages.append(Message.user(f"ERROR: your reply was not a valid Turn: {exc}. Try again."))
                    continue
                fresh = False
                messages.append(Message.assistant(turn.model_dump_json()))
                if not turn.calls:
                    break
                evidence = [await self._call(i, c, report) for i, c in enumerate(turn.calls, 1)]
                if self._repeats >= REPEATS:
                    last = f"{report.steps[-1].tool} {report.steps[-1].brief}".rstrip()
                    report.stopped = f"stuck: {self._repeats} calls in a row repeated what changed nothing ({last})"
                    break
                at += 1
                messages.append(Message.user("Results:\n" + "\n".join(evidence) + "\n\n" + _step_at(plan, at)))
                # "done" is not taken from a turn whose own calls failed, nor while plan steps are
                # left and fewer calls were made than steps (a small model said done after its
                # first step): the fix, or the next step, is asked for instead
                failed = any(not step.ok for step in report.steps[-len(turn.calls) :])
                if turn.done and not failed and (at >= len(plan.steps) or len(report.steps) >= len(plan.steps)):
                    break
            report.tests = await self._verify()
            if report.stopped:
                return
            report.missing = self._missing(task)
            verdict = await self._reflect(messages, report)
            report.verdict = verdict
            failing = report.tests.passed is False
            honest_retry = verdict.verdict == "done" and (failing or bool(report.missing))
            if verdict.verdict == "give_up" or (verdict.verdict == "done" and not honest_retry):
                return
            if round_no == self.budget.rounds:
                if honest_retry:
                    why = (
                        "the tests still fail"
                        if failing
                        else "the workspace does not show it: " + "; ".join(report.missing)
                    )
                    report.verdict = Verdict(verdict="give_up", reasons=f"{why}: {verdict.reasons}")
                return
            unmet = (["the tests fail"] if failing else []) + report.missing
            fixes = "; ".join(verdict.fixes) or ("; ".join(unmet) if honest_retry else verdict.reasons)
            await self.say(f"retrying: {fixes[:200]}")
            messages.append(Message.user(f"Not done yet. Fix: {fixes}. Reply with tool calls."))

    # -- the parts ------------------------------------------------------------------------

    def _system(self) -> str:
        return (
            f"{self.persona}\nYou change files in a project through tools, in small verified steps. "
            "Every reply is one JSON object matching the schema you are given. Paths are relative to the "
            "project root. Commands run in a sandbox without network. To add code to a file (a route, a "
            "test function), append_file it; patch_file changes lines the file already has, and its old "
            "text must be copied exactly; write_file writes a whole file. New code goes where the project "
            "already keeps its kind (a route beside the other routes, a test in tests/)."
        )

    def _brief(self, task: str) -> str:
        files = walk(self.ctx)
        listing = "\n".join(files[:100]) + (f"\n[... {len(files) - 100} more]" if len(files) > 100 else "")
        tools = json.dumps([t.describe() for t in in_use_order(self.tools.usable())], separators=(",", ":"))
        shown = excerpts(files, self.ctx.workspace.read_text, task)
        return (
            f"Task: {task}\n\nProject files:\n{listing or '(none yet)'}\n\n{shown}Tools:\n{tools}\n\n"
            "First reply with a plan: 'summary', 'steps' (each names the one file it changes and says in "
            "words what changes there; no code yet: it is written step by step later), every shell "
            "'commands' you will run, verbatim, "
            "and the other 'tools' you will use (commit, fetch_url, MCP tools). The project's tests are run "
            "for you at the end."
        )

    async def _complete(
        self, task: str, plan: ActPlan, messages: list[Message], report: ActReport, names: Sequence[str]
    ) -> ActPlan:
        """``plan`` with a step for everything the task asks for: asked again once with what it
        leaves out, and if the new plan still does, that step is added to it (and shown to the
        person approving it, as every step is)."""
        gaps = task_evidence.unplanned(task, plan.steps)
        if not gaps:
            return plan
        ask = [
            *messages,
            Message.assistant(plan.model_dump_json()),
            Message.user(f"This plan leaves out part of the task: {'; '.join(gaps)}. Reply with the whole plan "
                         "again, with a step for every part of the task."),
        ]  # fmt: skip
        with contextlib.suppress(StructuredOutputError):
            plan = tidied(await self._structured(ask, ActPlan, report, plan_guide(names)), names)
        if task_evidence.unplanned(task, plan.steps):
            step = task_evidence.step_for_a_test(task, walk(self.ctx))
            plan = plan.model_copy(update={"steps": [*plan.steps, step]})
        return plan

    async def _structured(
        self, messages: list[Message], output: type[Any], report: ActReport, guide: dict[str, Any] | None
    ) -> Any:
        reply = await self.think(messages, output, guide)
        report.tokens += reply.usage.total_tokens
        return reply.value

    async def _approve_plan(self, plan: ActPlan) -> bool:
        text = "\n".join(
            [f"Plan: {plan.summary}", *(f"  {i}. {s}" for i, s in enumerate(plan.steps, 1))]
            + (["Commands:", *(f"  $ {c}" for c in plan.commands)] if plan.commands else ["Commands: none"])
            + ([f"Other tools: {', '.join(plan.tools)}"] if plan.tools else [])
        )
        if self.yolo:
            await self.say(text)
        else:
            assert self.approver is not None
            if not await self.approver(text):
                return False
        self.approved_commands = {c.strip() for c in plan.commands}
        self.approved_tools = {t.strip() for t in plan.tools}
        return True

    async def _gate(self, name: str, args: dict[str, Any]) -> str | None:
        """Why this call may not go ahead (None: it may)."""
        gated = name in GATED or name.startswith("mcp__")
        if self.yolo or not gated or name not in self.tools:
            return None
        if name == "run_command":
            command = str(args.get("command", "")).strip()
            if command in self.approved_commands:
                return None
            question = f"Run this command (not in the approved plan)?\n  $ {command}"
        elif name in self.approved_tools:
            return None
        else:
            question = f"Call {name} (not in the approved plan)?\n  {json.dumps(args)[:500]}"
        assert self.approver is not None
        if await self.approver(question):
            return None
        return "the user did not approve this call; do something else or stop"

    async def _call(self, index: int, call: ToolCallSpec, report: ActReport) -> str:
        key = json.dumps([call.tool, call.args], sort_keys=True, default=str)
        refused = await self._gate(call.tool, call.args)
        if refused:
            output = ToolOutput.error(refused)
        elif key in self._failed:  # nothing changed since it failed: it would fail the same way
            self._repeats += 1
            output = ToolOutput.error(
                f"this exact call failed already, and nothing has changed since ({self._failed[key]}). "
                "It was not run again: change what you send, or use another tool."
            )
        elif key in self._read:  # the answer is in the conversation already
            self._repeats += 1
            output = ToolOutput.error(
                "read already, and nothing has changed since: its result is above. It was not run again: "
                "make the change the step asks for (write_file, append_file or patch_file)."
            )
        else:
            self._repeats = 0
            output = await self.tools.attempt(call.tool, call.args, self.ctx)
            if not output.ok and not (call.tool in UNREPEATABLE or call.tool.startswith("mcp__")):
                self._failed[key] = _why(output)
            elif output.ok and call.tool in READING:
                self._read.add(key)
            elif output.ok:
                self._failed.clear()  # the workspace may have changed: an old failure may not recur
                self._read.clear()
        step = Step(call.tool, _brief(call.args), output.ok, output.evidence())
        report.steps.append(step)
        shown = f"{call.tool} {step.brief}".rstrip()
        await self.say(f"ok: {shown}" if output.ok else f"error: {shown}: {_why(output)}")
        return f"[{index}] {call.tool}: {step.evidence}"

    async def _verify(self) -> TestRun:
        argv = test_command(self.ctx)
        if argv is None:
            return TestRun("", None, "no pyproject.toml, package.json test script or Makefile test target")
        shown = " ".join(["python" if a == sys.executable else a for a in argv])
        await self.say(f"verifying: {shown}")
        try:
            passed, text, _ = await sandboxed(argv, self.ctx)
        except AutoGPTError as exc:
            return TestRun(shown, False, f"could not run the tests: {exc}")
        return TestRun(shown, passed, text)

    async def _reflect(self, messages: list[Message], report: ActReport) -> Verdict:
        tests = report.tests
        assert tests is not None
        evidence = tests.line() + ("\n" + tests.output[-3000:] if tests.passed is not None else "")
        if report.missing:
            evidence += "\nThe workspace does not show the task done: " + "; ".join(report.missing)
        ask = [
            *messages,
            Message.user(
                f"Verification:\n{evidence}\n\nJudge the result: 'done' if the task is complete and the tests "
                "pass, 'retry' with 'fixes' if you can fix what is wrong, 'give_up' with 'reasons' otherwise."
            ),
        ]
        try:
            verdict: Verdict = await self._structured(ask, Verdict, report, None)
        except StructuredOutputError as exc:
            return Verdict(verdict="give_up", reasons=f"no usable verdict from the model: {exc}")
        return verdict

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for path in walk(self.ctx):
            with contextlib.suppress(OSError):
                info = (self.ctx.workspace.root / path).stat()
                out[path] = (info.st_size, info.st_mtime_ns)
        return out


async def act(
    task: str, think: Think, tools: Registry, ctx: ToolContext, *, persona: str, say: Say,
    approver: Approver | None, yolo: bool, budget: Budget = Budget(),
) -> ActReport:  # fmt: skip
    """Run one task to a report (see the module's docstring)."""
    if not task.strip():
        raise InvalidInputError("nothing to do: the task is empty", hint='autogpt gen --yolo -p "what to change"')
    return await Actor(think, tools, ctx, persona=persona, say=say, approver=approver, yolo=yolo, budget=budget).run(
        task
    )


def granted(agent: Agent) -> frozenset[str]:
    """The agent's capabilities, with ``net.http`` only where the settings allow fetching."""
    caps = set(agent.capabilities)
    if not agent.settings.allow_fetch:
        caps.discard("net.http")
    return frozenset(caps)


async def act_as(agent: Agent, command: Command, ctx: Context, approver: Approver | None) -> Result:
    """``agent`` acts on ``command.input`` in its workspace with the tools it declares.

    ``command.args["yolo"]`` skips approval. MCP servers configured with ``autogpt mcp add``
    join the tools for this run (when the agent declares ``mcp``)."""
    from autogpt.tools.builtin_tools import builtin_tools

    if agent.workspace is None:
        raise ConfigError(f"{agent.name} has no workspace to act in", hint="pass --workspace DIR")
    yolo = bool(command.args.get("yolo"))
    if not yolo and approver is None:  # before any model call: refusing costs nothing
        raise refusal()
    settings = agent.settings
    tool_ctx = ToolContext(
        agent.workspace.ensure(), agent=agent.name, data_dir=settings.data_dir,
        command_seconds=settings.act_command_seconds, allow_unconfined=settings.allow_unconfined,
    )  # fmt: skip
    budget = Budget(max_steps=settings.act_max_steps, max_tokens=settings.act_max_tokens)

    async def think(
        messages: Sequence[Message], output: type[BaseModel], guide: dict[str, Any] | None
    ) -> Structured[Any]:
        options = Options(max_tokens=max(agent.reply_tokens, 2048), temperature=settings.temperature)
        return await agent.think_structured(
            messages, output, repairs=settings.structured_repairs, options=options, guide=guide
        )

    async def say(message: str) -> None:
        await ctx.status(message)

    async with contextlib.AsyncExitStack() as stack:
        tools = Registry([t for t in builtin_tools() if t.name in agent.tools], granted=granted(agent))
        if "mcp" in agent.tools:
            from autogpt.mcp.tools import open_mcp_tools

            for tool in await open_mcp_tools(stack, settings.data_dir, say):
                tools.add(tool)
        report = await act(
            command.input, think, tools, tool_ctx, persona=agent.persona, say=say,
            approver=approver, yolo=yolo, budget=budget,
        )  # fmt: skip
    data = {
        "ok": report.ok, "changed": report.changed, "steps": len(report.steps), "tokens": report.tokens,
        "tests": None if report.tests is None else {"command": report.tests.command, "passed": report.tests.passed},
        "verdict": None if report.verdict is None else report.verdict.model_dump(), "stopped": report.stopped,
    }  # fmt: skip
    return Result(ok=report.ok, output=report.text(), data=data)
