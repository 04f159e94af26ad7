"""BackendGPT: writes the server for a contract, starts it confined, probes every route,
and fixes what fails, for a bounded number of rounds.

Small models need help, so the work is cut small: one file of server code per prompt,
the contract spelled out route by route, and on failure the exact evidence (status,
body, problems, the server's traceback); everything deterministic (dependency file,
tests) is written without the model. Nothing here trusts the code it wrote: it only
ever runs inside the Sandbox, with no network.
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from autogpt.agents import backend_examples
from autogpt.agents.base import Agent, Context, action
from autogpt.agents.running import RunningServer, Say, running_server
from autogpt.agents.skeleton import TODO, skeleton, unwritten
from autogpt.agents.stacks import STACKS, Stack
from autogpt.config import Settings
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.memory.lessons import learn_fix
from autogpt.mind.repair import TIME_UP, deadline_in, repair
from autogpt.tools.acceptance import (
    Acceptance,
    Outcome,
    acceptance_from,
    covers,
    evidence,
    kept_back,
    run_examples,
)
from autogpt.tools.constants import answered_from_constant, unmoved_by_input
from autogpt.tools.contract import (
    ApiContract,
    Route,
    check_response,
    contract_from,
    fill_path,
    query_types,
    task_command,
)
from autogpt.tools.sandbox import require_confinement
from autogpt.tools.workspace import Workspace

_SHAPES = {"array": "a JSON array of objects", "object": "a JSON object", "none": "no body", "text": "plain text"}


def describe_routes(contract: ApiContract) -> str:
    lines = []
    for r in contract.ordered():
        typed = ", ".join(f"{name} ({kind})" for name, kind in query_types(r.query).items())
        query = f" query {typed} like ?{urlencode(r.query)}" if r.query else ""
        body = f" body like {json.dumps(r.request_example)}" if r.request_example else ""
        keys = f" with keys {', '.join(r.response_keys)}" if r.response_keys else ""
        shape = _SHAPES[r.response_type]
        if r.response_example is not None:
            shape += f" like {json.dumps(r.response_example)}"
        if r.location:
            shape += f", Location header {r.location}"
        line = f"- {r.method} {r.path}:{query}{body} -> status {r.expected_status}, {shape}{keys}. ({r.summary})"
        for case in r.errors:
            bad = f"?{urlencode(case.query)}" if case.query else json.dumps(case.body) if case.body is not None else ""
            line += f"\n  - refuse {r.method} {r.path}{bad} with status {case.status} ({case.when})"
        lines.append(line)
    return "\n".join(lines)


def _style(stack: Stack, contract: ApiContract) -> str:
    """The stack's house rules, less the ones this contract has no use for: a GET-only API
    told to take request bodies writes a POST route (seen on the small model)."""
    rules = stack.style
    if stack.language == "python" and not any(r.request_example for r in contract.routes):  # {}: sends no body
        rules = rules.replace(" Take request bodies as `body: dict`.", "")
    if any(r.query for r in contract.routes):
        rules += " Read query parameters as arguments of the route's function, as in the example."
    if any(_PAGING.search(name) for r in contract.routes for name in r.query):
        rules += " A page or offset past the end of a list answers an empty list, not an error."
    return rules


_PAGING = re.compile(r"offset|skip|page|start", re.IGNORECASE)


def describe_examples(acceptance: Acceptance) -> str:
    """The acceptance examples as the model should read them: request -> answer, in order."""
    lines = []
    for e in acceptance.examples:
        body = f" with body {json.dumps(e.body)}" if e.body is not None else ""
        lines.append(f"- {e.label}{body} -> {e.expects()}")
    return "\n".join(lines)


@dataclass
class Probe:
    route: str
    status: int = 0
    problems: list[str] = field(default_factory=list)
    body: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Verification:
    started: bool = False
    probes: list[Probe] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)  # the acceptance examples, run
    log_tail: str = ""
    error: str = ""
    confinement: dict[str, Any] = field(default_factory=dict)  # where the code ran: confined, sandbox
    kept_back: frozenset[int] = frozenset()  # outcomes of examples the writer was not shown

    @property
    def ok(self) -> bool:
        checked = self.probes or self.outcomes
        return self.started and bool(checked) and all(p.ok for p in self.probes) and all(o.ok for o in self.outcomes)

    def evidence(self, *, for_writer: bool = True) -> str:
        """What failed. For the server's writer (a fix prompt), the examples kept back from it
        are counted, not shown, and the log lines of their requests are left out: shown, they
        would be learnt one by one like the rest."""
        kept = self.kept_back if for_writer else frozenset()
        hidden = [o for i, o in enumerate(self.outcomes) if i in kept]
        lines = []
        if not self.started:
            lines.append(f"The server did not start: {self.error}")
        if failed := evidence([o for i, o in enumerate(self.outcomes) if i not in kept]):
            lines.append(f"These requests did not get the answer the idea asks for:\n{failed}")
        if wrong := sum(not o.ok for o in hidden):
            lines.append(
                f"{wrong} more request(s) of the same routes, with other inputs the idea speaks of, get wrong "
                "answers: the server answers only the examples it was shown. Compute each answer from the input, "
                "or hold all of the data the idea describes, not just the examples' rows."
            )
        for p in self.probes:
            if not p.ok:
                lines.append(f"- {p.route}: {'; '.join(p.problems)}. Body: {p.body[:300]}")
        log = self.log_tail.strip().splitlines()
        if targets := [o.target for o in hidden if o.target]:
            named = re.compile("|".join(re.escape(t) + r"(?![\w/?&=%.~-])" for t in targets))
            log = [line for line in log if not named.search(line)]
        if log:
            lines.append("Server log (last lines):\n" + "\n".join(log[-25:]))
        return "\n".join(lines)

    def table(self) -> list[dict[str, Any]]:
        return [{"route": p.route, "status": p.status, "ok": p.ok, "problems": p.problems} for p in self.probes]


class BackendGPT(Agent):
    name = "BackendGPT"
    role = "backend"
    persona = (
        "You are BackendGPT, a careful Python backend engineer. You write complete, runnable FastAPI "
        "servers that follow an API contract exactly, keeping data in memory."
    )
    capabilities = frozenset({"llm.chat", "fs.write", "exec.run", "net.http"})
    fix_rounds: ClassVar[int] = 3
    startup_seconds: ClassVar[float] = 30.0

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return await self.create(task_command(task), ctx)

    @action("create", help="write, start and verify the server for contract.json (python or javascript)")
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("BackendGPT needs a workspace")
        language = (command.language or "python").lower()
        stack = STACKS.get(language)
        if stack is None:
            raise InvalidInputError(f"BackendGPT writes python or javascript servers, not {language!r}")
        stack.check()
        require_confinement(self.settings.allow_unconfined)  # before any model call: refusing costs nothing
        deadline = deadline_in(command.args)  # from the task's arrival, before any drafting
        contract = contract_from(command.args, self.workspace, self.name)
        acceptance = acceptance_from(command.args, self.workspace) or Acceptance()
        held = kept_back(acceptance.examples, [(r.method, r.path) for r in contract.routes])
        shown = acceptance.model_copy(
            update={"examples": [e for i, e in enumerate(acceptance.examples) if i not in held]}
        )
        if held:
            await ctx.status(f"{len(held)} acceptance example(s) kept back from the prompt, checked on the server")
        ws = self.workspace.ensure()
        for path, content in stack.files(contract, acceptance).items():
            ws.write_text(path, content, agent=self.name)

        async def check(code: str) -> Verification:
            ws.write_text(stack.server_file, code, agent=self.name)
            report = await self._verify(stack, contract, acceptance, ctx)
            report.kept_back = held
            return report

        hint = str(command.args.get("previous_error", ""))
        asked = str(command.args.get("idea") or command.input).strip()
        idea = _idea_said(asked)
        first = await self._draft(stack, contract, shown, idea, ctx, hint)
        repaired = await repair(
            first,
            check=check,
            fix=lambda code, report, temperature: self._fix(
                stack, contract, shown, idea, code, report, ctx, temperature
            ),
            redraft=lambda evidence: self._draft(stack, contract, shown, idea, ctx, evidence, temperature=0.7),
            say=ctx.status,
            rounds=self.fix_rounds,
            deadline=deadline,
        )
        report, rounds = repaired.report, repaired.rounds
        learn_fix(self.memory, self.role, asked, repaired.first_evidence, repaired.first, repaired.draft, report.ok)
        summary = (
            f"{stack.framework} server {'verified' if report.ok else 'NOT verified'}: "
            f"{sum(o.ok for o in report.outcomes)}/{len(acceptance.examples)} acceptance examples"
            f"{f' ({len(held)} of them kept back from the prompt)' if held else ''} and "
            f"{sum(p.ok for p in report.probes)}/{len(report.probes)} other routes answered as asked, "
            f"after {rounds} fix round(s){TIME_UP if repaired.out_of_time else ''}"
        )
        verification = {
            "ok": report.ok,
            "fix_rounds": rounds,
            "out_of_time": repaired.out_of_time,
            "acceptance": [o.row() | {"kept_back": i in held} for i, o in enumerate(report.outcomes)],
            "routes": report.table(),
            "error": report.error,
        }
        verification |= report.confinement
        ws.write_text("verification.json", json.dumps(verification, indent=2) + "\n", agent=self.name)
        files = [w for w in ws.writes if w.agent == self.name]
        return Result(
            ok=report.ok,
            output=summary + ("" if report.ok else "\n" + report.evidence()[:1500]),  # a retry reads it too
            data={
                "verification": verification,
                "run": stack.run_hint,
                "contract": contract.model_dump(),
                "learned": bool(repaired.first_evidence),
            },
            artifacts=tuple(Artifact(w.path, "file", w.size, w.sha256) for w in files),
        )

    async def _ask_code(
        self, stack: Stack, prompt: str, ctx: Context, temperature: float = 0.1, contract: ApiContract | None = None
    ) -> str:
        assert self.workspace is not None
        scratch = _scratch()  # on the host, never in the workspace the generated code can rearrange

        async def parse(reply: str) -> str:
            code = stack.extract(reply)
            if problem := await stack.syntax_error(code, scratch):
                raise InvalidInputError(f"the code does not parse: {problem}")
            if contract is not None and (copied := backend_examples.copied_routes(code, contract)):
                raise InvalidInputError(
                    f"{', '.join(copied)} come from the examples for other APIs: write only this API's routes"
                )
            empty = unwritten(code) if stack.language == "python" else []
            if empty or TODO in code:
                names = ", ".join(empty) or "some routes"
                raise InvalidInputError(f"{names}: still no code (a TODO line); write the code that answers")
            return code

        return await self.think_usable(prompt, parse, ctx, what="code", max_tokens=1500, temperature=temperature)

    async def _draft(
        self, stack: Stack, contract: ApiContract, acceptance: Acceptance, idea: str, ctx: Context, hint: str,
        temperature: float = 0.1,
    ) -> str:  # fmt: skip
        await ctx.status(f"writing {stack.server_file}")
        extra = _must_answer(acceptance) + (f"\nAn earlier attempt failed with: {hint[:800]}" if hint else "")
        return await self._ask_code(
            stack,
            f"{backend_examples.show(contract, stack.language, stack.server_file, stack.fence)}\n\n{idea}"
            f"Now write {stack.server_file} for '{contract.name}' in the same style, with {stack.framework}. "
            f"It must implement exactly these routes:\n{describe_routes(contract)}\n"
            f"{_style(stack, contract)} No example usage, no prints, nothing but the app.\n"
            f"{_start_from(stack, contract, acceptance)}\n"
            f"Reply with the whole file in one ```{stack.fence} block." + extra,
            ctx,
            temperature,
            contract,
        )

    async def _fix(
        self, stack: Stack, contract: ApiContract, acceptance: Acceptance, idea: str, code: str,
        report: Verification, ctx: Context, temperature: float,
    ) -> str:  # fmt: skip
        return await self._ask_code(
            stack,
            f"Correct servers in the expected style, for other APIs:\n"
            f"{backend_examples.show(contract, stack.language, stack.server_file, stack.fence)}\n\n{idea}"
            f"This {stack.framework} server ({stack.server_file}) must implement these routes:\n"
            f"{describe_routes(contract)}{_must_answer(acceptance)}\n\nCurrent code:\n```{stack.fence}\n{code}```\n\n"
            f"It fails:\n{report.evidence()}\n\n"
            f"Return the complete corrected file in one ```{stack.fence} block, with no example usage and no prints.",
            ctx,
            temperature,
            contract,
        )

    async def _verify(self, stack: Stack, contract: ApiContract, acceptance: Acceptance, ctx: Context) -> Verification:
        assert self.workspace is not None
        return await verify_server(
            stack, contract, acceptance, self.workspace, self.settings, ctx.status, startup_seconds=self.startup_seconds
        )


async def verify_server(
    stack: Stack, contract: ApiContract | None, acceptance: Acceptance, workspace: Workspace, settings: Settings,
    say: Say, *, startup_seconds: float = 30.0,
) -> Verification:  # fmt: skip
    """Start the workspace's server in the Sandbox and run the acceptance examples, in the idea's
    order, then probe each contract route that no example calls. OptimizerGPT runs the same
    checks before and after a refactor."""
    report = Verification()
    async with running_server(stack, workspace, settings, say, startup_seconds=startup_seconds) as server:
        report.started = server.started
        report.confinement = server.sandbox.confinement
        if not server.started:
            report.error = "it exited or did not answer HTTP within the start-up time"
        else:

            async def send(method: str, target: str, body: bytes | None, headers: Any) -> Any:
                response = await server.request(method, target, body=body, headers=headers, timeout=10)
                return response.status, response.headers, response.body

            report.outcomes = await run_examples(acceptance.examples, send)
            code = workspace.read_text(stack.server_file)
            written = {e.path for e in acceptance.examples if e.method != "GET"}
            for outcome in report.outcomes:
                if not outcome.ok:
                    continue
                why = answered_from_constant(outcome.example, code, stack.language)
                if why or (why := await unmoved_by_input(outcome, send, written)):
                    outcome.problems.append(why)
            known: dict[str, Any] = {}
            for route in contract.ordered() if contract is not None else []:
                if not any(e.method == route.method and covers(route.path, e.path) for e in acceptance.examples):
                    report.probes.append(await _probe(server, route, known))
            passed = sum(o.ok for o in report.outcomes) + sum(p.ok for p in report.probes)
            await say(f"{passed}/{len(report.outcomes) + len(report.probes)} checks pass")
    report.log_tail = server.log_tail()
    return report


async def _probe(server: RunningServer, route: Route, known: dict[str, Any]) -> Probe:
    path = fill_path(route, known)
    probe = Probe(f"{route.method} {path}")
    body = json.dumps(route.request_example).encode() if route.request_example is not None else None
    try:
        response = await server.request(
            route.method, path, body=body, headers={"content-type": "application/json"}, timeout=10
        )
    except (OSError, AutoGPTError, TimeoutError) as exc:
        probe.problems.append(f"no HTTP answer: {exc}")
        return probe
    probe.status = response.status
    probe.body = response.body[:500].decode(errors="replace")
    probe.problems = check_response(route, response.status, response.body)
    if probe.ok and route.method == "POST":
        try:
            data = json.loads(response.body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            known.update({k: v for k, v in data.items() if isinstance(v, int | str)})
    return probe


@cache
def _scratch() -> Path:
    """A private folder for syntax checks of code the model wrote."""
    folder = tempfile.mkdtemp(prefix="autogpt-syntax-check-")
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


def _start_from(stack: Stack, contract: ApiContract, acceptance: Acceptance) -> str:
    """The skeleton to complete: the contract's routes under their own names (see :mod:`autogpt.agents.skeleton`)."""
    return (
        f"Start from this skeleton of {stack.server_file}. It already has every route with its own names and "
        f"inputs; replace each TODO line with the code that answers as asked, and keep the names:\n"
        f"```{stack.fence}\n{skeleton(contract, stack.language, acceptance)}```"
    )


def _idea_said(idea: str) -> str:
    """The idea for the prompt: what the routes alone do not say (the built-in table to search,
    the numbers to page through) is often said only there."""
    idea = idea.strip()
    return f"The user's idea, in their words: {idea[:800]}\n" if idea else ""


def _must_answer(acceptance: Acceptance) -> str:
    if not acceptance.examples:
        return ""
    # The keys of a table the idea counts, not their answers: a server that holds only the rows
    # shown still fails the ones kept back, and one that knows the table is told where it ends.
    tables = "".join(
        f"\n{route} must answer for each of these keys, the idea's whole table (only some of their answers "
        f"are shown above): {', '.join(keys)}"
        for route, keys in acceptance.tables.items()
    )
    return (
        "\nThese requests, sent in this order, must get exactly these answers "
        f"({{name}} is the value an earlier answer gave):\n{describe_examples(acceptance)}{tables}"
    )
