"""``autogpt -p PROMPT``: GenericGPT's answer streamed to stdout."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from autogpt.agents.generic import GenericGPT
from autogpt.cli.errors import exit_code_for, report
from autogpt.cli.runtime import Standalone, settings_from, summary_line
from autogpt.errors import AutoGPTError, InvalidInputError
from autogpt.iac.envelope import Command, Status


def _print_delta(status: Status) -> None:
    if status.delta:
        sys.stdout.write(status.delta)
        sys.stdout.flush()


async def _answer(prompt: str, overrides: dict[str, Any]) -> int:
    settings = settings_from(overrides)
    started = time.monotonic()
    team = Standalone(settings, GenericGPT)
    await team.start()
    try:
        result = await team.ask(Command("run", prompt), on_status=_print_delta)
    finally:
        await team.stop()
    if not result.output.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    if sys.stderr.isatty() and team.agent is not None:
        print(summary_line(team.agent.llm, team.meter, started), file=sys.stderr)
    return 0


def run_prompt(prompt: str, overrides: dict[str, Any]) -> int:
    try:
        if not prompt.strip():
            raise InvalidInputError("the prompt is empty", hint='autogpt -p "what you want"')
        return asyncio.run(_answer(prompt, overrides))
    except AutoGPTError as exc:
        sys.stdout.flush()
        report(exc)
        return exit_code_for(exc)
