"""ArchitectGPT: turns an idea into ARCHITECTURE.md, a Mermaid diagram and contract.json.

One structured call produces the whole design (or, when the idea has acceptance examples,
the routes follow from them); the documents are rendered from it, so they always agree with
the machine-readable contract that the backend and the tests use. What a small model needs
to design well lives in :mod:`autogpt.agents.architect_aids`.
"""

from __future__ import annotations

import json
import re

from autogpt.agents.acceptance_aids import Resource, resource_prompt, slug
from autogpt.agents.architect_aids import Design, design_checks, design_prompt, honest_overview, resource_design
from autogpt.agents.asking import Answer
from autogpt.agents.base import Agent, Context, action
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import Message
from autogpt.tools.acceptance import Acceptance, acceptance_from
from autogpt.tools.contract import ApiContract, routes_for, trim_response_keys
from autogpt.tools.openapi import to_openapi


def render_architecture(design: Design, language: str) -> str:
    stack = "Node.js + Express" if language == "javascript" else "Python + FastAPI"
    lines = [
        f"# {design.name}",
        "",
        design.overview,
        "",
        f"Stack: {stack}. Data is kept in memory. The API contract is `contract.json`.",
        "",
        "## Components",
        "",
        *[f"- {c}" for c in design.components],
        "",
        "## Diagram",
        "",
        "```mermaid",
        "flowchart LR",
        "    client([Client]) -->|HTTP JSON| api[API server]",
        "    api --> store[(In-memory store)]",
        *[f'    api --- r{i}["{r.method} {r.path}"]' for i, r in enumerate(design.routes)],
        "```",
        "",
        "## Routes",
        "",
        "| Method | Path | Purpose | Status | Response |",
        "|---|---|---|---|---|",
    ]
    for r in design.routes:
        shape = r.response_type + (f" with {', '.join(r.response_keys)}" if r.response_keys else "")
        lines.append(f"| {r.method} | `{r.path}` | {r.summary} | {r.expected_status} | {shape} |")
    return "\n".join(lines) + "\n"


class ArchitectGPT(Agent):
    name = "ArchitectGPT"
    role = "architect"
    persona = (
        "You are ArchitectGPT. You design small, correct HTTP services and describe their API "
        "precisely: every route with method, path, example request, expected status and response keys."
    )
    capabilities = frozenset({"llm.chat", "fs.write"})

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        idea = str(task.input.get("idea") or task.description)
        return await self.create(Command("create", idea, str(task.input.get("language", ""))), ctx)

    @action("create", help="design a service: ARCHITECTURE.md, diagram and contract.json")
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("ArchitectGPT needs a workspace")
        idea = command.input.strip()
        if not idea:
            raise InvalidInputError("the idea is empty")
        language = command.language or "python"
        acceptance = acceptance_from(command.args, self.workspace)
        if acceptance is not None and acceptance.examples:
            # The idea's examples say which routes there are and what they answer; a design
            # from the model could only lose some of them.
            routes = routes_for(acceptance)
            await ctx.status(f"{len(routes)} route(s) from {len(acceptance.examples)} acceptance example(s)")
            design = Design(
                name=f"{slug(_topic(idea), 'service')}-api",
                overview=f"An HTTP API for: {idea}",
                components=["HTTP application", "in-memory state"],
                routes=routes,
            )
            return self._write(design, language, "the routes follow the acceptance examples", acceptance)
        design, note = await self._design(idea, ctx)
        return self._write(design, language, note)

    async def _design(self, idea: str, ctx: Context) -> tuple[Design, str]:
        """A design from the model, for an idea with no acceptance examples to follow."""
        await ctx.status("designing the API")

        async def standard_routes(_: Design | None, problem: str) -> Answer[Design]:
            await ctx.status("falling back to the standard routes for the idea's main resource")
            design = resource_design(await self._resource(idea), idea)
            why = f"the model's own design was unusable ({problem[:160]}); used the standard routes for {design.name}"
            return Answer(design, why)

        answer = await self.ask(
            [Message.system(self.persona), Message.user(design_prompt(idea))], Design, ctx,
            checks=design_checks(idea), fallback=standard_routes, repairs=2, what="design",
        )  # fmt: skip
        return answer.value, answer.note

    def _write(self, design: Design, language: str, note: str, acceptance: Acceptance | None = None) -> Result:
        assert self.workspace is not None
        design = honest_overview(design)
        trimmed_routes, dropped = trim_response_keys(design.routes)
        if dropped:
            design = design.model_copy(update={"routes": trimmed_routes})
            trimmed = f"response keys no request provides were dropped ({'; '.join(dropped)[:200]})"
            note = f"{note}; {trimmed}" if note else trimmed
        contract = ApiContract(name=design.name, routes=design.routes)
        ws = self.workspace.ensure()
        written = [
            ws.write_text("ARCHITECTURE.md", render_architecture(design, language), agent=self.name),
            ws.write_text("contract.json", contract.dump(), agent=self.name),
            ws.write_text("openapi.json", json.dumps(to_openapi(contract), indent=2) + "\n", agent=self.name),
        ]
        if acceptance is not None:  # what the design follows travels (and is committed) with it
            written.append(ws.write_text("acceptance.json", acceptance.dump(), agent=self.name))
        routes = ", ".join(r.key for r in contract.routes)
        return Result(
            output=f"{design.name}: {design.overview}\nroutes: {routes}" + (f"\nnote: {note}" if note else ""),
            data={"contract": contract.model_dump(), "name": design.name, "language": language, "note": note},
            artifacts=tuple(Artifact(w.path, "file", w.size, w.sha256) for w in written),
        )

    async def _resource(self, idea: str) -> Resource:
        messages = [Message.system(self.persona), Message.user(resource_prompt(idea))]
        return (await self.think_structured(messages, Resource)).value


_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "api",
        "app",
        "service",
        "server",
        "endpoint",
        "endpoints",
        "simple",
        "small",
        "tiny",
        "where",
        "which",
        "that",
        "i",
        "can",
        "to",
        "and",
        "of",
        "for",
        "with",
        "http",
        "json",
        "rest",
        "web",
    ]
)


def _topic(idea: str) -> str:
    """The first words of an idea that say what it is about (``a temperature API: ...`` -> temperature)."""
    words = [w for w in re.findall(r"[a-z0-9]+", idea.lower().split(":")[0]) if w not in _FILLER]
    return " ".join(words[:2])
