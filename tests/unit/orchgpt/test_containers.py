"""The container files, checked without a Docker daemon: every command compose.yaml and the
Dockerfiles run parses against the real CLIs, every agent role exists, and the images run
as a non-root user."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from autogpt.agents.catalog import find_role
from autogpt.cli.main import cli as autogpt_cli
from orchgpt.cli import cli as orchgpt_cli

DOCKER = Path(__file__).resolve().parents[3] / "docker"
CLIS: dict[str, click.Command] = {"orchgpt": orchgpt_cli, "autogpt": autogpt_cli}
ENTRYPOINTS = {"Dockerfile.orchgpt": "orchgpt", "Dockerfile.autogpt": "autogpt"}


def _parses(argv: list[str]) -> None:
    """Parse ``argv`` as the program would, down to the last subcommand (nothing runs)."""
    command: click.Command = CLIS[argv[0]]
    args, parent = argv[1:], None
    while True:
        ctx = command.make_context(argv[0], list(args), parent=parent, resilient_parsing=False)
        rest = [*ctx._protected_args, *ctx.args]  # click 8.2+: the subcommand and its arguments
        if not isinstance(command, click.Group) or not rest:
            assert not rest, f"{argv}: left over {rest}"
            return
        name, *args = rest
        sub = command.get_command(ctx, name)
        assert sub is not None, f"{argv}: no command {name!r}"
        command, parent = sub, ctx


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def _commands() -> list[list[str]]:
    found: list[list[str]] = []
    for name, service in _compose()["services"].items():
        program = ENTRYPOINTS[service["build"]["dockerfile"].split("/")[-1]]
        entrypoint = service.get("entrypoint")
        if entrypoint == ["/bin/sh", "-ec"]:  # a script: check each CLI line in it, loop variables filled in
            for line in service["command"][0].splitlines():
                if match := re.search(r"\|\| (orchgpt .*)$", line.strip()):
                    found.append(shlex.split(match.group(1).replace("${role}", "manager")))
            continue
        found.append([program, *service["command"]])
        if test := service.get("healthcheck", {}).get("test"):
            found.append(test[1:])
        if program == "autogpt":
            roles = service["command"]
            find_role(roles[roles.index("--agent") + 1])  # raises for an unknown role
            assert name == roles[roles.index("--agent") + 1]
    return found


@pytest.mark.parametrize("argv", _commands(), ids=lambda a: " ".join(a)[:60])
def test_every_compose_command_parses(argv: list[str]) -> None:
    _parses(argv)


def test_compose_has_one_service_per_team_role_and_a_healthy_orchestrator() -> None:
    services = _compose()["services"]
    assert {"certs", "orchgpt", "manager", "architect", "backend", "designer", "frontend", "git"} <= set(services)
    assert services["orchgpt"]["depends_on"]["certs"]["condition"] == "service_completed_successfully"
    assert services["manager"]["depends_on"]["orchgpt"]["condition"] == "service_healthy"
    assert "ledger:/data" in services["orchgpt"]["volumes"]


@pytest.mark.parametrize("dockerfile", sorted(ENTRYPOINTS))
def test_images_run_as_a_user_with_a_base_image_argument(dockerfile: str) -> None:
    text = (DOCKER / dockerfile).read_text()
    assert text.startswith("#")
    assert "ARG BASE=" in text
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    assert f'ENTRYPOINT ["{ENTRYPOINTS[dockerfile]}"]' in text
    if health := re.search(r'CMD \["orchgpt", "health"(.*)\]', text):
        _parses(["orchgpt", "health", *re.findall(r'"([^"]+)"', health.group(1))])
