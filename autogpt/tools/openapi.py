"""The API contract as an OpenAPI 3 document (``openapi.json``), so any tool can read it."""

from __future__ import annotations

import re
from typing import Any

from autogpt.tools.contract import ApiContract, Route


def _schema(value: Any) -> dict[str, Any]:
    """A JSON schema for an example value: its type, and for objects and arrays their parts."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": _schema(value[0]) if value else {}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _schema(v) for k, v in value.items()}}
    return {}


def _param_type(example: str) -> dict[str, Any]:
    for kind, cast in (("integer", int), ("number", float)):
        try:
            cast(example)
        except ValueError:
            continue
        return {"type": kind}
    return {"type": "string"}


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.params
    ]
    params += [
        {"name": name, "in": "query", "required": True, "schema": _param_type(value), "example": value}
        for name, value in route.query.items()
    ]
    name = re.sub(r"[^a-zA-Z0-9]+", "_", f"{route.method.lower()}{route.path}").strip("_")
    op: dict[str, Any] = {"summary": route.summary, "operationId": name}
    if params:
        op["parameters"] = params
    if route.request_example is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": _schema(route.request_example), "example": route.request_example}
            },
        }
    response: dict[str, Any] = {"description": route.summary}
    if route.response_type == "text":
        response["content"] = {"text/plain": {"schema": {"type": "string"}, "example": route.response_example}}
    elif route.response_type in ("object", "array"):
        shape = route.response_example if route.response_example is not None else None
        schema: dict[str, Any] = _schema(shape) if shape is not None else {"type": route.response_type}
        if route.response_keys and route.response_type == "object":
            schema.setdefault("properties", {})
            schema["required"] = list(route.response_keys)
        content: dict[str, Any] = {"schema": schema}
        if shape is not None:
            content["example"] = shape
        response["content"] = {"application/json": content}
    if route.location:
        response["headers"] = {"Location": {"schema": {"type": "string"}, "example": route.location}}
    responses = {str(route.expected_status): response}
    for case in route.errors:
        responses.setdefault(str(case.status), {"description": case.when})
    op["responses"] = responses
    return op


def to_openapi(contract: ApiContract) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in contract.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {"openapi": "3.0.3", "info": {"title": contract.name, "version": "1.0.0"}, "paths": paths}
