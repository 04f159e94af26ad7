"""GenericGPT: a general assistant that answers, plans, and writes files into its workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import Message, Options
from autogpt.logs import get_logger
from autogpt.memory.lessons import learn

if TYPE_CHECKING:
    from autogpt.agents.acting import Approver

log = get_logger(__name__)


class PlanStep(BaseModel):
    title: str = Field(description="a short imperative title")
    detail: str = Field(description="one or two sentences on how")


class Plan(BaseModel):
    goal: str
    steps: list[PlanStep] = Field(min_length=1, max_length=12)


class FileSpec(BaseModel):
    path: str = Field(description="relative path inside the project, e.g. app/main.py")
    content: str = Field(description="the complete file content")


class FileSet(BaseModel):
    summary: str = Field(description="one sentence on what these files do")
    files: list[FileSpec] = Field(min_length=1, max_length=8)


def _language_note(language: str) -> str:
    return f" Use {language}." if language else ""


class GenericGPT(Agent):
    name = "GenericGPT"
    role = "generic"
    persona = (
        "You are GenericGPT, a concise, accurate general assistant for software work.\n"
        "Answer directly. Prefer short, correct code with a one-line explanation. "
        "Say plainly when you are not sure."
    )
    capabilities = frozenset({"llm.chat", "fs.read", "fs.write", "exec.run", "git.commit", "net.http", "mcp.call"})
    tools = frozenset(
        {"read_file", "write_file", "append_file", "patch_file", "list_files", "glob", "search", "run_command",
         "commit", "fetch_url", "mcp"}
    )  # fmt: skip
    approver: Approver | None = None  # who approves acting (a console sets it); None: only --yolo acts

    @action("do", help="change the workspace with tools: plan, approval, act, run its tests, report", aliases=("act",))
    async def do(self, command: Command, ctx: Context) -> Result:
        from autogpt.agents.acting import act_as

        return await act_as(self, command, ctx, self.approver)

    @action("run", help="answer a question or do a small task (streams the answer)", aliases=("ask", "chat"))
    async def run(self, command: Command, ctx: Context) -> Result:
        prompt = command.input.strip()
        if not prompt:
            raise InvalidInputError("the prompt is empty", hint="say what you want GenericGPT to do")
        conv = self.conversation(ctx.session_id)
        question = Message.user(prompt + _language_note(command.language))
        completion = await self.think(conv.messages(question), ctx, Options(max_tokens=self.reply_tokens))
        conv.add(question)
        conv.add(Message.assistant(completion.text))
        self._keep_statement(prompt)
        return Result(output=completion.text, data={"finish_reason": completion.finish_reason})

    def _keep_statement(self, prompt: str) -> None:
        """What the user tells (not asks) is worth remembering beyond this session."""
        if self.memory is None or prompt.rstrip().endswith("?") or len(prompt) < 12 or len(prompt) > 2000:
            return
        try:
            self.memory.remember(prompt, kind="said")
        except AutoGPTError as exc:
            log.warning("not_remembered", agent=self.name, error=str(exc))

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        """A planned task; what failed (and what fixed it on a retry) becomes a lesson."""
        previous = str(task.input.get("previous_error", ""))
        try:
            result = await super().handle_task(task, ctx)
        except AutoGPTError as exc:
            learn(self.memory, self.role, task.description, str(exc), None)
            raise
        if previous:
            learn(self.memory, self.role, task.description, previous, result.output if result.ok else None)
        return result

    @action("plan", help="break a goal into a short list of steps")
    async def plan(self, command: Command, ctx: Context) -> Result:
        goal = command.input.strip()
        if not goal:
            raise InvalidInputError("the goal is empty")
        await ctx.status("planning")
        messages = [
            Message.system(self.persona),
            Message.user(
                f"Goal: {goal}.{_language_note(command.language)}\n"
                "Break it into 3 to 7 concrete steps. Reply as JSON with 'goal' and 'steps' "
                "(each step has 'title' and 'detail')."
            ),
        ]
        plan = (await self.think_structured(messages, Plan)).value
        text = "\n".join(f"{i}. {s.title}: {s.detail}" for i, s in enumerate(plan.steps, 1))
        return Result(output=text, data=plan.model_dump())

    @action("create", help="write the files for a small program into the workspace", aliases=("write",))
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("GenericGPT has no workspace to write into", hint="pass --workspace DIR")
        request = command.input.strip()
        if not request:
            raise InvalidInputError("nothing to create: the description is empty")
        await ctx.status("designing files")
        messages = [
            Message.system(self.persona),
            Message.user(
                f"Write the files for: {request}.{_language_note(command.language)}\n"
                "Keep it small: at most 3 files, each complete and runnable. Reply as JSON with "
                "'summary' and 'files' (each file has a relative 'path' and its full 'content')."
            ),
        ]
        fileset = (await self.think_structured(messages, FileSet)).value
        ws = self.workspace.ensure()
        artifacts = []
        for spec in fileset.files:
            record = ws.write_text(spec.path, spec.content, agent=self.name)
            artifacts.append(Artifact(record.path, "file", record.size, record.sha256))
            await ctx.status(f"wrote {record.path}", progress=len(artifacts) / len(fileset.files))
        listing = "\n".join(f"  {a.path} ({a.size} bytes)" for a in artifacts)
        return Result(
            output=f"{fileset.summary}\n{listing}",
            data={"summary": fileset.summary, "files": [a.path for a in artifacts]},
            artifacts=tuple(artifacts),
        )
