"""ArchitectGPT's small-model aids: the worked example, the checks on a design, and the fallback.

A small model shown one worked example (a notes API) tends to hand it back for any idea. A
design is refused when it is that example again or not a valid contract; asked twice without
luck, the architect falls back to the standard routes for the idea's main resource, a much
smaller question with no example to copy. An overview left in the example's words is said
again from the routes the design really has.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from autogpt.agents.acceptance_aids import Resource, resource_body
from autogpt.agents.asking import Check, raising, unless
from autogpt.tools.contract import ApiContract, Route, validate_contract

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


def design_prompt(idea: str) -> str:
    return (
        f"Design the HTTP JSON API for: {idea}\n"
        "Use 2 to 6 routes. Paths start with '/', parameters in braces like /items/{id}. "
        "POST routes that create return status 201 and the created object with an 'id'. "
        "Give request_example for POST, PUT and PATCH; null otherwise.\n"
        f"Example of the expected JSON for a notes service:\n{json.dumps(EXAMPLE)}"
    )


def design_checks(idea: str) -> list[Check[Design]]:
    return [
        unless(
            f"the design copied the example (the notes service); design the routes for this idea instead: {idea}",
            lambda design: copied_example(design, idea),
        ),
        raising(lambda design: validate_contract(ApiContract(name=design.name, routes=design.routes))),
    ]
