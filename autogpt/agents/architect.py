"""ArchitectGPT: turns an idea into ARCHITECTURE.md, a Mermaid diagram and contract.json.

One structured call produces the whole design; the documents are rendered from it, so
they always agree with the machine-readable contract that the backend and the tests use.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from autogpt.agents.acceptance_aids import Resource, resource_body, resource_prompt, slug
from autogpt.agents.base import Agent, Context, action
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.llm.base import DEFAULT_OPTIONS, Message, Options
from autogpt.tools.acceptance import Acceptance, acceptance_from
from autogpt.tools.contract import ApiContract, Route, routes_for, trim_response_keys, validate_contract
from autogpt.tools.openapi import to_openapi

EXAMPLE = {
    "name": "notes-api",
    "overview": "A small HTTP API to create, list and read notes, kept in memory.",
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


class Design(BaseModel):
    name: str = Field(description="short kebab-case project name")
    overview: str = Field(description="two sentences: what the service does")
    components: list[str] = Field(min_length=1, max_length=6)
    routes: list[Route] = Field(min_length=1, max_length=12)


def _stem(word: str) -> str:
    return word.lower().removesuffix("s")


def _named_for(design: Design, idea: str) -> bool:
    """Whether every route's first path segment is a word of the idea (``/todos`` for "a todo app")."""
    words = {_stem(w) for w in re.findall(r"[a-zA-Z]+", idea)}
    firsts = {r.path.strip("/").split("/")[0] for r in design.routes}
    return all(_stem(first) in words for first in firsts)


def copied_example(design: Design, idea: str) -> bool:
    """Small models sometimes hand the worked example back for an idea that is not about
    notes: its routes, its notes under other paths, or its example body under paths that are
    not the idea's. (The body under the idea's own paths, say a todo with a text, is a design.)"""
    if "note" in idea.lower():
        return False
    routes: list[dict[str, object]] = EXAMPLE["routes"]  # type: ignore[assignment]
    if {r.path for r in design.routes} <= {str(r["path"]) for r in routes}:
        return True
    if any("note" in r.summary.lower() for r in design.routes):
        return True
    body = routes[0]["request_example"]
    return any(r.request_example == body for r in design.routes) and not _named_for(design, idea)


def resource_design(resource: Resource, idea: str) -> Design:
    """The standard contract for one kind of thing: create it, list them, read one."""
    plural, body = resource_body(resource)
    words = plural.replace("-", " ")
    keys = ["id", *body]

    def route(method: str, path: str, summary: str, **shape: Any) -> Route:
        return Route.model_validate({"method": method, "path": path, "summary": summary, **shape})

    return Design(
        name=f"{plural}-api",
        overview=f"A small HTTP API to add, list and read {words}, kept in memory. Built for: {idea}",
        components=["HTTP application", f"in-memory {words} store"],
        routes=[
            route("POST", f"/{plural}", f"add one of the {words}", request_example=body, expected_status=201,
                  response_type="object", response_keys=keys),
            route("GET", f"/{plural}", f"list the {words}", expected_status=200, response_type="array",
                  response_keys=keys),
            route("GET", f"/{plural}/{{id}}", "read one by id", expected_status=200, response_type="object",
                  response_keys=keys),
        ],
    )  # fmt: skip


_VERBS = {"POST": "create", "PUT": "replace", "PATCH": "update", "DELETE": "delete"}
_VERB = r"(?:create|list|read|update|replace|delete|add)"
_EXAMPLE_OVERVIEW = re.compile(
    rf"A small HTTP API to {_VERB}(?:,? (?:and )?{_VERB})* (\w[\w -]*), kept in memory\.?", re.IGNORECASE
)


def honest_overview(design: Design) -> Design:
    """An overview in the example's words (small models keep them) may name routes the design
    does not have: it is said again from the routes there are."""
    copied = _EXAMPLE_OVERVIEW.fullmatch(design.overview.strip())
    if copied is None:
        return design
    verbs = [_VERBS.get(r.method) or ("read" if r.params else "list") for r in design.routes]
    unique = list(dict.fromkeys(verbs))
    said = ", ".join(unique[:-1]) + f" and {unique[-1]}" if len(unique) > 1 else unique[0]
    return design.model_copy(update={"overview": f"A small HTTP API to {said} {copied.group(1)}, kept in memory."})


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
        problem = note = ""
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
            # Small models can keep handing back the worked example. A much smaller question
            # (what does the app keep?) has no example to copy; the routes follow from it.
            await ctx.status("falling back to the standard routes for the idea's main resource")
            resource = await self._resource(idea)
            design = resource_design(resource, idea)
            note = f"the model's own design was unusable ({problem[:160]}); used the standard routes for {design.name}"
        return design, note

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
