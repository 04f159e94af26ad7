"""Generated code and model replies try to make the host's git run a command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boxkit import escaped, hostile_script

from autogpt.agents.generic import GenericGPT
from autogpt.agents.git import GitGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.errors import PathOutsideWorkspaceError
from autogpt.iac.envelope import Address, Command
from autogpt.llm.doubles import ScriptedLLM
from autogpt.tools.git import Repo
from autogpt.tools.workspace import Workspace


def plant_git_config(root: Path, marker: Path) -> None:
    """What server code running in the Sandbox can do to its (writable) workspace."""
    script = root / "fsmon.sh"
    script.write_text(hostile_script(marker))
    script.chmod(0o755)
    for git_dir in (root / ".git", root / "nested" / ".git"):
        (git_dir / "hooks").mkdir(parents=True, exist_ok=True)
        (git_dir / "config").write_text(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {root}\n")
        (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
        (git_dir / "hooks" / "pre-commit").write_text(hostile_script(marker))
        (git_dir / "hooks" / "pre-commit").chmod(0o755)
    (root / "pre-commit").write_text(hostile_script(marker))
    (root / "pre-commit").chmod(0o755)
    home = root / ".home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text(
        f'[filter "x"]\n\tclean = {script}\n\tsmudge = {script}\n[diff "x"]\n'
        f"\ttextconv = {script}\n[core]\n\tfsmonitor = {script}\n"
    )
    (root / ".gitattributes").write_text("* filter=x diff=x merge=x\n")
    (root / "nested" / "f.txt").write_text("nested\n")


async def test_git_config_planted_in_the_workspace_runs_nothing_on_the_host(tmp_path: Path, marker: Path) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    repo = Repo(ws.root)
    ws.write_text("app/main.py", "x = 1\n", agent="BackendGPT")
    assert await repo.commit("backend: first", "BackendGPT") is not None
    plant_git_config(ws.root, marker)
    ws.write_text("app/main.py", "x = 2\n", agent="BackendGPT")
    done = await repo.commit("backend: second", "BackendGPT")
    assert not escaped(marker), "git ran a command the generated code configured"
    assert done is not None  # the history went on
    assert "app/main.py" in done.files
    assert [s for _, _, s in await repo.log()] == ["backend: second", "backend: first"]
    assert not repo.git_dir.is_relative_to(ws.root)
    assert ws.root / ".git" != repo.git_dir


async def test_a_model_reply_cannot_give_git_a_filter_driver(tmp_path: Path, marker: Path) -> None:
    """Two ordinary paths in a reply: ``.home/.gitconfig`` defining a filter, ``.gitattributes`` using it."""
    files = [
        {"path": ".gitattributes", "content": "* filter=x\n"},
        {"path": ".home/.gitconfig", "content": f'[filter "x"]\n\tclean = sh -c "touch {marker}"\n'},
    ]
    reply = json.dumps({"summary": "tools", "files": files})
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", provider="scripted")
    team = Standalone(settings, GenericGPT, ScriptedLLM([reply]), helpers=(GitGPT,))
    await team.start()
    try:
        with pytest.raises(PathOutsideWorkspaceError, match=r"\.home"):  # a typed refusal, said plainly
            await team.ask(Command("create", "a tool"))
        assert team.user is not None
        committed = await team.user.call(Address.role("git"), Command("commit", "generic: tool"), timeout=30)
    finally:
        await team.stop()
    assert not (tmp_path / "ws" / ".home" / ".gitconfig").exists()
    assert committed.ok, committed.output
    assert not escaped(marker)
    ws = Workspace(tmp_path / "ws")
    for path in (".home/.gitconfig", ".git/config", "sub/.git/hooks/post-commit", ".autogpt/workspace-id"):
        with pytest.raises(PathOutsideWorkspaceError):
            ws.write_text(path, "x")
