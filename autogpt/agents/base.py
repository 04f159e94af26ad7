"""The agent runtime: an async actor that takes commands and tasks off its Bus.

A subclass declares who it is (``name``, ``role``, ``persona``, ``capabilities``) and its
actions, as methods decorated with :func:`action`. The base class does the rest the same
way for every agent: acknowledge, stream status, bound retries of transient failures,
reply with a result or a typed error, and answer ``help``, ``status`` and ``terminate``.
An agent never knows whether its Bus is in memory or a gRPC stream.

When a request offers the requester's files and the requester's workspace is not ours
(another machine, another folder), the files we lack are fetched before the action runs
and the result's artifacts are sent back before the reply (:mod:`autogpt.iac.transfer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from autogpt.agents.asking import TWICE, Answer, Check, Fallback, OnProblem, Retry, ask_until_valid
from autogpt.config import Settings, load_settings
from autogpt.errors import AutoGPTError, ErrorCode, InvalidInputError, UnknownActionError, WorkCancelledError
from autogpt.iac import transfer
from autogpt.iac.bus import Bus
from autogpt.iac.envelope import Command, Envelope, ErrorInfo, Kind, Result, State, Status, Task, TaskProgress
from autogpt.llm.base import DEFAULT_OPTIONS, LLM, Completion, Message, Options, Usage
from autogpt.llm.structured import Structured, complete_structured
from autogpt.llm.usage import MeteredLLM, UsageMeter, request_usage
from autogpt.logs import get_logger
from autogpt.memory.actions import MemoryActions
from autogpt.mind.context import Conversation, fit
from autogpt.tools.workspace import Workspace

if TYPE_CHECKING:
    from autogpt.memory.recall import AgentMemory
    from autogpt.sessions import SessionStore

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
ActionFn = Callable[[Any, Command, "Context"], Awaitable[Result]]
_BUILT_IN = frozenset({"help", "status", "terminate", "remember", "recall", "forget"})  # every agent has these


def action(name: str, *, help: str, aliases: tuple[str, ...] = ()) -> Callable[[ActionFn], ActionFn]:
    """Mark a method ``async def f(self, command, ctx) -> Result`` as an action."""

    def mark(fn: ActionFn) -> ActionFn:
        fn.__iac_action__ = (name, help, aliases)  # type: ignore[attr-defined]
        return fn

    return mark


class Context:
    """What a running action may do besides thinking: report progress, stream output."""

    def __init__(self, agent: Agent, request: Envelope) -> None:
        self.agent = agent
        self.request = request
        self.started = time.monotonic()

    @property
    def session_id(self) -> str:
        return self.request.session_id or self.request.sender

    async def status(
        self, message: str, progress: float = 0.0, state: State = State.WORKING, *, task: TaskProgress | None = None
    ) -> None:
        """Tell the requester how the work goes; ``task`` is the same news typed, for coordinators
        whose requesters follow each planned task (``message`` stays for plain-text readers)."""
        await self.agent.bus.status(self.request, Status(state, message, progress, task=task))

    async def emit(self, delta: str) -> None:
        """Stream a piece of output text to the requester."""
        if delta:
            await self.agent.bus.status(self.request, Status(State.WORKING, delta=delta))


class Agent(MemoryActions):
    name: ClassVar[str] = "Agent"
    role: ClassVar[str] = "agent"
    persona: ClassVar[str] = "You are a helpful assistant."
    capabilities: ClassVar[frozenset[str]] = frozenset()
    tools: ClassVar[frozenset[str]] = frozenset()
    """Tools (:mod:`autogpt.tools.builtin_tools`, ``mcp`` for configured MCP servers) this agent may
    use when it acts; each call still needs the tool's capability (:mod:`autogpt.tools.registry`)."""
    main_action: ClassVar[str | None] = None
    """Where a plain prompt goes (the ``run`` command of a console line without an action).
    Unset: ``run`` if the agent has it, else ``create``, else its first own action."""

    def __init__(
        self,
        llm: LLM,
        bus: Bus,
        *,
        workspace: Workspace | None = None,
        meter: UsageMeter | None = None,
        max_attempts: int = 2,
        max_concurrency: int = 4,
        retry_delay: float = 0.5,
        reply_tokens: int = 1024,
        stop_grace: float = 10.0,
        verify: Callable[[Envelope], Awaitable[None]] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.meter = meter if meter is not None else UsageMeter()
        self.llm: LLM = llm if isinstance(llm, MeteredLLM) else MeteredLLM(llm, self.meter, self.name)
        self.bus = bus
        self.workspace = workspace
        self.max_attempts = max(1, max_attempts)
        self.retry_delay = retry_delay
        self.reply_tokens = reply_tokens
        self.stop_grace = stop_grace
        self.verify = verify
        self._settings = settings
        self.memory: AgentMemory | None = None  # long-term memory, recalled into every prompt
        self.sessions: SessionStore | None = None  # where conversations persist across runs
        self._conversations: dict[str, Conversation] = {}
        self._slots = asyncio.Semaphore(max_concurrency)
        self._running: dict[str, tuple[asyncio.Task[None], Envelope]] = {}
        self._actions: dict[str, tuple[ActionFn, str]] = {}
        self._action_names: dict[str, str] = {}
        for cls in reversed(type(self).__mro__):
            for attr in vars(cls).values():
                spec = getattr(attr, "__iac_action__", None)
                if spec is not None:
                    name, help_text, aliases = spec
                    self._actions[name] = (attr, help_text)
                    for alias in (name, *aliases):
                        self._action_names[alias] = name

    @classmethod
    def offered_actions(cls) -> tuple[str, ...]:
        """Every command action this agent answers, aliases included, for its Register: the
        orchestrator then refuses any other before it crosses the network (IAC.md §3).
        ``run`` (a plain prompt) and ``fetch`` (offered files, served by the Bus) are always
        answered."""
        names = {"run", transfer.FETCH_ACTION}
        for klass in cls.__mro__:
            for attr in vars(klass).values():
                spec = getattr(attr, "__iac_action__", None)
                if spec is not None:
                    name, _, aliases = spec
                    names.update((name, *aliases))
        return tuple(sorted(names))

    # -- the loop ----------------------------------------------------------------------

    async def serve(self) -> None:
        """Handle requests until the Bus closes; each request runs as its own task."""
        log.info("agent_serving", agent=self.bus.agent_id, role=self.role)
        async with asyncio.TaskGroup() as tasks:
            async for env in self.bus:
                if transfer.is_fetch(env):  # the bus answers fetches while their offer is live
                    await self._reply_quietly(
                        env, ErrorInfo(ErrorCode.PERMISSION_DENIED, f"{self.name} offers no files to this request")
                    )
                elif env.kind == Kind.REQUEST and isinstance(env.payload, Command | Task):
                    self._running[env.id] = (tasks.create_task(self._handle(env)), env)
                elif env.kind == Kind.REQUEST:  # every request gets exactly one answer
                    kind = type(env.payload).__name__
                    await self._reply_quietly(
                        env, ErrorInfo(ErrorCode.UNKNOWN_ACTION, f"{self.name} cannot act on {kind}")
                    )
                elif isinstance(env.payload, ErrorInfo):
                    log.warning("agent_notice", agent=self.bus.agent_id, error=env.payload.message)
            # The bus closed: nobody can receive our answers any more, so stop the work.
            for task, _ in list(self._running.values()):
                task.cancel()

    async def _handle(self, env: Envelope) -> None:
        ctx = Context(self, env)
        spent: list[Usage] = []
        try:
            if self.verify is not None:
                await self.verify(env)  # the author's signature, before anything is done
            offer = self._remote_offer(env)
            async with self._slots:
                await ctx.status("accepted", state=State.ACCEPTED)
                if offer is not None:
                    await self._fetch_offered(offer, ctx)
                with request_usage() as spent:
                    result = await self._with_retries(env, ctx)
                cost = sum(spent, Usage())  # this request's own calls and the sub-requests it paid for
                result = dataclasses.replace(
                    result, prompt_tokens=cost.prompt_tokens, completion_tokens=cost.completion_tokens
                )
                if offer is not None:
                    await self._send_artifacts(offer, result, ctx)
            await self.bus.reply(env, result)
        except asyncio.CancelledError:
            await self._reply_quietly(env, ErrorInfo(ErrorCode.CANCELLED, f"{self.name}: stopped on request"))
        except AutoGPTError as exc:
            log.info("action_failed", agent=self.name, error=str(exc), code=exc.code.name)
            cost = sum(spent, Usage())  # a failure costs what it spent, too
            await self._reply_quietly(env, ErrorInfo.from_exception(exc, cost.prompt_tokens, cost.completion_tokens))
        except Exception as exc:
            log.exception("action_crashed", agent=self.name)
            cost = sum(spent, Usage())
            message = f"{self.name} failed: {type(exc).__name__}: {exc}"
            await self._reply_quietly(
                env, ErrorInfo(ErrorCode.AGENT_FAILED, message, False, cost.prompt_tokens, cost.completion_tokens)
            )
        finally:
            self._running.pop(env.id, None)

    def _remote_offer(self, env: Envelope) -> transfer.Offer | None:
        """The requester's offer of files, when its workspace is not ours."""
        offer = transfer.offer_of(env.payload)
        if offer is None or self.workspace is None or offer.workspace == self.workspace.identity:
            return None
        return offer

    async def _fetch_offered(self, offer: transfer.Offer, ctx: Context) -> None:
        assert self.workspace is not None
        have = await asyncio.to_thread(self.workspace.manifest)
        wanted = [path for path, entry in offer.files.items() if have.get(path) != entry]
        if wanted:
            await ctx.status(f"fetching {len(wanted)} file(s) from {ctx.request.sender}")
            await self.bus.fetch(ctx.request, wanted, self.workspace)

    async def _send_artifacts(self, offer: transfer.Offer, result: Result, ctx: Context) -> None:
        assert self.workspace is not None
        paths = [a.path for a in result.artifacts]
        skip = {path: entry.sha256 for path, entry in offer.files.items()}
        sent = await self.bus.send_files(ctx.request, self.workspace, paths, skip=skip)
        if sent:
            await ctx.status(f"sent {len(sent)} file(s) to {ctx.request.sender}")

    async def _reply_quietly(self, env: Envelope, error: ErrorInfo) -> None:
        try:
            await self.bus.reply(env, error)
        except AutoGPTError:
            log.info("reply_undeliverable", agent=self.name, request=env.id)

    async def _with_retries(self, env: Envelope, ctx: Context) -> Result:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self.dispatch(env.payload, ctx)
            except AutoGPTError as exc:
                if not exc.retryable or attempt == self.max_attempts:
                    raise
                await ctx.status(f"attempt {attempt} failed ({exc}); retrying", state=State.WAITING)
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def main(self) -> str:
        """The action a plain prompt runs (see :attr:`main_action`)."""
        if self.main_action is not None:
            return self._action_names.get(self.main_action, self.main_action)
        for name in ("run", "create"):
            if name in self._actions:
                return name
        own = [name for name in self._actions if name not in _BUILT_IN]
        return own[0] if own else "help"

    async def dispatch(self, payload: object, ctx: Context) -> Result:
        if isinstance(payload, Task):
            return await self.handle_task(payload, ctx)
        if not isinstance(payload, Command):
            raise UnknownActionError(f"{self.name} takes commands and tasks, not {type(payload).__name__}")
        wanted = payload.action.strip().lower()
        name = self._action_names.get(wanted)
        if name is None and wanted in ("", "run"):  # a plain prompt: the agent's main action
            name = self.main
        if name is None:
            raise UnknownActionError(
                f"{self.name} has no action {payload.action!r}",
                hint=f"actions: {', '.join(sorted(self._actions))}",
            )
        fn, _ = self._actions[name]
        if self.memory is None or name in _BUILT_IN:
            return await fn(self, payload, ctx)
        with self.memory.focused(str(payload.args.get("idea") or payload.input)):
            return await fn(self, payload, ctx)

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        """A planned task; by default the same as ``run`` with the task's description."""
        return await self.dispatch(Command("run", task.description, task.input.get("language", "")), ctx)

    @property
    def settings(self) -> Settings:
        """The program's settings (read from the environment when none were passed)."""
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    # -- thinking helpers ----------------------------------------------------------------

    def conversation(self, session_id: str) -> Conversation:
        """This session's history, kept inside the model's context window."""
        conv = self._conversations.get(session_id)
        if conv is None and self.sessions is not None:
            conv = self.sessions.conversation(
                session_id, self.persona, window=self.llm.context_window, reserve=self.reply_tokens
            )
        if conv is None:
            conv = Conversation(self.persona, window=self.llm.context_window, reserve=self.reply_tokens)
            self._conversations[session_id] = conv
        return conv

    async def think(
        self, messages: Sequence[Message], ctx: Context | None = None, options: Options = DEFAULT_OPTIONS
    ) -> Completion:
        """One LLM call; when ``ctx`` is given the text streams to the requester as it comes.

        Every prompt is fitted to the model's context window first (see
        :mod:`autogpt.mind.context` for the policy), however long the session has run."""
        messages = self.fit(messages, options.max_tokens)
        if ctx is None:
            return await self.llm.complete(messages, options)
        completion: Completion | None = None
        # aclosing: if we are cancelled while emitting, the stream is still closed at
        # once, which is what stops a local model generating.
        async with contextlib.aclosing(self.llm.stream(messages, options)) as stream:
            async for item in stream:
                if isinstance(item, Completion):
                    completion = item
                else:
                    await ctx.emit(item)
        assert completion is not None, "an LLM stream must end with a Completion"
        return completion

    async def think_structured(
        self, messages: Sequence[Message], output: type[M], repairs: int = 2, options: Options = DEFAULT_OPTIONS,
        guide: dict[str, Any] | None = None,
    ) -> Structured[M]:  # fmt: skip
        return await complete_structured(
            self.llm, self.fit(messages, None), output, options=options, repairs=repairs, guide=guide
        )

    async def ask(
        self, messages: Sequence[Message], output: type[M], ctx: Context | None = None, *,
        checks: Sequence[Check[M]] = (), retry: Retry = TWICE, fallback: Fallback[M] | None = None,
        options: Options = DEFAULT_OPTIONS, repairs: int = 1, what: str = "answer", say: str = "",
    ) -> Answer[M]:  # fmt: skip
        """A structured answer that passes ``checks`` (see :mod:`autogpt.agents.asking`); ``say`` is
        the status line for an unusable one (``{problem}`` is filled in)."""

        async def attempt(ask: list[Message], opts: Options) -> M:
            return (await self.think_structured(ask, output, repairs=repairs, options=opts)).value

        return await ask_until_valid(
            attempt, messages, checks=checks, retry=retry, fallback=fallback, options=options,
            on_problem=_saying(ctx, say or f"{what} unusable: {{problem}}; asking again"), what=what,
        )  # fmt: skip

    async def think_usable(
        self, prompt: str, parse: Callable[[str], Awaitable[T]], ctx: Context, *,
        what: str, max_tokens: int, temperature: float, tries: int = 2,
    ) -> T:  # fmt: skip
        """Ask until ``parse`` accepts the reply; it raises InvalidInputError saying what is wrong,
        and that goes back to the model with the next try."""

        async def attempt(ask: list[Message], options: Options) -> T:
            return await parse((await self.think(ask, options=options)).text)

        try:
            answer = await ask_until_valid(
                attempt,
                [Message.system(self.persona), Message.user(prompt)],
                retry=Retry(tries=tries, temperatures=(), feedback=f"{{problem}}. Reply with only the {what}."),
                options=Options(max_tokens=max_tokens, temperature=temperature),
                on_problem=_saying(ctx, f"reply was not usable {what} ({{problem}}); asking again"),
                what=what,
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"{self.name} got {exc}") from None
        return answer.value

    def fit(self, messages: Sequence[Message], reply_tokens: int | None) -> list[Message]:
        reserve = reply_tokens or self.reply_tokens
        if self.memory is not None:
            try:
                messages = self.memory.into(messages, self.llm.context_window, reserve)
            except AutoGPTError as exc:  # memory helps; it never stops an answer, nor repeats its complaint
                log.warning("memory_off", agent=self.name, error=str(exc))
                self.memory = None
        return fit(messages, self.llm.context_window, reserve)

    # -- built-in actions ----------------------------------------------------------------

    @action("help", help="list this agent's actions")
    async def _help(self, command: Command, ctx: Context) -> Result:
        main = self.main
        lines = [f"{self.name} ({self.role}): {self.persona.splitlines()[0]}"]
        lines += [
            f"  {name:<10} {help_text}{'  (plain prompts)' if name == main else ''}"
            for name, (_, help_text) in sorted(self._actions.items())
        ]
        aliases = {alias: name for alias, name in self._action_names.items() if alias != name}
        return Result(
            output="\n".join(lines), data={"actions": sorted(self._actions), "main": main, "aliases": aliases}
        )

    @action("status", help="what this agent is doing and has used")
    async def _status(self, command: Command, ctx: Context) -> Result:
        usage = self.meter.by_agent().get(self.name)
        busy = len(self._running) - 1  # this status request itself is running
        tokens = usage.total_tokens if usage else 0
        return Result(
            output=f"{self.name}: {busy} request(s) running, {self.meter.calls(self.name)} LLM call(s), "
            f"{tokens} tokens",
            data={"running": busy, "tokens": tokens, "model": f"{self.llm.provider}:{self.llm.model}"},
        )

    @action("terminate", help="stop your running work (all of this session's, or one request id)")
    async def _terminate(self, command: Command, ctx: Context) -> Result:
        target = command.input.strip()
        stopped: list[asyncio.Task[None]] = []
        for request_id, (task, env) in list(self._running.items()):
            if request_id == ctx.request.id or env.sender != ctx.request.sender:
                continue  # only the requester stops its own work
            if target and request_id != target:
                continue
            if not target and (env.session_id, env.sender) != (ctx.request.session_id, ctx.request.sender):
                continue
            task.cancel()
            stopped.append(task)
        if target and not stopped:
            raise WorkCancelledError(f"no running request {target!r}")
        if stopped:  # report only once the work has really wound down
            await asyncio.wait(stopped, timeout=self.stop_grace)
        return Result(output=f"stopped {len(stopped)} request(s)", data={"stopped": len(stopped)})


def _saying(ctx: Context | None, template: str) -> OnProblem | None:
    """A status line for each unusable answer, when there is a requester to tell."""
    if ctx is None:
        return None
    context = ctx

    async def say(problem: str) -> None:
        await context.status(template.format(problem=problem[:100]))

    return say
