"""ManagerGPT: turns an idea into a task graph, runs it over the Bus, and reports honestly.

Planning is a structured call checked by :func:`validate_graph`; an invalid plan is shown
back to the model once with its errors, and if it is still unusable the standard plan
(architect, then backend) is used and the report says so. Independent tasks run at the
same time. A failed task is tried once more with its failure as evidence. Progress goes
to the requester as typed :class:`TaskProgress` statuses that a live view follows, each with
the same news as a line (``[t2 backend running] ...``) for plain-text readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from autogpt.agents.acceptance_aids import (
    DraftExamples,
    ReadAnswers,
    Resource,
    Table,
    TableKeys,
    answer_checks,
    answered,
    as_examples,
    as_refusals,
    contradicted,
    derived_checks,
    disagreements,
    examples_prompt,
    key_checks,
    keys_prompt,
    mended,
    repeated_reads,
    resource_body,
    resource_prompt,
    rule_checks,
    rule_prompt,
    second_readable,
    second_reading_prompt,
    table_drafts,
    table_keys,
)
from autogpt.agents.asking import Answer, Retry
from autogpt.agents.base import Agent, Context, action
from autogpt.agents.catalog import find_role
from autogpt.agents.handoff import PageReport, ServerVerification, received
from autogpt.agents.plan_aids import plan_checks, plan_prompt, standard_plan
from autogpt.agents.verdict import Verdict
from autogpt.errors import AutoGPTError, ConfigError, ErrorCode, InvalidInputError
from autogpt.iac.envelope import Address, Command, PlanItem, ProgressState, Result, Status, Task, TaskProgress
from autogpt.llm.base import Message, Usage
from autogpt.llm.usage import charge, spent_so_far
from autogpt.memory.lessons import learn
from autogpt.mind.idea import (
    broken_examples,
    collection_examples,
    collection_verbs,
    facts_in_words,
    from_lists,
    lone_lookup,
    not_found_examples,
    read_stated,
    stated_rules,
    table_size,
    wants_page,
    worded_reads,
)
from autogpt.mind.planner import PlannedTask, TaskGraph
from autogpt.mind.scheduler import GraphRun, TaskState, run_graph
from autogpt.tools.acceptance import Acceptance, Example, load_acceptance

LANGUAGES = ("python", "javascript")
# Failures that mean "nobody was there to finish it", not "the work was wrong".
_AGENT_LOST = frozenset({ErrorCode.AGENT_GONE.name, ErrorCode.NO_LIVE_AGENT.name})
BUILD_ROLES = ("architect", "backend", "designer", "frontend", "git")
PAGE_ROLES = frozenset({"designer", "frontend"})
SCOPES = ("auto", "api", "full")
OUT_OF_TIME = "OUT_OF_TIME"  # a task's Result.data["error"] when the build's time limit stopped it


def _handoffs(run: GraphRun) -> tuple[ServerVerification | None, PageReport | None, list[str]]:
    """The backend's verification and the page's check, as they arrived: typed, or why not."""

    def sent(role: str, key: str) -> object:
        return next((o.result.data.get(key) for o in run.outcomes.values() if o.task.role == role and o.result), None)

    verification, bad_verification = received(ServerVerification, sent("backend", "verification"), "verification")
    page_check, bad_page = received(PageReport, sent("frontend", "page_check"), "page check")
    return verification, page_check, [why for why in (bad_verification, bad_page) if why]


def _subject(text: str, limit: int = 72) -> str:
    """A commit subject: the first line, cut at a word boundary to ``limit`` characters."""
    line = text.splitlines()[0] if text else ""
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if line[limit - 1] != " ":  # the cut fell inside a word: drop that word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "…"


async def _progress(ctx: Context, task: PlannedTask, state: ProgressState, step: str, attempt: int = 0) -> None:
    """How ``task`` stands, typed for live views and as a ``[t2 backend running] step`` line."""
    progress = TaskProgress(task.id, task.role, state, step, attempt)
    await ctx.status(f"[{task.id} {task.role} {state}] {step}", task=progress)


async def _announce(ctx: Context, graph: TaskGraph) -> None:
    """The plan, every task pending, typed and as a ``plan: t1=architect, t2=backend<-t1`` line."""
    plan = tuple(PlanItem(t.id, t.role, tuple(t.depends_on)) for t in graph.tasks)
    line = ", ".join(f"{p.task_id}={p.role}" + (f"<-{'+'.join(p.depends_on)}" if p.depends_on else "") for p in plan)
    await ctx.status(f"plan: {line}", task=TaskProgress(plan=plan))


class ManagerGPT(Agent):
    name = "ManagerGPT"
    role = "manager"
    persona = (
        "You are ManagerGPT. You split a software idea into a few concrete tasks for your team "
        "and decide which can run at the same time."
    )
    capabilities = frozenset({"llm.chat", "fs.write"})
    # Who can take work: set by whoever assembles a standalone team; None asks the router
    # which roles are connected (networked mode) when a build starts.
    team_roles: tuple[str, ...] | None = None
    task_timeout: ClassVar[float] = 1800.0

    @staticmethod
    def clock() -> float:
        """The time limit's clock (a test's team may turn it by hand)."""
        return time.monotonic()

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return await self.create(Command("create", task.description, str(task.input.get("language", ""))), ctx)

    @action("create", help="build a project from an idea with the whole team", aliases=("build",))
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("ManagerGPT needs a workspace")
        idea = command.input.strip()
        if not idea:
            raise InvalidInputError("the idea is empty", hint='autogpt build "a todo API with FastAPI"')
        language = (command.language or "python").lower()
        if language not in LANGUAGES:
            raise InvalidInputError(f"unknown language {language!r}", hint=f"choose {' or '.join(LANGUAGES)}")
        scope = str(command.args.get("scope") or "auto")
        if scope not in SCOPES:
            raise InvalidInputError(f"unknown scope {scope!r}", hint=f"choose {', '.join(SCOPES)}")
        given = command.args.get("acceptance")
        user = load_acceptance(json.dumps(given)) if given is not None else None
        started = self.clock()
        roles = self.team_roles or await self._connected_roles()
        page = scope == "full" or (scope == "auto" and wants_page(idea))
        if not page:
            roles = tuple(r for r in roles if r not in PAGE_ROLES)
        acceptance = await self._acceptance(idea, user, ctx)
        self.workspace.ensure().write_text("acceptance.json", acceptance.dump(), agent=self.name)
        graph, plan_note = await self._plan(idea, tuple(r for r in roles if r != "git"), ctx)
        await _announce(ctx, graph)

        attempts: dict[str, int] = {}
        limit = self.settings.time_limit
        deadline = started + limit if limit > 0 else None

        async def execute(task: PlannedTask, deps: dict[str, Result]) -> Result:
            return await self._execute(task, deps, idea, language, acceptance, ctx, attempts, "git" in roles, deadline)

        run = await run_graph(graph, execute)
        for task_id, count in attempts.items():
            run.outcomes[task_id].attempts = count
        verification, page_check, malformed = _handoffs(run)
        page_planned = any(o.task.role == "frontend" for o in run.outcomes.values())
        page_ok = (page_check is not None and page_check.ok) or not page_planned
        late = [o.task.role for o in run.outcomes.values() if o.result and o.result.data.get("error") == OUT_OF_TIME]
        late += [role for role, h in (("backend", verification), ("frontend", page_check)) if h and h.out_of_time]
        stopped = f"the build's time limit of {limit:g}s was reached ({', '.join(sorted(set(late)))})" if late else ""
        verdict = Verdict.of(acceptance, verification, page_ok, page_planned, run.ok, malformed, stopped)
        usage = spent_so_far()
        report = verdict.lines() + self._report(
            idea, language, run, plan_note, self.clock() - started, verification, page_check, usage
        )
        self.workspace.ensure().write_text("REPORT.md", report, agent=self.name)
        return Result(
            ok=verdict.ok,
            output=report,
            data={
                "verified": verdict.ok,
                "verdict": verdict.headline,
                "acceptance": [row.model_dump() for row in verdict.rows],
                "page_check": page_check.model_dump() if page_check else None,
                "tasks": {i: o.state.value for i, o in run.outcomes.items()},
                "plan_note": plan_note,
                "seconds": round(self.clock() - started, 1),
                "tokens": usage.total_tokens,
            },
        )

    async def _connected_roles(self) -> tuple[str, ...]:
        """The build roles some connected agent serves, in team order."""
        try:
            live = await self._live_roles()
        except AutoGPTError as exc:
            raise ConfigError(f"cannot tell which agents are connected: {exc}") from exc
        roles = tuple(r for r in BUILD_ROLES if r in live)
        if not {"architect", "backend"} <= set(roles):
            raise ConfigError(
                "a build needs at least an architect and a backend agent connected",
                hint="start them: autogpt --net --agent architect (and backend), or use orchgpt up",
            )
        return roles

    async def _acceptance(self, idea: str, user: Acceptance | None, ctx: Context) -> Acceptance:
        """The idea's acceptance examples, before any design: what it states, taken verbatim;
        else what its words ask of a plain collection, or what the model reads in them; then
        the user's own."""
        await ctx.status("reading the idea's acceptance examples")
        examples: list[Example] = read_stated(idea)
        unchecked: list[str] = []
        tables: dict[str, list[str]] = {}
        notes = [f"{len(examples)} example(s) stated in the idea, taken verbatim"] if examples else []
        named = worded_reads(idea, examples)  # {"count": N}: a value its words must say
        if not examples and (verbs := collection_verbs(idea)):
            plural, body = resource_body(
                (await self.think_structured([Message.user(resource_prompt(idea))], Resource)).value
            )
            examples = collection_examples(plural, body, verbs)
            notes.append(f"the idea asks to {', '.join(sorted(verbs))} {plural}: examples derived for them")
        elif not examples:
            examples, note = await self._derived_examples(idea, ctx)
            notes.append(note)
        elif not any(e.checks_a_value for e in examples):
            # The requests are named, but no answer's value is (``GET /km-to-miles with the km
            # in a query parameter``, ``GET /likes tells how many likes so far``): what must come
            # back is said in words, and without it a server answering anything would pass.
            derived, note = await self._derived_examples(idea, ctx)
            if derived:
                served = {(d.method, d.path) for d in derived}
                examples = [e for e in examples if not (e.bare and (e.method, e.path) in served)] + derived
            notes.append(f"the idea names its requests and says their answers in words: {note}")
        elif (facts := facts_in_words(idea, examples + from_lists(idea, examples))) or named:
            # Stated examples check a value, but the words state more (``1 GBP = 1.25 USD``
            # beside an example in euros): a server that gets the rest wrong would pass them.
            lone, counted = lone_lookup(examples), table_size(idea)
            table = None
            if lone and counted:
                head, _, key = lone.path.rpartition("/")
                table = await self._table(idea, Table(counted[0], counted[1], head, key), ctx)
            derived, note = await self._derived_examples(idea, ctx, table, examples)
            if table and table.keys and derived:
                tables[f"GET {table.head}/{{key}}"] = list(table.keys)
            said = facts or [f"what {e.label} answers" for e in named]
            examples += derived
            notes.append(f"the idea states in words what no stated example checks ({', '.join(said)}): {note}")
            if not derived and facts:  # a value named in words is judged below, route by route
                unchecked.append(f"{', '.join(facts)}: stated in words, and no example checks it")
        examples += from_lists(idea, examples)
        values_checked = any(e.checks_a_value for e in examples)
        worded = worded_reads(idea, examples)
        unchecked += [
            f"what {e.label} answers ({', '.join(e.keys)}) is said only in words, and no example checks it"
            for e in examples
            if e.keys and (not values_checked or e in worded)
        ]
        if examples and (rules := stated_rules(idea)):
            stated = list(examples)
            for rule, status in rules:
                if refusals := not_found_examples(rule, status, stated):
                    note = f"{len(refusals)} example(s) of something that does not exist, for the rule '{rule[:120]}'"
                elif refusals := broken_examples(rule, status, stated):
                    note = f"{len(refusals)} example(s) breaking the rule '{rule[:120]}' as its words say"
                else:
                    refusals, note = await self._rule_examples(rule, status, stated, ctx)
                examples += refusals
                notes.append(note)
                if not refusals:
                    unchecked.append(rule)
        if user is not None:
            examples += [e.model_copy(update={"source": "user"}) for e in user.examples]
            notes.append(f"{len(user.examples)} example(s) given by the user")
        acceptance = Acceptance(examples=examples[:24], notes=notes, unchecked=unchecked, tables=tables)
        await ctx.status(f"acceptance: {len(acceptance.examples)} example(s)")
        return acceptance

    async def _table(self, idea: str, table: Table, ctx: Context) -> Table:
        """``table`` with its keys, as the model names them; without (and the model picks) when it cannot."""

        async def unnamed(_: TableKeys | None, problem: str) -> Answer[TableKeys]:
            return Answer(TableKeys.model_construct(keys=[]), f"the table's keys were not named ({problem[:120]})")

        answer = await self.ask(
            [Message.system(self.persona), Message.user(keys_prompt(idea, table))], table_keys(table.size), ctx,
            checks=key_checks(table), retry=Retry(temperatures=(0.2, 0.7)), fallback=unnamed,
            what="the table's keys", say="the table's keys unusable: {problem}",
        )  # fmt: skip
        return table if answer.fell_back else replace(table, keys=tuple(answer.value.keys))

    async def _derived_examples(
        self, idea: str, ctx: Context, table: Table | None = None, first: list[Example] | None = None
    ) -> tuple[list[Example], str]:
        """Examples the model reads in the idea's words; none (and why) when it cannot. For a
        table the idea counts, a draft that looks up most of it (not all) is taken, and says so.
        ``first``: the stated examples, which run before these on the same server."""

        async def none(last: DraftExamples | None, problem: str) -> Answer[DraftExamples]:
            if last and (clashes := contradicted(last)):
                agreed = mended(last)
                if not any(check(agreed) for check in derived_checks(idea, table)):
                    said = f"mended {len(clashes)} read(s) that contradicted the answer before them: {clashes[0][1]}"
                    return Answer(agreed, said[:300])
            if (
                table
                and last
                and not any(check(last) for check in derived_checks(idea))
                and (2 * len(table.lookups(last)) > table.size)
            ):
                return Answer(last, f"the model looked up {len(table.lookups(last))} of the {table.size} {table.noun}")
            return Answer(
                DraftExamples.model_construct(examples=[]), f"no acceptance examples could be derived ({problem[:160]})"
            )

        answer = await self.ask(
            [Message.system(self.persona), Message.user(examples_prompt(idea, table, first or ()))],
            table_drafts(table.size) if table else DraftExamples, ctx,
            checks=derived_checks(idea, table, first or ()), retry=Retry(temperatures=(0.2, 0.7)), fallback=none,
            what="acceptance examples", say="acceptance examples unusable: {problem}",
        )  # fmt: skip
        if answer.fell_back and not answer.value.examples:
            return [], answer.note
        drafts, refusals = answered(answer.value)
        notes = [answer.note] if answer.fell_back else []
        if repeats := repeated_reads(drafts, first or ()):
            kept = [d for i, d in enumerate(drafts.examples) if i not in repeats]
            drafts = DraftExamples.model_construct(examples=kept)
            notes.append(f"left out {len(repeats)} read(s) repeating one already checked")
        if second_readable(drafts, first or ()):
            drafts, note = await self._second_reading(idea, drafts, first or (), ctx)
            if note:
                notes.append(note)
        said = f"the model derived {len(drafts.examples)} example(s) from the idea's words"
        if refusals:
            notes.append(f"left out {refusals} refusal(s) the idea does not state")
        if not drafts.examples:
            return [], f"no acceptance examples could be derived ({'; '.join(notes)})"
        return as_examples(drafts), f"{said} ({'; '.join(notes)})" if notes else said

    async def _second_reading(
        self, idea: str, drafts: DraftExamples, first: Sequence[Example], ctx: Context
    ) -> tuple[DraftExamples, str]:
        """``drafts`` without those a fresh reading of their requests answers otherwise: an example
        with a wrong answer fails a right server, or (worse) leads the code astray and passes it."""

        async def unread(_: ReadAnswers | None, problem: str) -> Answer[ReadAnswers]:
            return Answer(ReadAnswers.model_construct(answers=[]), problem[:160])

        answer = await self.ask(
            [Message.system(self.persona), Message.user(second_reading_prompt(idea, drafts, first))], ReadAnswers,
            ctx, checks=answer_checks(len(drafts.examples)), retry=Retry(temperatures=(0.0, 0.3)), fallback=unread,
            what="a second reading", say="the second reading unusable: {problem}",
        )  # fmt: skip
        if answer.fell_back:
            return drafts, f"no second reading ({answer.note})"
        if not (clashes := disagreements(drafts, answer.value)):
            return drafts, ""
        kept = [d for i, d in enumerate(drafts.examples) if i not in clashes]
        first_clash = next(iter(clashes.values()))
        note = f"left out {len(clashes)} example(s) the model answered otherwise when asked again ({first_clash})"
        return DraftExamples.model_construct(examples=kept), note[:300]

    async def _rule_examples(
        self, rule: str, status: int | None, stated: list[Example], ctx: Context
    ) -> tuple[list[Example], str]:
        """Requests that break a rule the idea states only in words, from the model; none (and
        why) when it gives none that fit the idea's own routes."""

        async def none(_: DraftExamples | None, problem: str) -> Answer[DraftExamples]:
            return Answer(DraftExamples.model_construct(examples=[]), problem[:160])

        answer = await self.ask(
            [Message.system(self.persona), Message.user(rule_prompt(rule, status, stated))], DraftExamples, ctx,
            checks=rule_checks(stated), retry=Retry(temperatures=(0.2, 0.7)), fallback=none,
            what="rule examples", say="examples for a stated rule unusable: {problem}",
        )  # fmt: skip
        if answer.fell_back:
            return [], f"no example could be derived for the rule '{rule[:120]}' ({answer.note}): it is unchecked"
        refusals = as_refusals(answer.value, rule, status)
        return refusals, f"{len(refusals)} example(s) derived by the model for the rule '{rule[:120]}'"

    async def _plan(self, idea: str, roles: tuple[str, ...], ctx: Context) -> tuple[TaskGraph, str]:
        planner = self.settings.planner
        if planner == "standard" or (planner == "auto" and self.llm.provider == "embedded"):
            await ctx.status(f"planning: the standard plan for {', '.join(roles)} (planner={planner})")
            return standard_plan(idea, roles), ""
        await ctx.status("planning")

        async def standard(_: TaskGraph | None, problem: str) -> Answer[TaskGraph]:
            note = f"the model's plan was unusable ({problem[:200]}); used the standard plan"
            return Answer(standard_plan(idea, roles), note)

        answer = await self.ask(
            [Message.system(self.persona), Message.user(plan_prompt(idea, roles))], TaskGraph, ctx,
            checks=plan_checks(roles), fallback=standard,
            retry=Retry(temperatures=(None,), feedback="That plan is invalid: {problem}. Fix it."),
            what="plan", say="re-planning: {problem}",
        )  # fmt: skip
        return answer.value, answer.note

    async def _execute(
        self,
        task: PlannedTask,
        deps: dict[str, Result],
        idea: str,
        language: str,
        acceptance: Acceptance,
        ctx: Context,
        attempts: dict[str, int],
        commits: bool,
        deadline: float | None = None,
    ) -> Result:
        payload: dict[str, Any] = {
            "idea": idea,
            "language": language,
            "acceptance": acceptance.model_dump(),
            "dependencies": {k: v.data for k, v in deps.items()},
        }
        error = ""
        result = Result(ok=False)
        for attempt in (1, 2):
            if deadline is not None:
                left = deadline - self.clock()
                if left <= 0:
                    why = f"{'not started' if attempt == 1 else 'not retried'}: the build's time limit was reached"
                    await _progress(ctx, task, "failed", why)
                    output = f"{why}\n{error}" if error else why
                    result = Result(ok=False, output=output, data={**result.data, "error": OUT_OF_TIME})
                    break
                payload["time_left"] = round(left, 1)
            attempts[task.id] = attempt
            if error:
                payload["previous_error"] = error
            await _progress(ctx, task, "running", f"attempt {attempt}: {task.description[:80]}", attempt)
            result = await self._call(task, payload, ctx)
            if result.ok:
                first = result.output.splitlines()[0][:100] if result.output else ""
                if error and not result.data.get("learned"):  # the retry fixed what the first attempt broke
                    learn(self.memory, task.role, task.description, error, result.output)
                await self._finished(task, True, first)
                await _progress(ctx, task, "done", first)
                if commits:
                    await self._commit(task, first, [a.path for a in result.artifacts], ctx)
                return result
            error = result.output[:1500]
            await _progress(ctx, task, "failed", error.splitlines()[0][:100] if error else "")
            if attempt == 1 and result.data.get("error") in _AGENT_LOST:
                await self._await_role(task, ctx)
        if not result.data.get("learned"):  # the agent kept no lesson of its own
            learn(self.memory, task.role, task.description, error, None)
        failure = result.output[:1500] if result.data.get("error") == OUT_OF_TIME else error
        await self._finished(task, False, failure.splitlines()[0][:200] if failure else "")
        return result

    async def _finished(self, task: PlannedTask, ok: bool, summary: str) -> None:
        """Tell the scheduler (if one is set up here) that a task of ``task.role`` ended."""
        from autogpt.schedule.events import record_finished

        await asyncio.to_thread(record_finished, Path(self.settings.data_dir), task.role, "task", ok, summary)

    async def _await_role(self, task: PlannedTask, ctx: Context) -> None:
        """The agent holding ``task`` went away: before the retry, give its role a moment to
        come back (a supervisor restarts crashed agents in a second or two). Returns when some
        agent serves the role, or when the wait is over; the retry then succeeds or fails on
        its own terms."""
        wait = self.settings.rejoin_wait
        if wait <= 0 or self.bus.closed or await self._serves(task.role):
            return
        await _progress(ctx, task, "waiting", f"up to {wait:g}s for a {task.role} agent to come back")
        deadline = time.monotonic() + wait
        pause = 0.1
        while time.monotonic() < deadline and not self.bus.closed:
            await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))
            if await self._serves(task.role):
                await _progress(ctx, task, "waiting", f"a {task.role} agent is back")
                return
            pause = min(pause * 2, 1.0)

    async def _serves(self, role: str) -> bool:
        """Whether some connected agent serves ``role`` (standalone teams always do)."""
        if self.team_roles is not None:
            return role in self.team_roles
        try:
            return role in await self._live_roles()
        except AutoGPTError:
            return False

    async def _live_roles(self) -> set[str]:
        """The roles the connected agents serve, as the router lists them."""
        return {str(a.get("role", "")) for a in await self.bus.list_agents()}

    async def _commit(self, task: PlannedTask, summary: str, paths: list[str], ctx: Context) -> None:
        """One commit per finished task, of the files it produced, authored as the agent that did it
        (when GitGPT is on the team). Tasks that run side by side share the folder, so a commit
        names its files rather than taking whatever has changed."""
        author = find_role(task.role).name
        subject = _subject(f"{task.role}: {summary or task.description}")
        message = f"{subject}\n\n{summary}\n\nTask {task.id}: {task.description}"
        try:
            done = await self.bus.call(
                Address.role("git"),
                Command("commit", message, args={"author": author, "paths": paths}),
                timeout=120,
                session_id=ctx.session_id,
                files=self.workspace,
            )
        except AutoGPTError as exc:  # history is a convenience: a failed commit does not fail the build
            await _progress(ctx, task, "done", f"commit failed: {exc}")
            return
        await _progress(ctx, task, "done", done.output[:100])

    async def _call(self, task: PlannedTask, payload: dict[str, Any], ctx: Context) -> Result:
        """One task on the Bus; its status lines are relayed to our requester as they come, each
        as the task's current step."""
        steps: asyncio.Queue[str | None] = asyncio.Queue()

        async def relay() -> None:
            while (step := await steps.get()) is not None:
                await _progress(ctx, task, "running", step)

        def forward(status: Status) -> None:
            if status.message and not status.delta:
                steps.put_nowait(status.message)

        async with asyncio.TaskGroup() as group:
            group.create_task(relay())
            try:
                result = await self.bus.call(
                    Address.role(task.role),
                    Task(task.id, task.role, task.description, tuple(task.depends_on), tuple(task.acceptance), payload),
                    on_status=forward,
                    timeout=self.task_timeout,
                    session_id=ctx.session_id,
                    files=self.workspace,
                )
                charge(Usage(result.prompt_tokens, result.completion_tokens))  # the build pays for its tasks
                return result
            except AutoGPTError as exc:
                charge(Usage(*exc.spent))
                return Result(ok=False, output=f"{type(exc).__name__}: {exc}", data={"error": exc.code.name})
            except asyncio.CancelledError:
                # Stopping the build must stop the work it started, not just stop waiting for it.
                with contextlib.suppress(AutoGPTError, TimeoutError):
                    stop = Command("terminate")
                    await asyncio.shield(
                        self.bus.call(Address.role(task.role), stop, timeout=10, session_id=ctx.session_id)
                    )
                raise
            finally:
                steps.put_nowait(None)

    def _report(
        self,
        idea: str,
        language: str,
        run: GraphRun,
        note: str,
        seconds: float,
        verification: ServerVerification | None,
        page_check: PageReport | None,
        usage: Usage,
    ) -> str:
        assert self.workspace is not None
        lines = [f"# Build report: {idea}", "", f"Language: {language}. Workspace: `{self.workspace.root}`.", ""]
        if note:
            lines += [f"Note: {note}.", ""]
        lines += ["## Tasks", "", "| Task | Role | State | Attempts | Seconds | Outcome |", "|---|---|---|---|---|---|"]
        for o in run.outcomes.values():
            text = (o.result.output if o.result else o.error).splitlines()
            lines.append(
                f"| {o.task.id} | {o.task.role} | {o.state.value} | {o.attempts} | {o.seconds:.1f} | "
                f"{(text[0] if text else '').replace('|', '/')[:100]} |"
            )
        notes = [
            f"- {o.task.id} ({o.task.role}): {o.result.data['note']}"
            for o in run.outcomes.values()
            if o.result and o.result.data.get("note")
        ]
        if notes:
            lines += ["", "Notes from the team:", "", *notes]
        lines += ["", "## Verification", ""]
        if verification:
            verdict = "yes" if verification.ok else "no"
            lines.append(f"Server verified: **{verdict}** after {verification.fix_rounds} fix round(s).")
            lines += ["", "| Route | Status | Passed | Problems |", "|---|---|---|---|"]
            for r in verification.routes:
                problems = "; ".join(r.problems)[:120].replace("|", "/")
                lines.append(f"| `{r.route}` | {r.status} | {'yes' if r.ok else 'no'} | {problems} |")
        else:
            lines.append("The server was not verified: the backend task did not produce a verification.")
        if page_check is not None:
            verdict = "yes" if page_check.ok else "no"
            lines += ["", "## Page check (headless Chromium)", ""]
            lines.append(f"Page works against the API: **{verdict}** after {page_check.fix_rounds} fix round(s).")
            lines.append(f"Screenshot: `{page_check.screenshot or 'none'}`.")
            calls = ", ".join(f"`{c}`" for c in page_check.api_calls[:8]) or "none"
            lines += [f"API calls: {calls}.", f"Console errors: {len(page_check.console_errors)}."]
            lines += [f"- problem: {p[:200]}" for p in page_check.problems[:6]]
        elif any(o.task.role == "frontend" for o in run.outcomes.values()):
            lines += ["", "## Page check (headless Chromium)", "", "Not checked: the frontend task failed."]
        hints = [
            str(o.result.data.get("run", "")) for o in run.outcomes.values() if o.result and o.state is TaskState.DONE
        ]
        run_hint = "; ".join(h for h in hints if h)
        failed = [o for o in run.outcomes.values() if o.state is not TaskState.DONE]
        lines += ["", "## What failed", ""]
        lines += [f"- {o.task.id} ({o.task.role}): {o.state.value}: {(o.error or '')[:300]}" for o in failed] or [
            "- nothing"
        ]
        lines += [
            "",
            "## How to run it",
            "",
            "```sh",
            f"cd {self.workspace.root}",
            *run_hint.split("; "),
            "```",
            "",
            "## Files",
            "",
        ]
        files = {a.path: o.task.role for o in run.outcomes.values() if o.result for a in o.result.artifacts}
        lines += [f"- `{path}` ({role})" for path, role in sorted(files.items())] or ["- (none)"]
        lines += [
            "",
            "## Cost",
            "",
            f"Wall time {seconds:.1f}s; {usage.total_tokens} tokens "
            f"({usage.prompt_tokens} prompt + {usage.completion_tokens} completion).",
        ]
        return "\n".join(lines) + "\n"
