"""The idea benchmark: `autogpt build` on the embedded model for each idea in `bench/ideas/`, then the built
server started here (the build's own report is not trusted) and the idea's hand-written checks run against it.

    python bench/build_ideas.py [--out DIR] [--only 3,7] [--limit N] [--kind computed,text] [--lang javascript]
                                [--timeout SECONDS] [-- EXTRA BUILD ARGS, e.g. --api-only]
    python bench/build_ideas.py --reference     # the checks against bench/reference/: must all pass

Prints a row per idea (exit code, checks passed, FALSE SUCCESS when the build exited 0 but a check failed, wall
time, tokens) and the totals; writes OUT/summary.json and OUT/summary.md. A build takes minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.checks import Idea, load_ideas, run_checks  # noqa: E402

REFERENCE_DIR = ROOT / "bench" / "reference"
KEYS = ("OPENAI_API_KEY", "AUTOGPT_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AUTOGPT_ANTHROPIC_API_KEY")
_TOKENS = re.compile(r"Wall time [\d.]+s; (\d+) tokens")


@dataclass
class Row:
    number: int
    name: str
    lang: str
    kind: str
    exit: int | str  # the build's exit code, "timeout", or "-" for a reference server
    passed: int = 0
    total: int = 0
    seconds: float = 0.0
    tokens: int | None = None
    fix_rounds: int | None = None  # the backend's, from the build's verification.json
    server: str = "not started"
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def false_success(self) -> bool:
        return self.exit == 0 and not self.all_passed


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, help="where workspaces, logs and the summary go")
    p.add_argument("--only", help="idea numbers, comma-separated: 3,7")
    p.add_argument("--limit", type=int, help="the first N selected ideas")
    p.add_argument("--kind", help="only these kinds, comma-separated (crud, computed, text, ...)")
    p.add_argument("--lang", choices=("python", "javascript"), help="only ideas in this language")
    p.add_argument("--timeout", type=float, default=1800, help="seconds a build may take (default 1800)")
    p.add_argument("--startup", type=float, default=30, help="seconds a server may take to answer (default 30)")
    p.add_argument("--reference", action="store_true", help="check bench/reference/ instead of building")
    args = p.parse_args(argv)
    if args.out is None:
        args.out = Path(tempfile.gettempdir()) / ("bench-ideas-reference" if args.reference else "bench-ideas")
    return args, extra


def select(ideas: list[Idea], args: argparse.Namespace) -> list[Idea]:
    if args.only:
        wanted = {int(n) for n in args.only.split(",") if n.strip()}
        ideas = [i for i in ideas if i.number in wanted]
    if args.kind:
        kinds = set(args.kind.split(","))
        ideas = [i for i in ideas if i.kind in kinds]
    if args.lang:
        ideas = [i for i in ideas if i.lang == args.lang]
    return ideas[: args.limit] if args.limit else ideas


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever the server left behind in its group


_node_modules: Path | None = None


def node_modules() -> Path:
    """Express, installed once per machine by the project's own helper (outside any network namespace)."""
    global _node_modules
    if _node_modules is None:
        from autogpt.config import Settings
        from autogpt.tools.nodeenv import NODE_DEPENDENCIES, ensure_node_env

        _node_modules = asyncio.run(ensure_node_env(NODE_DEPENDENCIES, Settings().cache_dir))
    return _node_modules


def launch_argv(ws: Path, lang: str, port: int) -> tuple[list[str], dict[str, str]] | str:
    """How to start the server in ``ws``, or why it cannot be started."""
    env = {**os.environ, "PORT": str(port), "PYTHONDONTWRITEBYTECODE": "1"}
    if lang == "python":
        if not (ws / "app" / "main.py").exists():
            return "no app/main.py"
        venv = ws / ".venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
        return [python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)], env
    if not (ws / "server.js").exists():
        return "no server.js"
    if not (ws / "node_modules").is_dir():
        env["NODE_PATH"] = str(node_modules())
    return ["node", "server.js"], env


@contextmanager
def serve(ws: Path, lang: str, log: Path, startup: float) -> Iterator[tuple[str | None, str]]:
    """Start the server in ``ws`` on a free port: (its base URL, "started") once it answers HTTP at all,
    else (None, why not)."""
    port = free_port()
    how = launch_argv(ws, lang, port)
    if isinstance(how, str):
        yield None, how
        return
    argv, env = how
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ws, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        state = f"did not answer within {startup:g}s"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                state = f"exited with {proc.returncode} before answering"
                break
            try:
                httpx.get(base + "/", timeout=2, trust_env=False)
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            state = "started"
            break
        yield (base if state == "started" else None), state
    finally:
        _stop(proc)


async def _confined_checks(idea: Idea, ws: Path, log: Path, startup: float) -> tuple[str, list[Any] | None]:
    """Start a built server in the project's Sandbox, as the build did (generated code never
    runs on the host unconfined), sharing only the loopback network so the checks reach it;
    run the checks from a thread. (state, outcomes or None)."""
    from autogpt.agents.stacks import STACKS
    from autogpt.config import Settings
    from autogpt.tools.sandbox import Limits, Sandbox
    from autogpt.tools.workspace import Workspace

    entry = "app/main.py" if idea.lang == "python" else "server.js"
    if not (ws / entry).exists():
        return f"no {entry}", None
    port = free_port()
    launch = await STACKS[idea.lang].launch(Settings().cache_dir, port)
    sandbox = Sandbox(Workspace(ws), readable=launch.readable)
    proc = await sandbox.start(
        launch.argv, limits=Limits(wall_seconds=600, memory_mb=2048), env=launch.env, network=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        state = await asyncio.to_thread(_wait_answering, base, startup, lambda: proc.returncode)
        if state != "started":
            return state, None
        return state, await asyncio.to_thread(run_checks, base, idea.checks)
    finally:
        await proc.stop()
        await asyncio.to_thread(log.write_text, proc.output_tail())


def _wait_answering(base: str, startup: float, exited: Any) -> str:
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        if (code := exited()) is not None:
            return f"exited with {code} before answering"
        try:
            httpx.get(base + "/", timeout=2, trust_env=False)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        return "started"
    return f"did not answer within {startup:g}s"


def check_server(idea: Idea, ws: Path, row: Row, log: Path, startup: float, *, confined: bool = True) -> None:
    """Run the idea's checks against the server in ``ws``: a built one in the Sandbox, a
    hand-written reference (``confined=False``) as a plain process."""
    row.total = len(idea.checks)
    if confined:
        state, found = asyncio.run(_confined_checks(idea, ws, log, startup))
        row.server = state
        if found is None:
            row.failures.append({"request": "(server)", "problems": [state]})
            return
        outcomes = found
    else:
        with serve(ws, idea.lang, log, startup) as (base, state):
            row.server = state
            if base is None:
                row.failures.append({"request": "(server)", "problems": [state]})
                return
            outcomes = run_checks(base, idea.checks)
    row.passed = sum(o.ok for o in outcomes)
    row.failures += [{"request": o.request, "status": o.status, "problems": o.problems} for o in outcomes if not o.ok]


def fix_rounds_of(ws: Path) -> int | None:
    try:
        rounds = json.loads((ws / "verification.json").read_text()).get("fix_rounds")
    except (OSError, ValueError, AttributeError):
        return None
    return rounds if isinstance(rounds, int) else None


def tokens_of(stdout: str, ws: Path) -> int | None:
    report = ws / "REPORT.md"
    for text in (stdout, report.read_text(errors="replace") if report.exists() else ""):
        if m := _TOKENS.search(text):
            return int(m.group(1))
    return None


def network_wrap() -> list[str]:
    """No network for the build: its own namespace, with loopback up for the embedded model's server."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0:
        return ["unshare", "-n", "/bin/sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"]
    return []


def build(idea: Idea, ws: Path, log: Path, extra: list[str], timeout: float) -> tuple[int | str, float, str]:
    """Run `autogpt build` for ``idea`` into ``ws``: (exit code or "timeout", seconds, stdout)."""
    shutil.rmtree(ws, ignore_errors=True)
    exe = str(Path(sys.executable).parent / "autogpt")
    lang = ["--lang", "javascript"] if idea.lang == "javascript" else []
    argv = [*network_wrap(), exe, "build", idea.idea, "--workspace", str(ws), *lang, *extra]
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env.setdefault("AUTOGPT_PROVIDER", "embedded")
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        start_new_session=True,
    )  # fmt: skip
    code: int | str
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        _stop(proc)
        stdout, stderr = proc.communicate()
        code = "timeout"
    seconds = time.monotonic() - started
    log.write_text(f"$ {shlex.join(argv)}\n\n== stdout\n{stdout}\n== stderr\n{stderr}")
    return code, seconds, stdout


def print_row(row: Row) -> None:
    tokens = "-" if row.tokens is None else str(row.tokens)
    rounds = "-" if row.fix_rounds is None else str(row.fix_rounds)
    flag = "  FALSE SUCCESS" if row.false_success else ""
    print(
        f"{row.name:<22} {row.lang:<10} {row.kind:<10} exit {row.exit!s:<7} checks {row.passed}/{row.total}"
        f"  {row.seconds:6.0f}s  {tokens:>7} tokens  {rounds} fix rounds{flag}",
        flush=True,
    )
    for failure in row.failures[:4]:
        print(f"    {failure['request']}: {'; '.join(failure['problems'])[:220]}", flush=True)


def totals(rows: list[Row], wall: float) -> dict[str, Any]:
    non_crud = [r for r in rows if r.kind != "crud"]
    return {
        "ideas": len(rows),
        "all_checks_passed": sum(r.all_passed for r in rows),
        "non_crud": len(non_crud),
        "non_crud_all_checks_passed": sum(r.all_passed for r in non_crud),
        "checks": sum(r.total for r in rows),
        "checks_passed": sum(r.passed for r in rows),
        "exit_0": sum(r.exit == 0 for r in rows),
        "false_successes": sum(r.false_success for r in rows),
        "tokens": sum(r.tokens or 0 for r in rows),
        "fix_rounds": sum(r.fix_rounds or 0 for r in rows),
        "seconds": round(wall, 1),
    }


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "0/0"


def markdown(rows: list[Row], t: dict[str, Any], mode: str) -> str:
    lines = [
        f"# Idea benchmark ({mode})",
        "",
        "| # | idea | lang | kind | exit | checks | false success | wall | tokens | fix rounds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.number} | {r.name} | {r.lang} | {r.kind} | {r.exit} | {r.passed}/{r.total} "
            f"| {'**yes**' if r.false_success else 'no'} | {r.seconds:.0f}s | {'-' if r.tokens is None else r.tokens} "
            f"| {'-' if r.fix_rounds is None else r.fix_rounds} |"
        )
    lines += [
        "",
        f"- ideas passing all checks: {pct(t['all_checks_passed'], t['ideas'])}",
        f"- non-CRUD ideas passing all checks: {pct(t['non_crud_all_checks_passed'], t['non_crud'])}",
        f"- checks passed: {pct(t['checks_passed'], t['checks'])}",
        f"- builds exiting 0: {t['exit_0']}; false successes (exit 0, a check failed): {t['false_successes']}",
        f"- total time {t['seconds']:.0f}s; tokens {t['tokens']}; backend fix rounds {t['fix_rounds']}",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    ideas = select(load_ideas(), args)
    if not ideas:
        print("no idea matches the selection", file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if not args.reference and any(i.lang == "javascript" for i in ideas):
        node_modules()  # before the builds, which have no network
    settings = {k: v for k, v in os.environ.items() if k in ("AUTOGPT_MODEL", "AUTOGPT_ROLE_MODELS")}
    mode = (
        "reference servers"
        if args.reference
        else " ".join(["autogpt build", *extra, *(f"{k}={v}" for k, v in settings.items())])
    )
    print(f"{len(ideas)} idea(s), {mode}; output in {out}", flush=True)
    started = time.monotonic()
    rows = []
    for idea in ideas:
        row = Row(idea.number, idea.name, idea.lang, idea.kind, "-")
        if args.reference:
            ws = REFERENCE_DIR / idea.name
            t0 = time.monotonic()
            check_server(idea, ws, row, out / f"{idea.name}.server.log", args.startup, confined=False)
            row.seconds = time.monotonic() - t0
        else:
            ws = out / idea.name
            row.exit, row.seconds, stdout = build(idea, ws, out / f"{idea.name}.build.log", extra, args.timeout)
            row.tokens, row.fix_rounds = tokens_of(stdout, ws), fix_rounds_of(ws)
            check_server(idea, ws, row, out / f"{idea.name}.server.log", args.startup)
        print_row(row)
        rows.append(row)
    t = totals(rows, time.monotonic() - started)
    summary = {"mode": mode, "totals": t, "ideas": [{**asdict(r), "false_success": r.false_success} for r in rows]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    table = markdown(rows, t, mode)
    (out / "summary.md").write_text(table)
    print()
    print(table, end="")
    if args.reference:
        return 0 if t["all_checks_passed"] == t["ideas"] else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
