"""ArchitectGPT's copy check and its standard contract for one resource."""

from __future__ import annotations

from autogpt.agents.acceptance_aids import Resource
from autogpt.agents.architect_aids import EXAMPLE, Design, copied_example, honest_overview, resource_design
from autogpt.tools.contract import ApiContract, validate_contract


def design(**route: object) -> Design:
    base = {"method": "GET", "path": "/items", "summary": "list items", "response_type": "array"}
    return Design.model_validate({"name": "x", "overview": "x", "components": ["app"], "routes": [{**base, **route}]})


def test_the_example_is_a_copy_under_other_paths_too() -> None:
    assert copied_example(Design.model_validate(EXAMPLE), "a bookmarks app")
    assert not copied_example(Design.model_validate(EXAMPLE), "a notes app")  # notes were asked for
    assert copied_example(design(path="/items/{id}", summary="create a note"), "a bookmarks app")
    body = {"method": "POST", "summary": "save a link", "request_example": {"text": "buy milk"}}
    assert copied_example(design(**body), "a bookmarks app")
    assert not copied_example(design(summary="list bookmarks"), "a bookmarks app")
    # the example's body under the idea's own paths is a design: a todo with a text
    todo = {"method": "POST", "summary": "create a todo", "request_example": {"text": "buy milk"}}
    assert not copied_example(design(path="/todos", **todo), "a todo list app where I can add todos")
    assert copied_example(design(path="/todos", **body), "a bookmarks app")
    assert copied_example(design(path="/", **todo), "a todo app")


def test_the_standard_contract_is_valid_and_cleans_up_what_the_model_said() -> None:
    made = resource_design(
        Resource.model_validate(
            {
                "plural": "Saved Links!",
                "fields": [
                    {"name": "id", "example": "7"},  # the model's id: dropped, with its example
                    {"name": "Title", "example": "Python docs"},
                    {"name": "URL", "example": " "},
                    {"name": "title", "example": "again"},
                ],
            }
        ),
        "a bookmarks app",
    )
    contract = validate_contract(ApiContract(name=made.name, routes=made.routes))
    assert made.name == "saved-links-api"
    assert [r.key for r in contract.routes] == ["POST /saved-links", "GET /saved-links", "GET /saved-links/{id}"]
    create = contract.routes[0]
    assert create.request_example == {"title": "Python docs", "url": "sample url"}
    assert create.response_keys == ["id", "title", "url"]
    assert (create.expected_status, contract.routes[1].response_type) == (201, "array")
    bare = resource_design(Resource.model_validate({"plural": "???", "fields": [{"name": "id", "example": ""}]}), "x")
    assert next(r.key for r in bare.routes) == "POST /items"
    assert bare.routes[0].request_example == {"name": "sample name"}


def test_the_examples_overview_is_said_again_from_the_routes_there_are() -> None:
    todos = {**EXAMPLE, "overview": "A small HTTP API to create, list, read and delete todos, kept in memory."}
    routes = [{**r, "path": str(r["path"]).replace("notes", "todos")} for r in EXAMPLE["routes"]]  # type: ignore[attr-defined]
    made = honest_overview(Design.model_validate({**todos, "routes": routes}))
    assert made.overview == "A small HTTP API to create, list and read todos, kept in memory."
    own = Design.model_validate({**todos, "overview": "Todos for a family, shared."})
    assert honest_overview(own) is own
