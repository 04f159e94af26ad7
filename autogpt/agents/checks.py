"""What a project's behaviour is judged by, run the same way before and after a change.

OptimizerGPT keeps a change only when every check that passed before it still passes after
it, so the checks are deterministic and never the model's word:

* ``compile``: every Python file of the project compiles (on the host, ``compile`` only:
  nothing the project holds is run there);
* ``tests``: the project's own tests, in the Sandbox (pytest, ``npm test``, ``make test``;
  a built project's ``tests/`` folder runs with pytest);
* ``acceptance: REQUEST`` and ``contract: ROUTE``: the server, started in the Sandbox, against
  ``acceptance.json`` and ``contract.json``, exactly as BackendGPT verifies the server it
  wrote (:func:`autogpt.agents.backend.verify_server`).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from autogpt.agents.acting import test_command
from autogpt.agents.stacks import JAVASCRIPT, PYTHON, Stack
from autogpt.config import Settings
from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.tools.acceptance import Acceptance, load_acceptance
from autogpt.tools.builtin_tools import sandboxed, walk
from autogpt.tools.contract import ApiContract, validate_contract
from autogpt.tools.tool import ToolContext

Say = Callable[[str], Awaitable[None]]
CHECK_FILES = ("acceptance.json", "contract.json")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    evidence: str = ""

    def line(self) -> str:
        return f"{'pass' if self.ok else 'FAIL'} {self.name}" + ("" if self.ok else f": {self.evidence[:300]}")


@dataclass(frozen=True)
class CheckRun:
    """Every check of one moment, in a stable order."""

    checks: tuple[Check, ...] = field(default=())

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def regressions(self, after: CheckRun) -> list[Check]:
        """What passed here and fails (or is no longer run) in ``after``, as ``after`` saw it."""
        now = {c.name: c for c in after.checks}
        lost = []
        for check in self.checks:
            later = now.get(check.name, Check(check.name, False, "no longer run"))
            if check.ok and not later.ok:
                lost.append(later)
        return lost

    def summary(self) -> str:
        return f"{sum(c.ok for c in self.checks)}/{len(self.checks)} pass"

    def rows(self) -> list[dict[str, object]]:
        return [{"name": c.name, "ok": c.ok, "evidence": c.evidence[:500]} for c in self.checks]


def compile_check(ctx: ToolContext) -> Check:
    """Every ``.py`` file compiles; the evidence names each one that does not."""
    problems = []
    for path in walk(ctx):
        if not path.endswith(".py"):
            continue
        try:
            compile(ctx.workspace.read_text(path), path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(f"{path}:{exc.lineno}: {exc.msg}")
        except (ValueError, UnicodeDecodeError, RecursionError, MemoryError, AutoGPTError) as exc:
            problems.append(f"{path}: {type(exc).__name__}: {str(exc)[:120]}")
    return Check("compile", not problems, "; ".join(problems))


def tests_argv(ctx: ToolContext) -> list[str] | None:
    """The project's own test command; a built project (tests/ and requirements.txt) uses pytest."""
    argv = test_command(ctx)
    if argv is not None or not ctx.workspace.resolve("tests").is_dir():
        return argv
    if any(
        p.startswith("tests/") and p.rsplit("/", 1)[-1].startswith("test_") and p.endswith(".py") for p in walk(ctx)
    ):
        return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    return None


def _why_tests_failed(text: str) -> str:
    """pytest's FAILED/ERROR lines when there are any, else the output's last lines."""
    named = [line.strip() for line in text.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    lines = named or [line for line in text.strip().splitlines() if line.strip()][-8:]
    return "\n".join(lines)[-1500:]


async def tests_check(ctx: ToolContext, say: Say) -> Check | None:
    argv = tests_argv(ctx)
    if argv is None:
        return None
    await say("running the project's tests in the sandbox")
    passed, text, _ = await sandboxed(argv, ctx)
    return Check("tests", passed, "" if passed else _why_tests_failed(text))


def server_stack(ctx: ToolContext) -> Stack | None:
    """The stack whose server this project holds, when it has examples or a contract to check it by."""
    ws = ctx.workspace
    if not any(ws.exists(name) for name in CHECK_FILES):
        return None
    if ws.exists(PYTHON.server_file):
        return PYTHON
    if ws.exists(JAVASCRIPT.server_file) and ws.exists("package.json"):
        return JAVASCRIPT
    return None


def project_examples(ctx: ToolContext) -> tuple[Acceptance, ApiContract | None]:
    ws = ctx.workspace
    acceptance = load_acceptance(ws.read_text("acceptance.json")) if ws.exists("acceptance.json") else Acceptance()
    contract = None
    if ws.exists("contract.json"):
        try:
            contract = validate_contract(ApiContract.model_validate_json(ws.read_text("contract.json")))
        except ValidationError as exc:
            raise InvalidInputError(f"contract.json is malformed: {exc.errors()[0]['msg']}") from None
    return acceptance, contract


async def server_checks(ctx: ToolContext, settings: Settings, say: Say) -> list[Check]:
    from autogpt.agents.backend import verify_server

    stack = server_stack(ctx)
    if stack is None:
        return []
    acceptance, contract = project_examples(ctx)
    report = await verify_server(stack, contract, acceptance, ctx.workspace, settings, say)
    if not report.started:
        tail = "\n".join(report.log_tail.strip().splitlines()[-10:])
        return [Check("server starts", False, f"{report.error}\n{tail}".strip())]
    checks = [Check("server starts", True)]
    checks += [Check(f"acceptance: {o.example.label}", o.ok, "; ".join(o.problems)) for o in report.outcomes]
    checks += [Check(f"contract: {p.route}", p.ok, "; ".join(p.problems)) for p in report.probes]
    return checks


async def run_checks(ctx: ToolContext, settings: Settings, say: Say) -> CheckRun:
    """Every check this project offers, in a fixed order."""
    checks = [compile_check(ctx)]
    if (tests := await tests_check(ctx, say)) is not None:
        checks.append(tests)
    checks += await server_checks(ctx, settings, say)
    return CheckRun(tuple(checks))
