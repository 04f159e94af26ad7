"""BackendGPT: writes the server for a contract, starts it confined, probes every route,
and fixes what fails, for a bounded number of rounds.

Small models need help, so the work is cut small: one file of server code per prompt,
the contract spelled out route by route, and on failure the exact evidence (status,
body, problems, the server's traceback); everything deterministic (dependency file,
tests) is written without the model. Nothing here trusts the code it wrote: it only
ever runs inside the Sandbox, with no network.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import Message, Options
from autogpt.tools.contract import ApiContract, Route, check_response, fill_path
from autogpt.tools.pyenv import PYTHON_REQUIREMENTS, ensure_python_env
from autogpt.tools.sandbox import Limits, Sandbox, free_port

SERVER_FILE = "app/main.py"

# A complete server for a different resource: small models copy a shape far more
# reliably than they follow a list of rules.
EXAMPLE_CONTRACT = """- POST /notes: body like {"text": "buy milk"} -> status 201, a JSON object with keys id, text.
- GET /notes: -> status 200, a JSON array of objects with keys id, text.
- GET /notes/{id}: -> status 200, a JSON object with keys id, text.
- DELETE /notes/{id}: -> status 204, no body."""
EXAMPLE_SERVER = """from fastapi import FastAPI, HTTPException, Response

app = FastAPI()
notes: dict[int, dict] = {}


@app.post("/notes", status_code=201)
def create_note(body: dict):
    note_id = len(notes) + 1
    notes[note_id] = {"id": note_id, **body}
    return notes[note_id]


@app.get("/notes")
def list_notes():
    return list(notes.values())


@app.get("/notes/{id}")
def get_note(id: int):
    if id not in notes:
        raise HTTPException(status_code=404, detail="not found")
    return notes[id]


@app.delete("/notes/{id}", status_code=204)
def delete_note(id: int):
    notes.pop(id, None)
    return Response(status_code=204)
"""

_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The Python code in a model's reply, or ``InvalidInputError`` if it holds none."""
    blocks = _FENCE.findall(text)
    code = max(blocks, key=len) if blocks else text
    code = code.strip() + "\n"
    if "import" not in code and "def " not in code:
        raise InvalidInputError("the reply holds no Python code")
    try:
        compile(code, SERVER_FILE, "exec")
    except SyntaxError as exc:
        raise InvalidInputError(f"the code does not compile: line {exc.lineno}: {exc.msg}") from None
    return code


def describe_routes(contract: ApiContract) -> str:
    lines = []
    for r in contract.ordered():
        body = f" body like {json.dumps(r.request_example)}" if r.request_example else ""
        keys = f" with keys {', '.join(r.response_keys)}" if r.response_keys else ""
        shape = {"array": "a JSON array of objects", "object": "a JSON object", "none": "no body"}[r.response_type]
        lines.append(f"- {r.method} {r.path}:{body} -> status {r.expected_status}, {shape}{keys}. ({r.summary})")
    return "\n".join(lines)


def render_tests(contract: ApiContract) -> str:
    """Pytest tests for the contract, run against the app in-process with TestClient."""
    out = [
        '"""Contract tests, generated from contract.json: `python -m pytest -q tests`."""',
        "",
        "from fastapi.testclient import TestClient",
        "",
        "from app.main import app",
        "",
        "client = TestClient(app)",
        "known: dict = {}",
    ]
    for i, r in enumerate(contract.ordered()):
        path = re.sub(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}", r"{known.get('\1', known.get('id', 1))}", r.path)
        body = f", json={r.request_example!r}" if r.request_example is not None else ""
        out += [
            "",
            "",
            f"def test_{i}_{r.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', r.path.lower()).strip('_') or 'root'}():",
            f'    response = client.{r.method.lower()}(f"{path}"{body})',
            f"    assert response.status_code == {r.expected_status}, response.text",
        ]
        if r.response_type == "object" and r.expected_status < 300:
            out += ["    data = response.json()", "    assert isinstance(data, dict)"]
            out += [f"    assert {k!r} in data" for k in r.response_keys]
            out += ["    known.update({k: v for k, v in data.items() if isinstance(v, (int, str))})"]
        elif r.response_type == "array" and r.expected_status < 300:
            out += ["    assert isinstance(response.json(), list)"]
    return "\n".join(out) + "\n"


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
    aliases: ClassVar[tuple[str, ...]] = ("back", "backend", "backendgpt")
    persona = (
        "You are BackendGPT, a careful Python backend engineer. You write complete, runnable FastAPI "
        "servers that follow an API contract exactly, keeping data in memory."
    )
    capabilities = frozenset({"llm.chat", "fs.write", "exec.run", "net.http"})
    fix_rounds: ClassVar[int] = 3
    startup_seconds: ClassVar[float] = 30.0

    def _contract(self, data: dict[str, Any]) -> ApiContract:
        if "contract" in data:
            return ApiContract.model_validate(data["contract"])
        assert self.workspace is not None
        if self.workspace.exists("contract.json"):
            return ApiContract.model_validate_json(self.workspace.read_text("contract.json"))
        raise InvalidInputError("BackendGPT needs an API contract (run the architect first)")

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        data = dict(task.input)
        for dep in data.get("dependencies", {}).values():
            if isinstance(dep, dict) and "contract" in dep:
                data.setdefault("contract", dep["contract"])
        command = Command("create", task.description, str(data.get("language", "")), data)
        return await self.create(command, ctx)

    @action("create", help="write, start and verify the server for contract.json")
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("BackendGPT needs a workspace")
        language = (command.language or "python").lower()
        if language != "python":
            raise InvalidInputError(f"BackendGPT writes Python servers for now, not {language}")
        contract = self._contract(command.args)
        ws = self.workspace.ensure()
        ws.write_text("requirements.txt", PYTHON_REQUIREMENTS, agent=self.name)
        ws.write_text("app/__init__.py", "", agent=self.name)
        ws.write_text("tests/test_api.py", render_tests(contract), agent=self.name)
        hint = str(command.args.get("previous_error", ""))
        code = await self._draft(contract, ctx, hint)
        await ctx.status("preparing the Python environment")
        bin_dir = await ensure_python_env(PYTHON_REQUIREMENTS, self.settings.cache_dir)
        report = Verification()
        rounds = 0
        for rounds in range(self.fix_rounds + 1):
            if rounds:
                await ctx.status(f"fix round {rounds}: {report.evidence().splitlines()[0][:100]}")
                fixed = await self._fix(contract, code, report, ctx, temperature=0.2 * rounds)
                if fixed == code:  # the model is stuck on this draft: start over, more freely
                    await ctx.status("the fix changed nothing; writing a fresh draft")
                    fixed = await self._draft(contract, ctx, report.evidence(), temperature=0.7)
                code = fixed
            ws.write_text(SERVER_FILE, code, agent=self.name)
            report = await self._verify(contract, bin_dir, ctx)
            if report.ok:
                break
        passed = sum(p.ok for p in report.probes)
        summary = (
            f"server {'verified' if report.ok else 'NOT verified'}: {passed}/{len(contract.routes)} routes answered "
            f"as the contract says, after {rounds} fix round(s)"
        )
        verification = {"ok": report.ok, "fix_rounds": rounds, "routes": report.table(), "error": report.error}
        ws.write_text("verification.json", json.dumps(verification, indent=2) + "\n", agent=self.name)
        files = [w for w in ws.writes if w.agent == self.name]
        return Result(
            ok=report.ok,
            output=summary + ("" if report.ok else "\n" + report.evidence()[:1500]),
            data={
                "verification": verification,
                "run": "uvicorn app.main:app --port 8000",
                "contract": contract.model_dump(),
            },
            artifacts=tuple(Artifact(w.path, "file", w.size, w.sha256) for w in files),
        )

    async def _ask_code(self, prompt: str, ctx: Context, temperature: float = 0.1) -> str:
        messages = [Message.system(self.persona), Message.user(prompt)]
        problem = ""
        for _ in range(2):
            ask = messages if not problem else [*messages, Message.user(f"{problem}. Reply with only the code.")]
            completion = await self.think(ask, options=Options(max_tokens=1500, temperature=temperature))
            try:
                return extract_code(completion.text)
            except InvalidInputError as exc:
                problem = str(exc)
                await ctx.status(f"reply was not usable code ({problem}); asking again")
        raise InvalidInputError(f"BackendGPT got no usable code from the model: {problem}")

    async def _draft(self, contract: ApiContract, ctx: Context, hint: str, temperature: float = 0.1) -> str:
        await ctx.status("writing app/main.py")
        extra = f"\nAn earlier attempt failed with: {hint[:800]}" if hint else ""
        return await self._ask_code(
            f"Example. For these routes:\n{EXAMPLE_CONTRACT}\nthis is a correct {SERVER_FILE}:\n"
            f"```python\n{EXAMPLE_SERVER}```\n\n"
            f"Now write {SERVER_FILE} for '{contract.name}' in the same style. It must implement exactly "
            f"these routes:\n{describe_routes(contract)}\n"
            "Keep data in a module-level dict. Take request bodies as `body: dict`. No example usage, no "
            "prints, nothing but the app. Reply with the whole file in one ```python block." + extra,
            ctx,
            temperature,
        )

    async def _fix(
        self, contract: ApiContract, code: str, report: Verification, ctx: Context, temperature: float
    ) -> str:
        return await self._ask_code(
            f"A correct server in the expected style, for other routes:\n```python\n{EXAMPLE_SERVER}```\n\n"
            f"This FastAPI server ({SERVER_FILE}) must implement these routes:\n{describe_routes(contract)}\n\n"
            f"Current code:\n```python\n{code}```\n\nIt fails:\n{report.evidence()}\n\n"
            "Return the complete corrected file in one ```python block, with no example usage and no prints.",
            ctx,
            temperature,
        )

    async def _verify(self, contract: ApiContract, bin_dir: Path, ctx: Context) -> Verification:
        assert self.workspace is not None
        report = Verification()
        sandbox = Sandbox(self.workspace, readable=(bin_dir.parent,))
        port = free_port()
        env = {"PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}
        argv = [str(bin_dir / "python"), "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
        await ctx.status(f"starting the server on port {port}")
        proc = await sandbox.start(argv, limits=Limits(wall_seconds=300, memory_mb=1024), env=env, network=False)
        try:
            report.started = await self._wait_ready(sandbox, proc, port)
            if not report.started:
                report.error = "it exited or did not answer HTTP within the start-up time"
                return report
            known: dict[str, Any] = {}
            for route in contract.ordered():
                report.probes.append(await self._probe(sandbox, proc, port, route, known))
            await ctx.status(f"{sum(p.ok for p in report.probes)}/{len(report.probes)} routes pass")
        finally:
            await proc.stop()
            report.log_tail = proc.output_tail()
        return report

    async def _wait_ready(self, sandbox: Sandbox, proc: Any, port: int) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_seconds
        while loop.time() < deadline:
            if proc.returncode is not None:
                return False
            try:
                await sandbox.request(proc, "GET", port, "/openapi.json", timeout=2)
            except (OSError, AutoGPTError, TimeoutError):
                await asyncio.sleep(0.2)
                continue
            return True
        return False

    async def _probe(self, sandbox: Sandbox, proc: Any, port: int, route: Route, known: dict[str, Any]) -> Probe:
        path = fill_path(route, known)
        probe = Probe(f"{route.method} {path}")
        body = json.dumps(route.request_example).encode() if route.request_example is not None else None
        try:
            response = await sandbox.request(
                proc, route.method, port, path, body=body, headers={"content-type": "application/json"}, timeout=10
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
