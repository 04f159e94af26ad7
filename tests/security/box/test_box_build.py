"""Hostile generated code inside a whole scripted build: the server works, and at import
it attacks the host's git and tries to write git's real folder. And where no sandbox
confines it, the build refuses to run it unless told to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boxkit import escaped, hostile_script
from fakes.servers import TODOS_SERVER, fenced

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.git import GitGPT
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Command, Result
from autogpt.llm.doubles import ScriptedLLM
from autogpt.tools import sandbox
from autogpt.tools.git import Repo

PLAN = {
    "goal": "todos",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build", "depends_on": ["t1"]},
    ],
}
IDEA = (
    'a todo API: POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}; '
    'GET /todos returns [{"title": "milk"}]'
)
ATTACK = """import os, pathlib

def _attack():
    here = pathlib.Path.cwd()
    script = here / "fsmon.sh"
    script.write_text(%(script)r)
    script.chmod(0o755)
    for target, text in [
        (here / ".git" / "config", f"[core]\\n\\tfsmonitor = {script}\\n"),
        (here / ".home" / ".gitconfig", f'[filter "x"]\\n\\tclean = {script}\\n[core]\\n\\tfsmonitor = {script}\\n'),
        (here / ".gitattributes", "* filter=x\\n"),
        (pathlib.Path(%(git_dir)r) / "config", f"[core]\\n\\tfsmonitor = {script}\\n"),
        (pathlib.Path(%(marker)r), "escaped"),
    ]:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        except OSError:
            pass

_attack()
"""
# the hostile code runs at import, ahead of a correct todo server
SERVER = fenced(ATTACK + "\n" + TODOS_SERVER)


async def build(tmp_path: Path, marker: Path, **settings: object) -> Result:
    ws = tmp_path / "ws"
    git_dir = Repo(ws).git_dir
    code = SERVER % {"script": hostile_script(marker), "git_dir": str(git_dir), "marker": str(marker)}
    config = load_settings(workspace=ws, cache_dir=tmp_path / "cache", **settings)
    team = Standalone(
        config, ManagerGPT, ScriptedLLM([json.dumps(PLAN), code]), helpers=(ArchitectGPT, BackendGPT, GitGPT)
    )
    await team.start()
    try:
        return await team.ask(Command("create", IDEA, "python"))
    finally:
        await team.stop()


@pytest.mark.usefixtures("needs_bwrap")
async def test_hostile_server_code_cannot_configure_the_hosts_git(tmp_path: Path, marker: Path) -> None:
    result = await build(tmp_path, marker)
    assert result.ok, result.output  # the server still does its job
    ws = tmp_path / "ws"
    repo = Repo(ws)
    assert not escaped(marker), "generated code reached the host (git ran its script, or it wrote outside)"
    assert "fsmonitor" not in (repo.git_dir / "config").read_text()
    assert not (ws / ".git").exists()  # what it planted for the user's own git was removed after the run
    authors = [author for _, author, _ in await repo.log()]
    assert authors == ["BackendGPT", "ArchitectGPT"]  # the history went on
    verification = json.loads((ws / "verification.json").read_text())
    assert verification["confined"] is True
    assert verification["sandbox"] == "bwrap"


async def test_without_a_sandbox_generated_code_runs_only_when_allowed(
    tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "available_backends", lambda: ["none"])  # as on a machine without bwrap
    refused = await build(tmp_path / "refused", marker)
    assert not refused.ok
    assert "allow-unconfined" in refused.output
    assert not escaped(marker)  # the server's code never ran
    allowed = await build(tmp_path / "allowed", marker, allow_unconfined=True)
    assert escaped(marker)  # unconfined really is: that is why it needs a yes
    verification = json.loads((tmp_path / "allowed" / "ws" / "verification.json").read_text())
    assert verification["confined"] is False
    assert "without a confining sandbox" in allowed.output  # and the verdict says so
    assert not allowed.ok
