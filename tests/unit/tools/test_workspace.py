"""Workspace: every path stays under the root, writes are atomic and recorded."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from autogpt.errors import InvalidInputError, PathOutsideWorkspaceError, WorkspaceError, WorkspaceFullError
from autogpt.tools import workspace
from autogpt.tools.workspace import Workspace


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the workspace, which nothing may ever write into."""
    path = tmp_path / "outside"
    path.mkdir()
    return path


@pytest.fixture
def ws(root: Path) -> Workspace:
    return Workspace(root).ensure()


def tree(path: Path) -> list[str]:
    """Every entry under ``path`` (hidden ones included), relative and sorted."""
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_write_inside_is_stored_and_recorded(ws: Workspace, root: Path) -> None:
    content = "print('héllo')\n"
    record = ws.write_text("src/app.py", content, agent="coder")
    data = content.encode("utf-8")

    assert (root / "src" / "app.py").read_bytes() == data
    assert record.path == "src/app.py"
    assert record.agent == "coder"
    assert record.size == len(data)
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert ws.writes == (record,)
    assert ws.written_by("coder") == ["src/app.py"]
    assert ws.written_by("tester") == []
    assert ws.read_text("src/app.py") == content
    assert ws.exists("src/app.py")


def test_every_write_is_recorded_in_order(ws: Workspace) -> None:
    ws.write_text("a.txt", "1", agent="coder")
    ws.write_text("b.txt", "22", agent="tester")
    ws.write_text("a.txt", "333", agent="coder")
    assert [(w.path, w.agent, w.size) for w in ws.writes] == [
        ("a.txt", "coder", 1),
        ("b.txt", "tester", 2),
        ("a.txt", "coder", 3),
    ]
    assert ws.written_by("coder") == ["a.txt", "a.txt"]
    assert ws.read_text("a.txt") == "333"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/etc/passwd", PathOutsideWorkspaceError),
        ("/tmp/escape.txt", PathOutsideWorkspaceError),
        ("../escape.txt", PathOutsideWorkspaceError),
        ("a/../../escape.txt", PathOutsideWorkspaceError),
        ("a/../b.txt", PathOutsideWorkspaceError),
        ("..\\escape.txt", PathOutsideWorkspaceError),
        ("C:\\escape.txt", PathOutsideWorkspaceError),
        ("C:/escape.txt", PathOutsideWorkspaceError),
        ("\\\\server\\share\\x", PathOutsideWorkspaceError),
        ("bad\x00name.txt", InvalidInputError),
        ("", InvalidInputError),
        ("   ", InvalidInputError),
    ],
)
def test_bad_paths_are_refused_and_nothing_is_written(
    ws: Workspace, root: Path, tmp_path: Path, path: str, error: type[Exception]
) -> None:
    before = tree(tmp_path)
    with pytest.raises(error):
        ws.write_text(path, "pwned", agent="evil")
    with pytest.raises(error):
        ws.resolve(path)
    assert tree(tmp_path) == before
    assert tree(root) == []
    assert ws.writes == ()


def test_typed_errors_keep_their_families() -> None:
    assert issubclass(PathOutsideWorkspaceError, WorkspaceError)
    assert not issubclass(InvalidInputError, WorkspaceError)


def test_symlinked_file_pointing_outside_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    victim = outside / "victim.txt"
    victim.write_text("original")
    (root / "link.txt").symlink_to(victim)
    (root / "dangling.txt").symlink_to(outside / "new.txt")

    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("link.txt", "pwned")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.read_text("link.txt")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("dangling.txt", "pwned")
    assert victim.read_text() == "original"
    assert tree(outside) == ["victim.txt"]
    assert (root / "link.txt").is_symlink()
    assert ws.writes == ()


def test_file_under_symlinked_directory_pointing_outside_is_refused(ws: Workspace, root: Path, outside: Path) -> None:
    (root / "out").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("out/new.txt", "pwned")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("out/deeper/new.txt", "pwned")
    assert tree(outside) == []


def test_symlink_to_etc_is_refused(ws: Workspace, root: Path) -> None:
    (root / "etc").symlink_to("/etc", target_is_directory=True)
    (root / "hosts").symlink_to("/etc/hosts")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("etc/autogpt-test-should-not-exist", "pwned")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.write_text("hosts", "pwned")
    with pytest.raises(PathOutsideWorkspaceError):
        ws.read_text("etc/hostname")
    assert not Path("/etc/autogpt-test-should-not-exist").exists()


def test_symlinks_are_never_followed_even_when_they_point_inside(ws: Workspace, root: Path) -> None:
    """A sandboxed program can swap any folder for a link at any time, so no link is trusted."""
    ws.write_text("real/data.txt", "v1")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    (root / "shortcut.txt").symlink_to("real/data.txt")

    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        ws.write_text("alias/data.txt", "v2", agent="coder")
    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        ws.read_text("alias/data.txt")
    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        ws.read_text("shortcut.txt")
    ws.write_text("shortcut.txt", "v3")  # the link itself is replaced, its target untouched
    assert (root / "real" / "data.txt").read_text() == "v1"
    assert not (root / "shortcut.txt").is_symlink()
    assert ws.read_text("shortcut.txt") == "v3"


def test_successful_writes_leave_no_temp_files(ws: Workspace, root: Path) -> None:
    for i in range(3):
        ws.write_text("dir/file.txt", f"version {i}")
    assert tree(root) == ["dir", "dir/file.txt"]
    assert not any(name.endswith(".tmp") for name in os.listdir(root / "dir"))


def test_failed_write_keeps_old_content_and_leaves_no_temp_file(
    ws: Workspace, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.write_text("state.json", '{"v": 1}', agent="coder")

    def broken_replace(src: object, dst: object, **dir_fds: int) -> None:
        assert (root / str(src)).read_text() == '{"v": 2}'  # the temp file was fully written
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        ws.write_text("state.json", '{"v": 2}', agent="coder")
    monkeypatch.undo()

    assert (root / "state.json").read_text() == '{"v": 1}'
    assert tree(root) == ["state.json"]
    assert len(ws.writes) == 1


def test_failed_first_write_creates_nothing(ws: Workspace, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError("io error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="io error"):
        ws.write_text("new.txt", "data")
    monkeypatch.undo()
    assert tree(root) == []
    assert ws.writes == ()


def test_size_limit(root: Path) -> None:
    small = Workspace(root, max_file_bytes=10).ensure()
    assert small.write_bytes("ok.bin", b"x" * 10).size == 10
    with pytest.raises(WorkspaceError, match="limit"):
        small.write_bytes("big.bin", b"x" * 11)
    with pytest.raises(WorkspaceError):
        small.write_text("big.txt", "é" * 6)  # 12 bytes in UTF-8, though only 6 characters
    assert tree(root) == ["ok.bin"]


def test_read_missing_file(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        ws.read_text("nope.txt")
    assert not ws.exists("nope.txt")


def test_writing_onto_a_directory_is_refused(ws: Workspace) -> None:
    ws.write_text("pkg/mod.py", "x = 1\n")
    with pytest.raises(WorkspaceError, match="directory"):
        ws.write_text("pkg", "oops")


def test_files_lists_written_files(ws: Workspace) -> None:
    assert ws.files() == []
    ws.write_text("b.txt", "b")
    ws.write_text("a/deep/c.py", "c")
    ws.write_text("a/x.md", "x")
    assert ws.files() == ["a/deep/c.py", "a/x.md", "b.txt"]


def test_files_of_missing_root_is_empty(tmp_path: Path) -> None:
    assert Workspace(tmp_path / "never-created").files() == []


def test_symlink_loop_raises_a_typed_error(ws: Workspace, root: Path) -> None:
    (root / "loop").symlink_to("loop")
    with pytest.raises(WorkspaceError):
        ws.write_text("loop/a.txt", "x")


def test_a_workspace_keeps_one_id_for_every_process_that_opens_it(root: Path, tmp_path: Path) -> None:
    first = Workspace(root).identity
    assert Workspace(root).identity == first  # another process opening the same folder
    stored = (root / ".autogpt/workspace-id").read_text().strip()
    assert len(stored) == 32
    assert first == f"{stored}-{root.stat().st_ino:x}"
    assert Workspace(tmp_path / "elsewhere").identity != first
    moved = root.rename(tmp_path / "moved")
    assert Workspace(moved).identity == first  # the same folder under another name
    copy = Path(shutil.copytree(moved, root))
    assert (copy / ".autogpt/workspace-id").read_text().strip() == stored
    assert Workspace(copy).identity != first  # a copy is another workspace, though it carries the id file
    (moved / ".autogpt/workspace-id").write_text("garbage\n")
    fresh = Workspace(moved).identity
    assert fresh != first
    assert len(fresh.split("-")[0]) == 32
    assert [p.name for p in (moved / ".autogpt").iterdir()] == ["workspace-id"]  # no temp files left


def test_a_symlinked_state_folder_is_refused(root: Path, outside: Path) -> None:
    root.mkdir()
    (root / ".autogpt").symlink_to(outside)
    with pytest.raises(WorkspaceError, match="symlink"):
        _ = Workspace(root).identity
    assert list(outside.iterdir()) == []


def test_the_manifest_lists_project_files_only(ws: Workspace, root: Path, outside: Path) -> None:
    ws.write_text("app/main.py", "x = 1\n")
    ws.write_text("contract.json", "{}\n")
    _ = ws.identity
    for noise in (".venv/bin/python", "node_modules/x/index.js", "app/__pycache__/m.pyc", ".env"):
        ws.write_text(noise, "noise\n")
    (root / ".home").mkdir()
    (root / ".home/.bashrc").write_text("noise\n")  # the Sandbox's HOME: agents may not write there
    ws.write_text("deploy/server.key", "-----BEGIN " + "PRIVATE KEY-----\n")  # split: no key marker in the repo
    ws.write_text("settings.py", "KEY = 'sk-" + "a" * 30 + "'\n")  # looks like a secret
    (outside / "secret.txt").write_text("s")
    (root / "linked.txt").symlink_to(outside / "secret.txt")
    small = Workspace(root, max_file_bytes=5)
    assert set(small.manifest()) == {"contract.json"}  # app/main.py is over 5 bytes
    manifest = ws.manifest()
    assert set(manifest) == {"app/main.py", "contract.json"}
    assert manifest["app/main.py"].sha256 == hashlib.sha256(b"x = 1\n").hexdigest()
    assert manifest["app/main.py"].size == 6
    assert len(ws.manifest(limit=1)) == 1


def test_read_bytes_is_confined_and_bounded(ws: Workspace, root: Path) -> None:
    ws.write_bytes("blob.bin", b"\x00\x01")
    assert ws.read_bytes("blob.bin") == b"\x00\x01"
    with pytest.raises(PathOutsideWorkspaceError):
        ws.read_bytes("../x")
    with pytest.raises(WorkspaceError, match="does not exist"):
        ws.read_bytes("nope.bin")
    (root / "dir").mkdir()
    with pytest.raises(WorkspaceError, match="cannot read"):
        ws.read_bytes("dir")
    with pytest.raises(WorkspaceError, match="larger than the limit"):
        Workspace(root, max_file_bytes=1).read_bytes("blob.bin")


def test_the_total_limit_counts_every_write_without_a_walk_per_write(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(root, max_total_bytes=100_000)
    monkeypatch.setattr(workspace.time, "monotonic", lambda: 1000.0)  # all within one USAGE_TTL
    walks = 0
    walk = Workspace.usage

    def counted(self: Workspace) -> int:
        nonlocal walks
        walks += 1
        return walk(self)

    monkeypatch.setattr(Workspace, "usage", counted)
    for i in range(6):
        ws.write_bytes(f"f{i}.bin", b"x" * 15_000)
    with pytest.raises(WorkspaceFullError, match="over its limit"):
        ws.write_bytes("f6.bin", b"x" * 15_000)  # 7 x 15,000 > 100,000: the writes were counted
    assert walks == 1
    assert not (root / "f6.bin").exists()


def test_replacing_a_file_counts_only_the_difference(root: Path) -> None:
    ws = Workspace(root, max_total_bytes=1_000_000)
    ws.write_bytes("big.bin", b"x" * 600_000)
    ws.write_bytes("big.bin", b"y" * 650_000)  # 650,000 in all, not 1,250,000
    ws.forget_usage()
    ws.write_bytes("big.bin", b"z" * 650_000)
    assert (root / "big.bin").read_bytes()[:1] == b"z"


def test_bytes_written_behind_its_back_count_once_forgotten_or_stale(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(root, max_total_bytes=100_000)
    ws.write_bytes("a.txt", b"a")
    (root / "outside-writer.bin").write_bytes(os.urandom(96_000))  # a sandbox run, another process
    ws.forget_usage()
    with pytest.raises(WorkspaceFullError):
        ws.write_bytes("b.bin", b"b" * 8_000)
    (root / "outside-writer.bin").unlink()
    ws.forget_usage()
    ws.write_bytes("b.bin", b"b" * 8_000)
    (root / "later.bin").write_bytes(os.urandom(96_000))
    clock = time.monotonic() + workspace.USAGE_TTL + 1
    monkeypatch.setattr(workspace.time, "monotonic", lambda: clock)
    with pytest.raises(WorkspaceFullError):
        ws.write_bytes("c.bin", b"c" * 8_000)  # the measured total grew stale and was measured again


def test_a_removed_file_makes_room_at_once(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(root, max_total_bytes=100_000)
    monkeypatch.setattr(workspace.time, "monotonic", lambda: 1000.0)  # no walk in between
    ws.write_bytes("big.bin", b"x" * 80_000)
    with pytest.raises(WorkspaceFullError):
        ws.write_bytes("other.bin", b"y" * 40_000)
    assert ws.remove("big.bin")
    ws.write_bytes("other.bin", b"y" * 40_000)  # what the hint says to do works without waiting
