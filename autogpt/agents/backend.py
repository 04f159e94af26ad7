"""BackendGPT: writes the server for a contract, starts it confined, probes every route,
and fixes what fails, for a bounded number of rounds.

Small models need help, so the work is cut small: one file of server code per prompt,
the contract spelled out route by route, and on failure the exact evidence (status,
body, problems, the server's traceback); everything deterministic (dependency file,
tests) is written without the model. Nothing here trusts the code it wrote: it only
ever runs inside the Sandbox, with no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from autogpt.agents.base import Agent, Context, action
from autogpt.agents.running import RunningServer, running_server
from autogpt.agents.stacks import EXAMPLE_CONTRACT, STACKS, Stack
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.mind.repair import repair
from autogpt.tools.contract import ApiContract, Route, check_response, contract_from, fill_path, task_command


def describe_routes(contract: ApiContract) -> str:
    lines = []
    for r in contract.ordered():
        body = f" body like {json.dumps(r.request_example)}" if r.request_example else ""
        keys = f" with keys {', '.join(r.response_keys)}" if r.response_keys else ""
        shape = {"array": "a JSON array of objects", "object": "a JSON object", "none": "no body"}[r.response_type]
        lines.append(f"- {r.method} {r.path}:{body} -> status {r.expected_status}, {shape}{keys}. ({r.summary})")
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
    log_tail: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.started and bool(self.probes) and all(p.ok for p in self.probes)

    def evidence(self) -> str:
        lines = []
        if not self.started:
            lines.append(f"The server did not start: {self.error}")
        for p in self.probes:
            if not p.ok:
                lines.append(f"- {p.route}: {'; '.join(p.problems)}. Body: {p.body[:300]}")
        if self.log_tail.strip():
            lines.append("Server log (last lines):\n" + "\n".join(self.log_tail.strip().splitlines()[-25:]))
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
        contract = contract_from(command.args, self.workspace, self.name)
        ws = self.workspace.ensure()
        for path, content in stack.files(contract).items():
            ws.write_text(path, content, agent=self.name)

        async def check(code: str) -> Verification:
            ws.write_text(stack.server_file, code, agent=self.name)
            return await self._verify(stack, contract, ctx)

        first = await self._draft(stack, contract, ctx, str(command.args.get("previous_error", "")))
        _, report, rounds = await repair(
            first,
            check=check,
            fix=lambda code, report, temperature: self._fix(stack, contract, code, report, ctx, temperature),
            redraft=lambda evidence: self._draft(stack, contract, ctx, evidence, temperature=0.7),
            say=ctx.status,
            rounds=self.fix_rounds,
        )
        passed = sum(p.ok for p in report.probes)
        summary = (
            f"{stack.framework} server {'verified' if report.ok else 'NOT verified'}: {passed}/{len(contract.routes)} "
            f"routes answered as the contract says, after {rounds} fix round(s)"
        )
        verification = {"ok": report.ok, "fix_rounds": rounds, "routes": report.table(), "error": report.error}
        ws.write_text("verification.json", json.dumps(verification, indent=2) + "\n", agent=self.name)
        files = [w for w in ws.writes if w.agent == self.name]
        return Result(
            ok=report.ok,
            output=summary + ("" if report.ok else "\n" + report.evidence()[:1500]),
            data={"verification": verification, "run": stack.run_hint, "contract": contract.model_dump()},
            artifacts=tuple(Artifact(w.path, "file", w.size, w.sha256) for w in files),
        )

    async def _ask_code(self, stack: Stack, prompt: str, ctx: Context, temperature: float = 0.1) -> str:
        assert self.workspace is not None
        scratch = self.workspace.root / ".tmp"

        async def parse(reply: str) -> str:
            code = stack.extract(reply)
            if problem := await stack.syntax_error(code, scratch):
                raise InvalidInputError(f"the code does not parse: {problem}")
            return code

        return await self.think_usable(prompt, parse, ctx, what="code", max_tokens=1500, temperature=temperature)

    async def _draft(
        self, stack: Stack, contract: ApiContract, ctx: Context, hint: str, temperature: float = 0.1
    ) -> str:
        await ctx.status(f"writing {stack.server_file}")
        extra = f"\nAn earlier attempt failed with: {hint[:800]}" if hint else ""
        return await self._ask_code(
            stack,
            f"Example. For these routes:\n{EXAMPLE_CONTRACT}\nthis is a correct {stack.server_file}:\n"
            f"```{stack.fence}\n{stack.example}```\n\n"
            f"Now write {stack.server_file} for '{contract.name}' in the same style, with {stack.framework}. "
            f"It must implement exactly these routes:\n{describe_routes(contract)}\n"
            f"{stack.style} No example usage, no prints, nothing but the app. "
            f"Reply with the whole file in one ```{stack.fence} block." + extra,
            ctx,
            temperature,
        )

    async def _fix(
        self, stack: Stack, contract: ApiContract, code: str, report: Verification, ctx: Context, temperature: float
    ) -> str:
        return await self._ask_code(
            stack,
            f"A correct server in the expected style, for other routes:\n```{stack.fence}\n{stack.example}```\n\n"
            f"This {stack.framework} server ({stack.server_file}) must implement these routes:\n"
            f"{describe_routes(contract)}\n\nCurrent code:\n```{stack.fence}\n{code}```\n\n"
            f"It fails:\n{report.evidence()}\n\n"
            f"Return the complete corrected file in one ```{stack.fence} block, with no example usage and no prints.",
            ctx,
            temperature,
        )

    async def _verify(self, stack: Stack, contract: ApiContract, ctx: Context) -> Verification:
        assert self.workspace is not None
        report = Verification()
        async with running_server(
            stack, self.workspace, self.settings, ctx.status, startup_seconds=self.startup_seconds
        ) as server:
            report.started = server.started
            if not server.started:
                report.error = "it exited or did not answer HTTP within the start-up time"
            else:
                known: dict[str, Any] = {}
                for route in contract.ordered():
                    report.probes.append(await self._probe(server, route, known))
                await ctx.status(f"{sum(p.ok for p in report.probes)}/{len(report.probes)} routes pass")
        report.log_tail = server.log_tail()
        return report

    async def _probe(self, server: RunningServer, route: Route, known: dict[str, Any]) -> Probe:
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
