"""The API contract: the one machine-readable description of a server that the architect
writes and the backend, the frontend and the tests all use.

It is deliberately small (method, path, example body, expected status, response shape)
so that a small model can fill it in reliably and a probe can check every route.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from autogpt.errors import InvalidInputError
from autogpt.iac.envelope import Command, Task
from autogpt.tools.acceptance import MISSING, MISSING_NUMBER, Acceptance, Example, covers, usable_path
from autogpt.tools.workspace import Workspace

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_ORDER = {"POST": 0, "GET": 1, "PUT": 2, "PATCH": 2, "DELETE": 3}


class ErrorCase(BaseModel):
    """A request the route must refuse, and the status it refuses it with."""

    status: int = Field(ge=300, le=599)
    when: str = Field(description="what makes the request wrong, a few words")
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class Route(BaseModel):
    method: Method
    path: str = Field(description="starts with /, path parameters in braces, e.g. /todos/{id}")
    summary: str = Field(description="what the route does, a few words")
    request_example: dict[str, Any] | None = Field(None, description="JSON body for POST/PUT/PATCH, else null")
    expected_status: int = Field(200, ge=100, le=599)
    response_type: Literal["object", "array", "none", "text"] = "object"
    response_keys: list[str] = Field(
        default_factory=list, description="keys the JSON object (or each array item) must have"
    )
    # Contract v2: what ideas beyond a plain collection need. All optional, so a small
    # model's v1 answer is still a contract.
    query: dict[str, str] = Field(default_factory=dict, description="query parameters with example values")
    response_example: Any = Field(None, description="the response for the example request, when it is known")
    location: str | None = Field(None, description="where a redirect points")
    errors: list[ErrorCase] = Field(default_factory=list, description="requests the route must refuse")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return usable_path(value)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)


class ApiContract(BaseModel):
    name: str
    routes: list[Route] = Field(min_length=1, max_length=12)

    def ordered(self) -> list[Route]:
        """Probe order: create before read, collections before items, delete last."""
        return sorted(self.routes, key=lambda r: (_ORDER.get(r.method, 9), len(r.params), r.path))

    def dump(self) -> str:
        return json.dumps(self.model_dump(), indent=2) + "\n"


def validate_contract(contract: ApiContract) -> ApiContract:
    seen: set[str] = set()
    problems = []
    for route in contract.routes:
        if route.key in seen:
            problems.append(f"{route.key} appears twice")
        seen.add(route.key)
        if route.method in ("POST", "PUT", "PATCH") and route.request_example is None:
            problems.append(f"{route.key} needs a request_example")
    if problems:
        raise InvalidInputError("invalid API contract: " + "; ".join(problems))
    return contract


def trim_response_keys(routes: list[Route]) -> tuple[list[Route], list[str]]:
    """Routes whose response keys ask only for what a client can put in: an object's fields
    come from the bodies sent to its collection (``/books``, ``/books/{id}``), plus its
    ``id``. A key no request provides (a model's ``published_year`` when the example body
    has none) could only be invented by the server, so it is dropped. Returns the routes
    and what was dropped ("GET /books: year")."""
    given: dict[str, set[str]] = {}
    for route in routes:
        collection = _collection(route)
        if collection and route.method in ("POST", "PUT", "PATCH") and route.request_example:
            given.setdefault(collection, {"id"}).update(route.request_example)
    kept, dropped = [], []
    for route in routes:
        allowed = given.get(_collection(route) or "")
        extra = [k for k in route.response_keys if allowed is not None and k not in allowed]
        if extra:
            dropped.append(f"{route.key}: {', '.join(extra)}")
            route = route.model_copy(update={"response_keys": [k for k in route.response_keys if k not in extra]})
        kept.append(route)
    return kept, dropped


def _collection(route: Route) -> str | None:
    """``books`` for ``/books`` and ``/books/{id}``; None for other shapes (``/counter/increment``),
    whose responses a server may well compute."""
    parts = route.path.strip("/").split("/")
    if len(parts) == 1 and not route.params and parts[0]:
        return parts[0]
    if len(parts) == 2 and len(route.params) == 1 and parts[1] == f"{{{route.params[0]}}}":
        return parts[0]
    return None


_WHOLE = re.compile(r"(?:^|_)(?:id|page|limit|offset|size|per_page|count|n|year|index|skip|top|max|min_count)$", re.I)


def query_types(query: dict[str, str]) -> dict[str, str]:
    """What each query parameter holds, read off its example value: a number (whole only
    where the name says so: ``page``, ``limit``, ``id``), true/false, or text. ``?a=2`` in
    "adds two numbers" is an example, not a promise that 1.5 never comes."""
    kinds = {}
    for name, value in query.items():
        try:
            float(value)
            numeric = value.strip().lower() not in ("nan", "inf", "-inf", "infinity")
        except ValueError:
            numeric = False
        if numeric:
            kinds[name] = "whole number" if _WHOLE.search(name) else "number, decimals allowed"
        elif value.lower() in ("true", "false"):
            kinds[name] = "true/false"
        else:
            kinds[name] = "text"
    return kinds


def fill_path(route: Route, known: dict[str, Any]) -> str:
    """``route.path`` with each ``{param}`` replaced by a value seen earlier (or 1)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        for key in (name, "id"):
            if key in known:
                return str(known[key])
        return "1"

    return _PARAM.sub(value, route.path)


def check_response(route: Route, status: int, body: bytes) -> list[str]:
    """What is wrong with this response for ``route`` (empty when it conforms)."""
    problems: list[str] = []
    if status != route.expected_status:
        problems.append(f"status {status}, expected {route.expected_status}")
    if route.response_type in ("none", "text") or not (200 <= status < 300):
        return problems
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return [*problems, f"body is not JSON: {body[:120]!r}"]
    items: list[Any]
    if route.response_type == "array":
        if not isinstance(data, list):
            return [*problems, f"expected a JSON array, got {type(data).__name__}"]
        items = data[:3]
    else:
        if not isinstance(data, dict):
            return [*problems, f"expected a JSON object, got {type(data).__name__}"]
        items = [data]
    for item in items:
        if not isinstance(item, dict):
            problems.append(f"expected objects in the array, got {type(item).__name__}")
            break
        missing = [k for k in route.response_keys if k not in item]
        if missing:
            problems.append(f"response lacks keys {missing}")
            break
    return problems


_BODY = ("POST", "PUT", "PATCH")
_ID_SEGMENT = re.compile(r"[0-9]+|[0-9a-f]{8,}|[0-9a-f-]{36}")


def template_of(example: Example, given: dict[str, str] | None = None) -> str:
    """The route path an example calls: ``/todos/3`` is ``/todos/{id}``; a segment that is a
    value an earlier example sent or got back (``/r/abc`` after ``{"code": "abc"}``) is that
    parameter (``/r/{code}``); ``{name}`` stays."""
    parts = example.path.strip("/").split("/")
    out = []
    for i, part in enumerate(parts):
        if i and part in (given or {}):
            part = f"{{{(given or {})[part]}}}"
        elif i and _ID_SEGMENT.fullmatch(part):
            part = "{id}" if i == len(parts) - 1 else f"{{{parts[i - 1].rstrip('s')}_id}}"
        out.append(part)
    return "/" + "/".join(out)


def _values(example: Example) -> dict[str, str]:
    """value -> key of the scalars an example sends or expects back."""
    found: dict[str, str] = {}
    for data in (example.body, example.response):
        if isinstance(data, dict):
            found |= {str(v): k for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)}
    return found


def routes_for(acceptance: Acceptance) -> list[Route]:
    """One route per (method, path) the examples call, shaped by the examples that succeed and
    carrying the ones that must fail as error cases. The examples are the idea's own words, so
    these routes are what the contract must have, whatever else a design adds."""
    grouped: dict[tuple[str, str], list[Example]] = {}
    given: dict[str, str] = {}
    paths = []
    for example in acceptance.examples:
        paths.append(template_of(example, given))
        given |= _values(example)
    # A lookup of something that does not exist (``/capital/doesnotexist``) says the segment
    # it replaces is a value: ``/capital/France`` and it are one route, ``/capital/{capital}``.
    lookups = {p.rpartition("/")[0] for p in paths if p.rpartition("/")[2] in (MISSING, MISSING_NUMBER)}
    lookups |= _derived_lookups(acceptance.examples, paths)
    for example, path in zip(acceptance.examples, paths, strict=True):
        if path.startswith(f"/{MISSING}/"):
            continue  # a path no route has: nothing to design
        head, _, last = path.rpartition("/")
        if head in lookups and not _PARAM.fullmatch(last):
            word = head.rpartition("/")[2].rstrip("s")
            path = f"{head}/{{{word if len(word) > 2 and word.isidentifier() else 'name'}}}"
        key = next((k for k in grouped if k[0] == example.method and covers(k[1], path)), (example.method, path))
        grouped.setdefault(key, []).append(example)
    routes = []
    for (method, path), examples in grouped.items():
        good = [e for e in examples if e.status_class != "4xx" and (e.status or 200) < 400]
        bad = [e for e in examples if e not in good]
        first = good[0] if good else examples[0]
        response = first.response if first.match != "none" else None
        sample = response[0] if isinstance(response, list) and response else response
        kind = (
            "array" if isinstance(response, list) else "text" if first.text is not None
            else "none" if not first.keys and (
                first.status_class == "3xx" or (first.status or 200) in (204, 301, 302, 303, 307, 308))
            else "object"
        )  # fmt: skip
        status = first.status or {"3xx": 302, "4xx": 400}.get(first.status_class) or (201 if method == "POST" else 200)
        routes.append(Route(
            method=method, path=path,  # type: ignore[arg-type]
            summary=(first.said or f"{method} {path}")[:120],
            request_example=first.body if isinstance(first.body, dict) else {} if method in _BODY else None,
            expected_status=status, response_type=kind,  # type: ignore[arg-type]
            response_keys=sorted({*(sample if isinstance(sample, dict) else ()), *first.keys}),
            query=_all_query(first, good, bad), response_example=response if response is not None else first.text,
            location=first.headers.get("location"),
            errors=[ErrorCase(status=e.status or 400, when=e.said[:120] or "invalid input", query=dict(e.query),
                              body=e.body) for e in bad],
        ))  # fmt: skip
    return routes


def _derived_lookups(examples: list[Example], paths: list[str]) -> set[str]:
    """Where the model derived lookups of one collection (``/elements/He``, ``/elements/C``,
    ``/elements/O`` beside the idea's ``/elements/H``), answered in one shape: that is one route
    with a value in its last segment. A route per example would hand the server's writer each
    answer to copy, and a server that knows only those would pass."""
    family: dict[str, list[Example]] = {}
    for example, path in zip(examples, paths, strict=True):
        head, _, last = path.rpartition("/")
        if example.method == "GET" and head and not _PARAM.fullmatch(last) and isinstance(example.response, dict):
            family.setdefault(head, []).append(example)
    return {
        head for head, members in family.items()
        if len({e.path for e in members}) >= 3 and any(e.source == "derived" for e in members)
        and len({frozenset(e.response) for e in members}) == 1
    }  # fmt: skip


def _all_query(first: Example, good: list[Example], bad: list[Example]) -> dict[str, str]:
    """Every query parameter the route's examples use (``/books?author=x``, ``/books?before=1900``),
    each with a value a succeeding example gives where one does."""
    merged: dict[str, str] = {}
    for example in (first, *good, *bad):
        for name, value in example.query.items():
            merged.setdefault(name, value)
    return merged


def cover(routes: list[Route], acceptance: Acceptance) -> tuple[list[Route], list[str]]:
    """``routes`` with every route the acceptance examples call: a designed route that serves an
    example is replaced by the one the examples shape, and a missing one is added. A design may
    add routes; it may never lose one the idea asks for. Returns the routes and what was added."""
    wanted = routes_for(acceptance)
    kept = [r for r in routes if not any(w.method == r.method and covers(r.path, w.path) for w in wanted)]
    added = [w.key for w in wanted if not any(r.method == w.method and covers(r.path, w.path) for r in routes)]
    return [*wanted, *kept], added


def task_command(task: Task) -> Command:
    """A Task from ManagerGPT as a ``create`` command, with what earlier tasks produced merged in."""
    data = dict(task.input)
    for dep in data.get("dependencies", {}).values():
        if isinstance(dep, dict):
            for key in ("contract", "design", "acceptance"):
                if key in dep:
                    data.setdefault(key, dep[key])
    return Command("create", task.description, str(data.get("language", "")), data)


def contract_from(data: dict[str, Any], workspace: Workspace, agent: str) -> ApiContract:
    """The contract passed along with the work, else the workspace's contract.json."""
    try:
        if "contract" in data:
            return validate_contract(ApiContract.model_validate(data["contract"]))
        if workspace.exists("contract.json"):
            return validate_contract(ApiContract.model_validate_json(workspace.read_text("contract.json")))
    except ValidationError as exc:
        raise InvalidInputError(f"the API contract is malformed: {exc.errors()[0]['msg']}") from None
    raise InvalidInputError(f"{agent} needs an API contract (run the architect first)")
