from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from autogpt.errors import PathOutsideWorkspaceError
from autogpt.tools.git import Repo, author_email
from autogpt.tools.workspace import Workspace


def git(root: Path, *args: str) -> str:
    """Plain git on the repository of the workspace at ``root`` (its git folder lives outside it)."""
    env = Repo(root).git_env()
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, env=env).stdout


def git_log(root: Path) -> list[str]:
    return git(root, "log", "--format=%an|%ae|%s").splitlines()


def tracked_files(root: Path) -> str:
    return git(root, "ls-files")


def committed_files(root: Path) -> list[str]:
    return git(root, "ls-tree", "-r", "--name-only", "HEAD").splitlines()


async def test_commits_are_authored_by_the_agent_without_any_git_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))  # no ~/.gitconfig, no identity
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root)
    assert await repo.init() is True
    assert "node_modules/" in (ws.root / ".gitignore").read_text()
    ws.write_text("app/main.py", "print('hi')\n", agent="BackendGPT")
    ws.write_text("node_modules/x/index.js", "junk\n")
    ws.write_text(".venv/bin/python", "junk\n")
    first = await repo.commit("backend: server written", "BackendGPT")
    assert first is not None
    assert set(first.files) == {".gitignore", "app/main.py"}  # environments are ignored
    assert await repo.commit("nothing new", "BackendGPT") is None
    ws.write_text("ARCHITECTURE.md", "# x\n", agent="ArchitectGPT")
    await repo.commit("architect: design", "ArchitectGPT")
    assert git_log(ws.root) == [
        f"ArchitectGPT|{author_email('ArchitectGPT')}|architect: design",
        f"BackendGPT|{author_email('BackendGPT')}|backend: server written",
    ]
    assert [subject for _, _, subject in await repo.log()] == ["architect: design", "backend: server written"]


async def test_secrets_are_never_committed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root)
    ws.write_text("config.py", "OPENAI_KEY = 'sk-" + "a" * 30 + "'\n")
    ws.write_text(".env", "TOKEN=1\n")
    ws.write_text("ok.py", "x = 1\n")
    done = await repo.commit("add files", "BackendGPT")
    assert done is not None
    assert done.withheld == ("config.py",)
    assert ".env" not in done.files  # ignored
    assert "ok.py" in done.files
    assert "config.py" not in tracked_files(ws.root)


async def test_agents_cannot_write_into_git_and_hooks_never_run(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root)
    await repo.init()
    with pytest.raises(PathOutsideWorkspaceError, match=r"inside \.git"):
        ws.write_text(".git/hooks/pre-commit", "#!/bin/sh\ntouch pwned\n")
    assert not (ws.root / ".git").exists()  # git's own folder is kept outside the workspace
    for hooks in (ws.root / ".git/hooks", repo.git_dir / "hooks"):  # even if one got there some other way
        hooks.mkdir(parents=True, exist_ok=True)
        (hooks / "pre-commit").write_text(f"#!/bin/sh\ntouch {tmp_path / 'pwned'}\n")
        (hooks / "pre-commit").chmod(0o755)
    ws.write_text("a.py", "x = 1\n")
    assert await repo.commit("add a", "BackendGPT") is not None
    assert not (tmp_path / "pwned").exists()


async def test_a_commit_of_named_paths_leaves_a_neighbours_work_for_its_own_commit(tmp_path: Path) -> None:
    """Two agents write side by side; the one that finishes first commits only its files."""
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root)
    ws.write_text("app/main.py", "print('hi')\n", agent="BackendGPT")  # still being verified
    ws.write_text("DESIGN.md", "# look\n", agent="DesignerGPT")
    ws.write_text("design/wireframe.svg", "<svg/>\n", agent="DesignerGPT")
    design = await repo.commit("designer: the look", "DesignerGPT", ["DESIGN.md", "design/wireframe.svg"])
    assert design is not None
    assert set(design.files) == {".gitignore", "DESIGN.md", "design/wireframe.svg"}
    assert "app/main.py" not in committed_files(ws.root)
    ws.write_text("app/requirements.txt", "fastapi\n", agent="BackendGPT")
    backend = await repo.commit("backend: server", "BackendGPT", ["app/main.py", "app/requirements.txt", "gone.txt"])
    assert backend is not None
    assert set(backend.files) == {"app/main.py", "app/requirements.txt"}
    assert git_log(ws.root)[0].startswith("BackendGPT|")
    assert "app/main.py" in committed_files(ws.root)
    assert await repo.commit("again", "BackendGPT", ["app/main.py"]) is None


async def test_a_write_under_way_never_fails_a_commit_nor_lands_in_it(tmp_path: Path) -> None:
    """``git add`` lists the folder while another agent writes: the write's temporary file is
    there when listed and renamed before git reads it. That used to fail the whole commit."""
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root)
    ws.write_text("crashed/.app.py.0123456789ab.tmp", "half a file")  # what a write killed midway leaves
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            ws.write_text(f"busy/{n % 50}.txt", "x" * 64, agent="DesignerGPT")
            n += 1

    busy = threading.Thread(target=writer)
    busy.start()
    try:
        for i in range(25):
            ws.write_text(f"mine/{i}.py", f"n = {i}\n", agent="BackendGPT")
            done = await repo.commit(f"step {i}", "BackendGPT", [f"mine/{i}.py"])
            assert done is not None
            assert done.files == (f"mine/{i}.py",) or set(done.files) == {".gitignore", "mine/0.py"}
    finally:
        stop.set()
        busy.join()
    everything = await repo.commit("the rest", "GitGPT")
    assert everything is not None
    committed = committed_files(ws.root)
    assert "busy/0.txt" in committed
    assert not [f for f in committed if f.endswith(".tmp")]


async def test_a_project_made_again_at_the_same_path_starts_its_own_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ws = Workspace(tmp_path / "p").ensure()
    ws.write_text("old.py", "old = 1\n")
    assert await Repo(ws.root, data_dir=data).commit("the old project", "BackendGPT") is not None
    assert await Repo(ws.root, data_dir=data).commit("nothing new", "BackendGPT") is None  # same folder: same history
    shutil.rmtree(ws.root)  # the user deletes the project and builds another one there
    ws = Workspace(tmp_path / "p").ensure()
    ws.write_text("new.py", "new = 1\n")
    repo = Repo(ws.root, data_dir=data)
    done = await repo.commit("the new project", "BackendGPT")
    assert done is not None
    assert [subject for _, _, subject in await repo.log()] == ["the new project"]
    assert set(done.files) == {".gitignore", "new.py"}  # no deletion of the old project's files
    kept = [p for p in repo.state.iterdir() if p.name.startswith("git-")]
    assert len(kept) == 1  # the old history is set aside, not lost
    args = ["git", "--git-dir", str(kept[0]), "log", "--format=%s"]
    old = (await asyncio.to_thread(subprocess.run, args, capture_output=True, text=True, check=True)).stdout
    assert old.split() == ["the", "old", "project"]


async def test_only_the_newest_three_set_aside_histories_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for n in range(5):
        ws = Workspace(tmp_path / "p").ensure()
        ws.write_text("main.py", f"n = {n}\n")
        assert await Repo(ws.root, data_dir=data).commit(f"build {n}", "BackendGPT") is not None
        shutil.rmtree(ws.root)
    ws = Workspace(tmp_path / "p").ensure()
    repo = Repo(ws.root, data_dir=data)
    assert await repo.log() == []
    assert len([p for p in repo.state.iterdir() if p.name.startswith("git-")]) == 3
