"""The examples in README.md and AGENTS.md cannot drift from the code.

Every ```python block runs (the blocks of one file share a namespace, in order, so a
later block may use what an earlier one defined); a block fenced ```python no-run is
illustrative and only compiled. Shell blocks are illustrative (they need keys, servers or
a terminal), but every ``autogpt SUBCOMMAND`` they show must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autogpt.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "AGENTS.md")
_FENCE = re.compile(r"^```([\w-]*)[ \t]*([\w-]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(name: str) -> list[tuple[str, str, str, int]]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return [(m.group(1), m.group(2), m.group(3), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


@pytest.mark.parametrize("name", DOCS)
def test_python_examples_run(name: str) -> None:
    namespace: dict[str, object] = {"__name__": f"doc_{Path(name).stem}"}
    ran = 0
    for lang, mark, code, line in blocks(name):
        if lang != "python":
            continue
        compiled = compile(code, f"{name}:{line}", "exec")
        if mark == "no-run":
            continue
        exec(compiled, namespace)  # our own documentation
        ran += 1
    if name == "AGENTS.md":
        assert ran >= 2


@pytest.mark.parametrize("name", DOCS)
def test_shell_examples_name_real_commands(name: str) -> None:
    shown = set()
    for lang, _, code, _ in blocks(name):
        if lang not in ("sh", "bash", "shell", ""):
            continue
        for match in re.finditer(r"(?:^|[;&|(]\s*|\s)autogpt((?:\s+-\S+(?:\s+\S+)?)*?)\s+([a-z]+)\b", code):
            options, word = match.groups()
            if not options.strip():
                shown.add(word)
    assert shown, f"{name} shows no autogpt commands"
    assert shown <= set(COMMANDS), f"{name} shows unknown commands: {sorted(shown - set(COMMANDS))}"
