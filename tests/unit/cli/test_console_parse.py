from __future__ import annotations

import pytest

from autogpt.cli.console import parse_line
from autogpt.errors import InvalidInputError
from autogpt.iac.envelope import Command


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("hello there", Command("run", "hello there")),
        ("/plan make tea", Command("plan", "make tea")),
        ('/create "fastapi app" | python', Command("create", "fastapi app", "python")),
        ("/CREATE  todo api |javascript ", Command("create", "todo api", "javascript")),
        ("/help", Command("help", "")),
        ("/run 'keep  two  spaces'", Command("run", "keep  two  spaces")),
    ],
)
def test_lines_become_commands(line: str, expected: Command) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize("line", ["/", '/run "unclosed'])
def test_malformed_lines_are_typed_errors(line: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_line(line)
