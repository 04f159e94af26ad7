"""A server's skeleton, drawn from the contract: every route with its own names, nothing worked out.

A small model asked for a whole server copies the worked example it was shown, names and all
(``def area(w, h)`` for a BMI idea). What the contract already says, which routes there are,
what each is called with and how its numbers are read, is written here, deterministically, so
the model's part shrinks to what only it can do: the body of each route. Every body is a
TODO line (in Python ``...``, which answers ``null``; in JavaScript a ``501``), so a skeleton
returned as it is fails every example that asks something of it; nothing here knows an answer.
(A body that raised ``501`` read as finished code to the small model, which handed it back.)
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from typing import Any
from urllib.parse import urlencode

from autogpt.tools.acceptance import MISSING, Acceptance, covers
from autogpt.tools.contract import ApiContract, Route, query_types

NOT_WRITTEN = "not written yet"
TODO = "TODO: write the code that answers this request"
_WORD = re.compile(r"[A-Za-z0-9]+")


def _usable(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _name(text: str) -> str:
    """A Python identifier for a parameter name: itself when it is one, else ``per-page`` ->
    ``per_page``, ``from`` -> ``from_`` (read through an alias, see :func:`_argument`)."""
    if _usable(text):
        return text
    name = "_".join(_WORD.findall(text)).lower() or "value"
    if name[0].isdigit():
        name = f"p_{name}"
    return name if _usable(name) else f"{name}_"


def _argument(name: str, where: str, optional: bool = False) -> str:
    """A route function's argument for the request's ``name`` (``where``: Path or Query)."""
    python, kind = _name(name), "str | None" if optional else "str"
    typed = f"{python}: {kind}" if python == name else f'{python}: Annotated[{kind}, {where}(alias="{name}")]'
    return f"{typed} = None" if optional else typed


def _header_arg(header: str) -> str:
    """FastAPI reads ``x_api_key`` from the ``X-Api-Key`` header."""
    return _name(header.lower().replace("-", "_"))


def optional_query(route: Route, acceptance: Acceptance | None) -> set[str]:
    """The route's query parameters that some example of it leaves out."""
    examples = [
        e
        for e in (acceptance.examples if acceptance else [])
        if e.method == route.method and covers(route.path, e.path)
    ]
    return {q for q in route.query if any(q not in e.query for e in examples)}


def sent_headers(route: Route, acceptance: Acceptance | None) -> list[str]:
    """The request headers some example of the route sends (``Authorization``)."""
    names = [
        name
        for e in (acceptance.examples if acceptance else [])
        if e.method == route.method and covers(route.path, e.path)
        for name in e.request_headers
    ]
    return list(dict.fromkeys(names))


def function_name(route: Route) -> str:
    words = [w for part in route.path.split("/") for w in _WORD.findall(part)]
    return "_".join([route.method.lower(), *words]).lower()


def _request(route: Route) -> str:
    query = f"?{urlencode(route.query)}" if route.query else ""
    line = f"{route.method} {route.path}{query} -> status {route.expected_status}"
    if route.location:
        line += ", a redirect"
    elif route.response_type == "text":
        line += ", plain text"
    return line


def unknown_path_answer(acceptance: Acceptance | None) -> tuple[int, Any] | None:
    """What the idea says any path no route has answers (``any unknown path answers 404 with
    {"error": "not found"}``), as (status, JSON body), when an example asks for it. The
    skeleton answers it outright: a framework's own 404 page is HTML, or another body."""
    for e in acceptance.examples if acceptance else []:
        if e.path.startswith(f"/{MISSING}/") and e.status is not None and e.status >= 400:
            return e.status, e.response if isinstance(e.response, dict) else {"detail": "not found"}
    return None


def python_skeleton(contract: ApiContract, acceptance: Acceptance | None = None) -> str:
    names = ["FastAPI", "HTTPException"]
    if any(not _usable(p) for r in contract.routes for p in r.params):
        names.append("Path")
    if any(not _usable(q) for r in contract.routes for q in r.query):
        names.append("Query")
    if any(sent_headers(r, acceptance) for r in contract.routes):
        names.append("Header")
    imports = [f"from fastapi import {', '.join(names)}"]
    if {"Path", "Query"} & set(names):
        imports.insert(0, "from typing import Annotated\n")
    responses = []
    if any(r.location or 300 <= r.expected_status < 400 for r in contract.routes):
        responses.append("RedirectResponse")
    if any(r.response_type == "text" for r in contract.routes):
        responses.append("PlainTextResponse")
    routes = [
        _python_route(route, optional_query(route, acceptance), sent_headers(route, acceptance))
        for route in contract.ordered()
    ]
    if (unknown := unknown_path_answer(acceptance)) is not None:
        status, body = unknown
        responses.append("JSONResponse")
        routes.append(
            '@app.api_route("/{unknown_path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])\n'
            "def unknown_path(unknown_path: str):\n"
            "    # any path no route above has: the idea says what it answers\n"
            f"    return JSONResponse(status_code={status}, content={body!r})"
        )
    if responses:
        imports.append(f"from fastapi.responses import {', '.join(responses)}")
    return "\n".join(imports) + "\n\napp = FastAPI()\n\n\n" + "\n\n\n".join(routes) + "\n"


_ID = re.compile(r"id|\w+_id", re.I)


def _python_route(route: Route, optional: set[str], headers: list[str]) -> str:
    kinds = query_types(route.query)
    # an id is a number the server counted out (``todos[id]`` with ``id: str`` finds nothing)
    args = [_argument(p, "Path").replace(": str", ": int") if _ID.fullmatch(p) else _argument(p, "Path")
            for p in route.params]  # fmt: skip
    args += [_argument(q, "Query") for q in route.query if q not in optional]
    if route.request_example:  # required: before every argument with a default
        args.append("body: dict")
    args += [_argument(q, "Query", optional=True) for q in route.query if q in optional]
    args += [f"{_header_arg(h)}: str | None = Header(None)" for h in headers]  # None: not sent
    decorator = f'@app.{route.method.lower()}("{route.path}"'
    if 200 < route.expected_status < 300:  # a refusal's status is the code's to give, not the decorator's
        decorator += f", status_code={route.expected_status}"
    if route.response_type == "text":
        decorator += ", response_class=PlainTextResponse"
    lines = [decorator + ")", f"def {function_name(route)}({', '.join(args)}):", f"    # {_request(route)}"]
    lines += [f"    # refuse with {case.status} when {case.when}" for case in route.errors]
    lines += [f"    # {_header_arg(h)} is the {h} header the request sent, or None" for h in headers]
    numbers = [q for q in route.query if kinds[q] != "text" and kinds[q] != "true/false"]
    if numbers:
        cast = {q: "int" if kinds[q] == "whole number" else "float" for q in numbers}
        targets = ", ".join(f"{_name(q)}_value" for q in numbers)
        values = ", ".join(
            f"{cast[q]}({_name(q)}) if {_name(q)} is not None else None" if q in optional else f"{cast[q]}({_name(q)})"
            for q in numbers
        )
        said = " and ".join(numbers)
        lines += [
            "    try:",
            f"        {targets} = {values}",
            "    except ValueError:",
            f'        raise HTTPException(status_code=400, detail="{said} must be numbers")',
        ]
    lines.append(f"    ...  # {TODO}")
    return "\n".join(lines)


def unwritten(code: str) -> list[str]:
    """The route functions in Python ``code`` not written yet: a ``...`` line left in, or nothing but ``pass``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and isinstance(d.func.value, ast.Name)
            and d.func.value.id == "app" for d in node.decorator_list
        ):  # fmt: skip
            left = any(
                isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant) and b.value.value is Ellipsis
                for b in node.body
            )  # the skeleton's TODO line, kept
            body = [b for b in node.body if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))]
            if left or all(isinstance(b, ast.Pass) for b in body):
                found.append(node.name)
    return found


def javascript_skeleton(contract: ApiContract, acceptance: Acceptance | None = None) -> str:
    parts = ['const express = require("express");\n\nconst app = express();\napp.use(express.json());']
    for route in contract.ordered():
        parts.append(_javascript_route(route, optional_query(route, acceptance), sent_headers(route, acceptance)))
    if (unknown := unknown_path_answer(acceptance)) is not None:
        status, body = unknown
        parts.append(
            "// any path no route above has: the idea says what it answers\n"
            f"app.use((req, res) => res.status({status}).json({json.dumps(body)}));"
        )
    parts.append('app.listen(Number(process.env.PORT || 3000), "127.0.0.1");')
    return "\n\n".join(parts) + "\n"


def _javascript_route(route: Route, optional: set[str], headers: list[str]) -> str:
    kinds = query_types(route.query)
    path = re.sub(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}", r":\1", route.path)
    lines = [f'app.{route.method.lower()}("{path}", (req, res) => {{', f"  // {_request(route)}"]
    lines += [f"  // refuse with {case.status} when {case.when}" for case in route.errors]
    lines += [f'  const {_js_name(h)} = req.get("{h}"); // the {h} header sent, or undefined' for h in headers]
    numbers = [q for q in route.query if kinds[q] not in ("text", "true/false")]
    for q in numbers:
        read = (
            f'req.query["{q}"] === undefined ? undefined : Number(req.query["{q}"])'
            if q in optional
            else (f'Number(req.query["{q}"])')
        )
        lines.append(f"  const {_js_name(q)} = {read};")
    if numbers:
        bad = " || ".join(
            (f"({_js_name(q)} !== undefined && " if q in optional else f'(req.query["{q}"] === undefined || ')
            + f"Number.isNaN({_js_name(q)})"
            + (f" || !Number.isInteger({_js_name(q)})" if kinds[q] == "whole number" else "")
            + ")"
            for q in numbers
        )
        said = " and ".join(numbers)
        lines += [
            f"  if ({bad}) {{",
            f'    return res.status(400).json({{ detail: "{said} must be numbers" }});',
            "  }",
        ]
    lines += [f"  // {TODO}", f'  res.status(501).json({{ detail: "{NOT_WRITTEN}" }});', "});"]
    return "\n".join(lines)


def _js_name(text: str) -> str:
    words = _WORD.findall(text) or ["value"]
    name = words[0].lower() + "".join(w.capitalize() for w in words[1:])
    return f"{name}Value" if name[0].isdigit() or name in ("delete", "new", "class", "function", "var") else name


def skeleton(contract: ApiContract, language: str, acceptance: Acceptance | None = None) -> str:
    """The server to complete for ``contract``; ``acceptance`` tells which query parameters may be left out."""
    if language == "python":
        return python_skeleton(contract, acceptance)
    return javascript_skeleton(contract, acceptance)
