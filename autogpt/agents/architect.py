"""ArchitectGPT: turns an idea into ARCHITECTURE.md, a Mermaid diagram and contract.json.

One structured call produces the whole design; the documents are rendered from it, so
they always agree with the machine-readable contract that the backend and the tests use.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from autogpt.agents.base import Agent, Context, action
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import DEFAULT_OPTIONS, Message, Options
from autogpt.tools.contract import ApiContract, Route, validate_contract

EXAMPLE = {
    "name": "notes-api",
    "overview": "A small HTTP API to create, list, read and delete notes, kept in memory.",
    "components": ["FastAPI application", "in-memory note store"],
    "routes": [
        {
            "method": "POST",
            "path": "/notes",
            "summary": "create a note",
            "request_example": {"text": "buy milk"},
            "expected_status": 201,
            "response_type": "object",
            "response_keys": ["id", "text"],
        },
        {
            "method": "GET",
            "path": "/notes",
            "summary": "list notes",
            "request_example": None,
            "expected_status": 200,
            "response_type": "array",
            "response_keys": ["id", "text"],
        },
        {
            "method": "GET",
            "path": "/notes/{id}",
            "summary": "read one note",
            "request_example": None,
            "expected_status": 200,
            "response_type": "object",
            "response_keys": ["id", "text"],
        },
    ],
}


def copied_example(design: Design, idea: str) -> bool:
    """Small models sometimes hand the worked example back: notes routes for a non-notes idea."""
    example_paths = {r["path"] for r in EXAMPLE["routes"]}  # type: ignore[index]
    return "note" not in idea.lower() and {r.path for r in design.routes} <= example_paths


class Design(BaseModel):
    name: str = Field(description="short kebab-case project name")
    overview: str = Field(description="two sentences: what the service does")
    components: list[str] = Field(min_length=1, max_length=6)
    routes: list[Route] = Field(min_length=1, max_length=8)


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
        await ctx.status("designing the API")
        messages = [
            Message.system(self.persona),
            Message.user(
                f"Design the HTTP JSON API for: {idea}\n"
                "Use 2 to 6 routes. Paths start with '/', parameters in braces like /items/{id}. "
                "POST routes that create return status 201 and the created object with an 'id'. "
                "Give request_example for POST, PUT and PATCH; null otherwise.\n"
                f"Example of the expected JSON for a notes service:\n{json.dumps(EXAMPLE)}"
            ),
        ]
        design: Design | None = None
        problem = ""
        for attempt in range(2):
            ask = messages if not problem else [*messages, Message.user(f"Fix this and answer again: {problem}")]
            # asked again, a small model tends to give the same answer: let it wander further
            options = Options(temperature=0.7) if attempt else DEFAULT_OPTIONS
            candidate = (await self.think_structured(ask, Design, options=options)).value
            if copied_example(candidate, idea):
                problem = f"that is the notes example, copied; design the routes for this idea instead: {idea}"
                await ctx.status("the design copied the example; asking again")
                continue
            try:
                validate_contract(ApiContract(name=candidate.name, routes=candidate.routes))
            except InvalidInputError as exc:
                problem = str(exc)
                continue
            design = candidate
            break
        if design is None:
            raise InvalidInputError(f"ArchitectGPT could not produce a valid contract: {problem}")
        contract = ApiContract(name=design.name, routes=design.routes)
        ws = self.workspace.ensure()
        written = [
            ws.write_text("ARCHITECTURE.md", render_architecture(design, language), agent=self.name),
            ws.write_text("contract.json", contract.dump(), agent=self.name),
        ]
        await ctx.status(f"contract with {len(contract.routes)} routes", progress=1.0)
        routes = ", ".join(r.key for r in contract.routes)
        return Result(
            output=f"{design.name}: {design.overview}\nroutes: {routes}",
            data={"contract": contract.model_dump(), "name": design.name, "language": language},
            artifacts=tuple(Artifact(w.path, "file", w.size, w.sha256) for w in written),
        )
