"""The worst moment of the symlink race, made certain: the folder is swapped for a link to
the host right after the Workspace checked the path and before it writes. (The loop in
``test_box_sandbox`` runs the same attack for real, from inside the Sandbox.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from boxkit import escaped

from autogpt.errors import PathOutsideWorkspaceError, WorkspaceError
from autogpt.tools.workspace import Workspace


def swap_after_check(monkeypatch: pytest.MonkeyPatch, ws: Workspace, folder: str, target: Path) -> None:
    checked = Workspace.resolve

    def resolve_then_swap(self: Workspace, relative: str | os.PathLike[str]) -> Path:
        found = checked(self, relative)
        if (ws.root / folder).is_dir() and not (ws.root / folder).is_symlink():
            os.rename(ws.root / folder, ws.root / f"{folder}.real")
            os.symlink(target, ws.root / folder)
        return found

    monkeypatch.setattr(Workspace, "resolve", resolve_then_swap)


def test_a_folder_swapped_between_check_and_write_sends_nothing_outside(
    tmp_path: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    ws.write_bytes("shots/seed.png", b"seed")
    (outside / "page.png").write_bytes(b"host file")
    swap_after_check(monkeypatch, ws, "shots", outside)
    with pytest.raises(PathOutsideWorkspaceError, match="symlink"):
        ws.write_bytes("shots/page.png", b"\x89PNG screenshot")
    with pytest.raises(WorkspaceError):
        ws.read_bytes("shots/page.png")
    assert (outside / "page.png").read_bytes() == b"host file"  # not overwritten
    assert sorted(p.name for p in outside.iterdir()) == ["page.png"]  # nothing new either
    assert not escaped(outside / "seed.png")
    assert (ws.root / "shots.real" / "seed.png").read_bytes() == b"seed"  # nothing lost
