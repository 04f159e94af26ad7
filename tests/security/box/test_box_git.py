"""Generated code and model replies try to make the host's git run a command."""

from __future__ import annotations

import json
import subprocess
import sys
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
from autogpt.tools.sandbox import Sandbox
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


def host_git(where: Path, *args: str) -> None:
    """git as the user runs it in their project (their config, hooks where git looks for them)."""
    git = ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args]
    subprocess.run(git, cwd=where, check=args[0] != "commit", capture_output=True)


PLANT = (
    "import os, sys\n"
    "marker, outcome = sys.argv[1], []\n"
    "def attempt(what, path, text):\n"
    "    try:\n"
    "        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
    "        with open(path, 'a') as f: f.write(text)\n"
    "        os.chmod(path, 0o755)\n"
    "        outcome.append(what + ' WRITTEN')\n"
    "    except OSError as exc:\n"
    "        outcome.append(f'{what} refused: {exc.strerror}')\n"
    "hook = f'#!/bin/sh\\ntouch {marker}\\n'\n"
    "attempt('hook', '.git/hooks/pre-commit', hook)\n"
    "attempt('config', '.git/config', f'[core]\\n\\tfsmonitor = touch {marker}\\n')\n"
    "attempt('nested', 'sub/.git/config', f'[core]\\n\\tfsmonitor = touch {marker}\\n')\n"
    "attempt('nested head', 'sub/.git/HEAD', 'ref: refs/heads/main\\n')\n"
    "print('\\n'.join(outcome))\n"
)


@pytest.mark.usefixtures("needs_bwrap")
async def test_generated_code_cannot_plant_git_hooks_or_config_in_the_users_project(
    tmp_path: Path, marker: Path
) -> None:
    """`autogpt gen` acts on a project with its own .git, and runs the project's tests in the
    Sandbox: what those tests (generated code) write must never make git on the host run it."""
    root = tmp_path / "project"
    root.mkdir()
    host_git(root, "init", "-q")
    (root / "app.py").write_text("x = 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "keep.txt").write_text("kept\n")
    config_before = (root / ".git" / "config").read_bytes()
    sandbox = Sandbox(Workspace(root), backend="bwrap")
    result = await sandbox.run([sys.executable, "-c", PLANT, str(marker)])
    assert result.ok, result.stderr
    assert "hook refused: Read-only file system" in result.stdout
    assert "config refused: Read-only file system" in result.stdout
    assert "nested WRITTEN" in result.stdout  # it could write there, but it did not last:
    assert not (root / "sub" / ".git").exists()
    assert (root / "sub" / "keep.txt").read_text() == "kept\n"
    assert (root / ".git" / "config").read_bytes() == config_before
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    for where in (root, root / "sub"):  # the user's own git, as they would run it
        host_git(where, "add", "-A")
        host_git(where, "commit", "-qm", "x")
        host_git(where, "status")
    assert not escaped(marker)


STEAL_ID = (
    "import os, pathlib, sys\n"
    "state = pathlib.Path('.autogpt')\n"
    "for name, act in [('rewrite', lambda: (state / 'workspace-id').write_text('0' * 32 + '\\n')),\n"
    "                  ('remove', lambda: (state / 'workspace-id').unlink()),\n"
    "                  ('plant', lambda: (state / 'other').write_text('x')),\n"
    "                  ('rename', lambda: state.rename('moved'))]:\n"
    "    try:\n"
    "        act()\n"
    "        print(name, 'DONE')\n"
    "    except OSError as exc:\n"
    "        print(name, 'refused:', exc.strerror)\n"
)


async def test_generated_code_cannot_change_the_workspace_id_the_history_belongs_to(tmp_path: Path) -> None:
    """The project's history is kept for the folder with this id: a run that rewrote it would
    have the next commit set the history aside as another folder's."""
    ws = Workspace(tmp_path / "p").ensure()
    ws.write_text("app.py", "x = 1\n")
    data = tmp_path / "data"
    assert await Repo(ws.root, data_dir=data).commit("first", "BackendGPT") is not None
    before = ws.identity
    result = await Sandbox(ws, backend="bwrap").run([sys.executable, "-c", STEAL_ID])
    assert result.ok, result.stderr
    for step in ("rewrite", "remove", "plant"):
        assert f"{step} refused: Read-only file system" in result.stdout
    assert "rename DONE" not in result.stdout
    assert Workspace(ws.root).identity == before
    ws.write_text("app.py", "x = 2\n")
    assert await Repo(ws.root, data_dir=data).commit("second", "BackendGPT") is not None
    assert [s for _, _, s in await Repo(ws.root, data_dir=data).log()] == ["second", "first"]
