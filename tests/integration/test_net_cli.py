"""Networked mode as people run it: `orchgpt serve`, `autogpt --net --agent`, `autogpt --net -c`,
each a real process, talking mutual TLS with certificates made for this test."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from test_build import SAID

from orchgpt.pki import make_test_pki

CLIENTS = {
    "gen1": ["generic"],
    "gen2": ["generic"],
    "alice": ["user"],
    "back1": ["backend"],
    "back2": ["backend"],
    "man1": ["manager"],
    "arch1": ["architect"],
    "design1": ["designer"],
    "front1": ["frontend"],
    "git1": ["git"],
}


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "ORCHGPT_", "OPENAI_", "ANTHROPIC_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class Proc:
    """A child process whose stdout lines we can wait for."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, args: Sequence[str], env: dict[str, str]) -> Proc:
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
        )
        return cls(proc)

    async def expect(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"process ended before {pattern!r}; output: {self.lines[-20:]}")
                line = raw.decode(errors="replace").rstrip()
                self.lines.append(line)
                match = re.search(pattern, line)
                if match:
                    return match

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        async with asyncio.timeout(30):
            await self.proc.communicate()
        assert self.proc.returncode is not None
        return self.proc.returncode


class Deployment:
    def __init__(self, certs: Path, tmp: Path) -> None:
        self.certs = certs
        self.tmp = tmp
        self.port = 0
        self.procs: list[Proc] = []
        self.ledger = tmp / "ledger.sqlite3"

    @property
    def target(self) -> str:
        return f"localhost:{self.port}"

    async def orchestrator(self, port: int = 0) -> Proc:
        proc = await Proc.start(
            [sys.executable, "-m", "orchgpt", "serve", "--listen", f"127.0.0.1:{port}", "--certs", str(self.certs)],
            _env(
                {"ORCHGPT_HEARTBEAT_TIMEOUT": "15", "ORCHGPT_GRACE": "1", "ORCHGPT_LEDGER": str(self.ledger)}
            ),  # peers are told to beat every 5 s; a killed process is seen at once, its stream closes
        )
        self.procs.append(proc)
        self.port = int((await proc.expect(r"orchgpt listening on [\d.]+:(\d+)")).group(1))
        return proc

    async def agent(
        self, name: str, role: str, replies: list[object], workspace: Path | None = None, **settings: str
    ) -> Proc:
        """An agent process serving ``role``; ``settings`` are extra AUTOGPT_* settings by name."""
        script = self.tmp / f"{name}-script.json"
        script.write_text(json.dumps(replies))
        env = _env(
            {
                "AUTOGPT_PROVIDER": "scripted",
                "AUTOGPT_SCRIPT": str(script),
                "AUTOGPT_RECONNECT_MAX": "0.5",
                "AUTOGPT_HEARTBEAT": "1",
                "AUTOGPT_WORKSPACE": str(workspace or self.tmp / f"{name}-ws"),
                "AUTOGPT_CACHE_DIR": str(self.tmp / "cache"),
                **{f"AUTOGPT_{key.upper()}": value for key, value in settings.items()},
            }
        )
        args = [sys.executable, "-m", "autogpt", "--net", "--agent", role, "--orchestrator", self.target]
        proc = await Proc.start([*args, "--certs", str(self.certs), "--cert-name", name], env)
        self.procs.append(proc)
        await proc.expect(r"serving as")
        return proc

    def console_args(self, *lines: str, cert: str = "alice", target: str | None = None) -> list[str]:
        args = [sys.executable, "-m", "autogpt", "--net", "--orchestrator", target or self.target]
        args += ["--certs", str(self.certs), "--cert-name", cert]
        for line in lines:
            args += ["-c", line]
        return args

    async def start_console(self, line: str) -> Proc:
        """A console running ``line`` in the background, for tests that act while it waits."""
        return await Proc.start(self.console_args(line), _env())

    async def console(self, *lines: str, cert: str = "alice", target: str | None = None) -> tuple[int, str, str]:
        args = self.console_args(*lines, cert=cert, target=target)
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env()
        )
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    dep = Deployment(make_test_pki(tmp_path / "certs", CLIENTS), tmp_path)
    yield dep
    for proc in reversed(dep.procs):
        if proc.proc.returncode is None:
            proc.proc.kill()
            await proc.proc.wait()


async def test_console_to_agent_through_the_orchestrator(deployment: Deployment) -> None:
    await deployment.orchestrator()
    await deployment.agent("gen1", "generic", ["Hello over mutual TLS."])
    code, out, err = await deployment.console('/gen run "say hello"', "/agents")
    assert code == 0, err
    assert "Hello over mutual TLS." in out
    assert re.search(r"gen1\s+generic", out)
    assert re.search(r"alice\s+user", out)


async def test_two_instances_of_a_role_share_the_work(deployment: Deployment) -> None:
    await deployment.orchestrator()
    await deployment.agent("gen1", "generic", ["from-one"] * 4)
    await deployment.agent("gen2", "generic", ["from-two"] * 4)
    code, out, err = await deployment.console(*['/GenericGPT run "who are you"'] * 4)
    assert code == 0, err
    assert out.count("from-one") == 2
    assert out.count("from-two") == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('/arch create "fastapi app" | python', "no live agent serves role 'architect'"),
        ("/wizard run x", "unknown agent 'wizard'"),
        ("/gen", "what should GenericGPT do?"),
        ('/gen run "unclosed', "malformed line"),
        ("hello", "say which agent first"),
    ],
)
async def test_console_errors_are_one_line(deployment: Deployment, line: str, message: str) -> None:
    await deployment.orchestrator()
    await deployment.agent("gen1", "generic", [])
    code, _, err = await deployment.console(line)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


async def test_unreachable_orchestrator_is_a_clear_error(deployment: Deployment) -> None:
    orch = await deployment.orchestrator()
    target = deployment.target
    await orch.stop()
    code, _, err = await deployment.console("/agents", target=target)
    assert code == 1
    assert "cannot reach the orchestrator" in err
    assert "Traceback" not in err


async def test_agent_killed_mid_request_gives_a_typed_error(deployment: Deployment) -> None:
    await deployment.orchestrator()
    agent = await deployment.agent("gen1", "generic", [{"text": "too late", "delay": 60}])
    console = await deployment.start_console('/gen run "take your time"')
    await console.expect("accepted")  # the agent holds the request now
    agent.proc.kill()
    await console.expect("disconnected before answering", timeout=30)
    async with asyncio.timeout(30):
        assert await console.proc.wait() == 1


async def test_agents_reconnect_after_the_orchestrator_restarts(deployment: Deployment) -> None:
    orch = await deployment.orchestrator()
    port = deployment.port
    agent = await deployment.agent("gen1", "generic", ["before restart", "after restart"])
    code, out, _ = await deployment.console('/gen run "one"')
    assert (code, "before restart" in out) == (0, True)
    assert await orch.stop() == 0  # SIGTERM: graceful
    await deployment.orchestrator(port=port)
    await agent.expect(r"serving as", timeout=30)  # it came back on its own
    code, out, err = await deployment.console('/gen run "two"')
    assert code == 0, err
    assert "after restart" in out


SAID_APP = SAID.replace("a todo API", "a todo app with a web page", 1)


async def test_the_team_builds_a_project_as_separate_processes(deployment: Deployment) -> None:
    """ManagerGPT, ArchitectGPT and BackendGPT each in their own process, through orchgpt over mTLS."""
    from test_build import DESIGN, GOOD, PLAN

    shared = deployment.tmp / "project"
    await deployment.orchestrator()
    await deployment.agent("arch1", "architect", [json.dumps(DESIGN)], workspace=shared)
    await deployment.agent("back1", "backend", [GOOD], workspace=shared)
    await deployment.agent("man1", "manager", [json.dumps(PLAN)], workspace=shared)
    code, out, err = await deployment.console(f'/manager create "{SAID}" | python')
    assert code == 0, err + out
    assert "Server verified: **yes**" in out
    assert "[t2 backend done]" in err  # the manager relayed the backend's progress to the console
    verification = json.loads((shared / "verification.json").read_text())
    assert [r["example"] for r in verification["acceptance"]] == ["POST /todos", "GET /todos", "GET /todos/1"]
    assert (shared / "REPORT.md").exists()


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` but hidden ones and bytecode caches, by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
    }


async def test_the_team_builds_a_project_with_a_workspace_per_process(deployment: Deployment) -> None:
    """As if each agent ran on its own machine: files travel in chunks through orchgpt."""
    from test_build import DESIGN, GOOD, PLAN

    man, arch, back = (deployment.tmp / name for name in ("man-ws", "arch-ws", "back-ws"))
    await deployment.orchestrator()
    await deployment.agent("arch1", "architect", [json.dumps(DESIGN)], workspace=arch)
    await deployment.agent("back1", "backend", [GOOD], workspace=back)
    await deployment.agent("man1", "manager", [json.dumps(PLAN)], workspace=man)
    code, out, err = await deployment.console(f'/manager create "{SAID}" | python')
    assert code == 0, err + out
    assert "Server verified: **yes**" in out
    assert re.search(r"\[t2 backend running\] fetching \d file\(s\) from man1", err)  # the architect's, via the manager
    at_manager, at_architect, at_backend = digests(man), digests(arch), digests(back)
    assert {"ARCHITECTURE.md", "contract.json", "acceptance.json", "openapi.json"} <= set(at_architect)
    assert {"app/main.py", "requirements.txt", "verification.json", "contract.json"} <= set(at_backend)
    assert {**at_architect, **at_backend, "REPORT.md": at_manager["REPORT.md"]} == at_manager
    assert at_backend["contract.json"] == at_architect["contract.json"]  # the backend got what it needed
    verification = json.loads((man / "verification.json").read_text())
    assert verification["ok"]
    assert [r["example"] for r in verification["acceptance"]] == ["POST /todos", "GET /todos", "GET /todos/1"]
    report = (man / "REPORT.md").read_text()
    assert "- `app/main.py` (backend)" in report
    ids = {(root / ".autogpt/workspace-id").read_text() for root in (man, arch, back)}
    assert len(ids) == 3


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def test_orchgpt_up_supervises_a_local_team(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps(["first answer", "second answer"]))
    env = _env({"AUTOGPT_PROVIDER": "scripted", "AUTOGPT_SCRIPT": str(script), "AUTOGPT_HEARTBEAT": "1"})
    args = [sys.executable, "-m", "orchgpt", "up", "--roles", "gen", "--dir", str(tmp_path / "certs")]
    team = await Proc.start([*args, "--workspace", str(tmp_path / "ws")], env)
    try:
        pid = int((await team.expect(r"started generic \(pid (\d+)\)")).group(1))
        target = (await team.expect(r"--orchestrator (\S+)")).group(1)
        await team.expect(r"task ledger: orchgpt tasks --ledger \S+ledger.sqlite3")
        await team.expect(r"generic \| GenericGPT serving as")
        dep = Deployment(tmp_path / "certs", tmp_path)
        code, out, err = await dep.console('/gen run "hi"', cert="user", target=target)
        assert (code, out.strip()) == (0, "first answer"), err
        os.kill(pid, signal.SIGKILL)  # a crash: the supervisor brings it back
        await team.expect(r"generic exited with -9; restarting")
        await team.expect(r"generic \| GenericGPT serving as")
        code, out, err = await dep.console('/gen run "again"', cert="user", target=target)
        assert (code, out.strip()) == (0, "first answer"), err  # a fresh process replays its script anew
        team.proc.send_signal(signal.SIGINT)
        await team.expect(r"\[orchgpt up\] stopped")
        async with asyncio.timeout(30):
            assert await team.proc.wait() == 0
        assert not alive(pid)
        from orchgpt.ledger import read_entries

        # the team's orchgpt kept its ledger next to the certificates, and closed it on the way out
        done = [(e.what, e.state, e.requester) for e in read_entries(tmp_path / "certs" / "ledger.sqlite3")]
        assert done == [("run again", "done", "user"), ("run hi", "done", "user")]
    finally:
        if team.proc.returncode is None:
            team.proc.kill()
            await team.proc.wait()


def test_ctrl_c_in_the_net_console_stops_the_command_not_the_console(tmp_path: Path) -> None:
    from test_console_tty import Terminal

    async def scenario() -> tuple[Deployment, int]:
        dep = Deployment(make_test_pki(tmp_path / "certs", CLIENTS), tmp_path)
        await dep.orchestrator()
        await dep.agent("gen1", "generic", [{"text": "too late", "delay": 60}])
        return dep, dep.port

    loop = asyncio.new_event_loop()
    dep, port = loop.run_until_complete(scenario())
    try:
        args = [sys.executable, "-m", "autogpt", "--net", "--orchestrator", f"localhost:{port}"]
        term = Terminal([*args, "--certs", str(dep.certs), "--cert-name", "alice"], _env({"TERM": "dumb"}))
        try:
            term.expect("net> ")
            term.send('/gen run "slow"\r')
            term.expect("accepted")
            term.send("\x03")  # Ctrl-C
            term.expect("[stopped]")
            term.expect("net> ")
            term.send("/gen status\r")
            assert "0 request(s) running" in term.expect("net> ")  # the agent really stopped
            term.send("\x04")
            term.expect("bye")
        except BaseException:
            term.close(kill=True)
            raise
        assert term.close() == 0
    finally:
        for proc in dep.procs:
            proc.proc.kill()
            loop.run_until_complete(proc.proc.wait())
        loop.close()


async def test_a_specialist_killed_mid_build_is_replaced_by_another_instance(deployment: Deployment) -> None:
    from test_build import DESIGN, GOOD, PLAN

    shared = deployment.tmp / "project"
    await deployment.orchestrator()
    await deployment.agent("arch1", "architect", [json.dumps(DESIGN)], workspace=shared)
    slow = await deployment.agent("back1", "backend", [{"text": GOOD, "delay": 60}], workspace=shared)
    await deployment.agent("back2", "backend", [GOOD], workspace=shared)
    await deployment.agent("man1", "manager", [json.dumps(PLAN)], workspace=shared)
    console = await deployment.start_console(f'/manager create "{SAID}" | python')
    await console.expect(r"\[t2 backend running\] writing app/main.py")  # back1 holds the task now
    slow.proc.kill()
    await console.expect(r"\[t2 backend failed\].*(disconnected|AgentGone)", timeout=30)
    await console.expect(r"Server verified: \*\*yes\*\*", timeout=60)  # the retry went to back2
    async with asyncio.timeout(30):
        assert await console.proc.wait() == 0
    assert "| t2 | backend | done | 2 |" in (shared / "REPORT.md").read_text()


async def test_the_full_team_builds_a_checked_page_as_separate_processes(deployment: Deployment) -> None:
    """Six processes, one per role and each with its own folder, through orchgpt over mTLS:
    the same report as standalone, and the whole project (images too) in the manager's folder."""
    from test_build import DESIGN, GOOD, git_history
    from test_frontend import FULL_PLAN, GOOD_PAGE, SPEC

    await deployment.orchestrator()
    for name, role, reply in [
        ("arch1", "architect", json.dumps(DESIGN)),
        ("back1", "backend", GOOD),
        ("design1", "designer", json.dumps(SPEC)),
        ("front1", "frontend", GOOD_PAGE),
        ("git1", "git", ""),
        ("man1", "manager", json.dumps(FULL_PLAN)),
    ]:
        await deployment.agent(name, role, [reply])  # workspace: tmp/NAME-ws
    code, out, err = await deployment.console(f'/manager create "{SAID_APP}" | python')
    assert code == 0, err + out
    assert "Server verified: **yes**" in out
    assert "Page works against the API: **yes**" in out
    assert "[t4 frontend done]" in err
    manager = deployment.tmp / "man1-ws"
    check = json.loads((manager / "page-check.json").read_text())
    assert check["api_calls"] == ["GET /todos -> 200", "POST /todos -> 201", "GET /todos -> 200"]
    for made_by, path in [("design1", "design/wireframe.png"), ("front1", "frontend/screenshot.png")]:
        theirs = (deployment.tmp / f"{made_by}-ws" / path).read_bytes()
        assert (manager / path).read_bytes() == theirs  # came back in chunks
    assert (deployment.tmp / "front1-ws" / "app" / "main.py").exists()  # the page check fetched the server
    authors = sorted(line.split("|")[0] for line in git_history(deployment.tmp / "git1-ws").splitlines() if "|" in line)
    assert authors == ["ArchitectGPT", "BackendGPT", "DesignerGPT", "FrontendGPT"]


async def test_killing_the_only_frontend_mid_build_ends_in_an_honest_report(deployment: Deployment) -> None:
    from test_build import DESIGN, GOOD
    from test_frontend import FULL_PLAN, SPEC

    shared = deployment.tmp / "project"
    await deployment.orchestrator()
    await deployment.agent("arch1", "architect", [json.dumps(DESIGN)], workspace=shared)
    await deployment.agent("back1", "backend", [GOOD], workspace=shared)
    await deployment.agent("design1", "designer", [json.dumps(SPEC)], workspace=shared)
    front = await deployment.agent("front1", "frontend", [{"text": "never", "delay": 60}], workspace=shared)
    await deployment.agent("man1", "manager", [json.dumps(FULL_PLAN)], workspace=shared, rejoin_wait="0.5")
    console = await deployment.start_console(f'/manager create "{SAID_APP}" | python')
    await console.expect(r"\[t4 frontend running\] writing frontend/index.html", timeout=60)
    front.proc.kill()
    await console.expect(r"\[t4 frontend failed\]", timeout=30)
    await console.expect(r"\[t4 frontend waiting\] up to 0.5s for a frontend agent", timeout=30)
    await console.expect(r"Not checked: the frontend task failed", timeout=30)
    async with asyncio.timeout(30):
        assert await console.proc.wait() == 1  # built, not verified: the page was never checked
    report = (shared / "REPORT.md").read_text()
    assert "Server verified: **yes**" in report
    assert "| t4 | frontend | failed | 2 |" in report  # retried once; no frontend was left to take it


async def test_a_retry_waits_for_a_restarted_instance_of_the_lost_role(deployment: Deployment) -> None:
    """The only frontend dies mid-task; a new one connects while the manager waits for the
    role to come back (as under orchgpt up), and the retry lands on it."""
    from test_build import DESIGN, GOOD
    from test_frontend import FULL_PLAN, GOOD_PAGE, SPEC

    shared = deployment.tmp / "project"
    await deployment.orchestrator()
    await deployment.agent("arch1", "architect", [json.dumps(DESIGN)], workspace=shared)
    await deployment.agent("back1", "backend", [GOOD], workspace=shared)
    await deployment.agent("design1", "designer", [json.dumps(SPEC)], workspace=shared)
    front = await deployment.agent("front1", "frontend", [{"text": "never", "delay": 60}], workspace=shared)
    await deployment.agent("man1", "manager", [json.dumps(FULL_PLAN)], workspace=shared, rejoin_wait="60")
    console = await deployment.start_console(f'/manager create "{SAID_APP}" | python')
    await console.expect(r"\[t4 frontend running\] writing frontend/index.html", timeout=60)
    front.proc.kill()
    await console.expect(r"\[t4 frontend waiting\] up to 60s for a frontend agent", timeout=30)
    await deployment.agent("front1", "frontend", [GOOD_PAGE], workspace=shared)  # restarted, same certificate
    await console.expect(r"\[t4 frontend waiting\] a frontend agent is back", timeout=30)
    await console.expect(r"Page works against the API: \*\*yes\*\*", timeout=60)
    async with asyncio.timeout(30):
        assert await console.proc.wait() == 0
    assert "| t4 | frontend | done | 2 |" in (shared / "REPORT.md").read_text()
