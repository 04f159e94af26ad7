"""Which folder ``autogpt gen -p`` acts on when none is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogpt.cli.act import project_here


@pytest.mark.parametrize("mark", ["pyproject.toml", "package.json", "setup.py", "Makefile", ".git"])
def test_a_folder_holding_a_project_is_acted_on(tmp_path: Path, mark: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOGPT_WORKSPACE", raising=False)
    (tmp_path / mark).mkdir() if mark == ".git" else (tmp_path / mark).write_text("")
    assert project_here({}, tmp_path) == tmp_path


def test_a_named_workspace_or_a_plain_folder_keeps_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOGPT_WORKSPACE", raising=False)
    assert project_here({}, tmp_path) is None  # nothing here says project
    (tmp_path / "pyproject.toml").write_text("")
    assert project_here({"workspace": "elsewhere"}, tmp_path) is None
    monkeypatch.setenv("AUTOGPT_WORKSPACE", "elsewhere")
    assert project_here({}, tmp_path) is None
