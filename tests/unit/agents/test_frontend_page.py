"""How FrontendGPT names the page it writes."""

from __future__ import annotations

import pytest

from autogpt.agents.frontend import EXAMPLE_PAGE, app_title, named
from autogpt.tools.contract import ApiContract

TODOS = ApiContract.model_validate(
    {"name": "todos-api", "routes": [{"method": "GET", "path": "/todos", "summary": "list"}]}
)


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        ({"name": "  Todo   Board "}, "Todo Board"),  # the designer's name wins
        ({"name": ""}, "Todos"),  # an empty name: the contract's
        (None, "Todos"),  # no designer on the team
        ("not a design", "Todos"),
    ],
)
def test_the_app_title_comes_from_the_design_else_the_contract(design: object, expected: str) -> None:
    assert app_title(design, TODOS) == expected


def test_a_contract_named_only_api_still_gives_a_title() -> None:
    assert app_title(None, TODOS.model_copy(update={"name": "api"})) == "App"


def test_the_example_name_is_replaced_in_title_and_heading_only() -> None:
    page = named(EXAMPLE_PAGE, "Bugs & Fixes")
    assert "<title>Bugs &amp; Fixes</title>" in page
    assert "<h1>Bugs &amp; Fixes</h1>" in page
    assert 'fetch("/notes")' in page  # the rest of the page is the model's business


def test_a_name_the_model_chose_itself_is_kept() -> None:
    page = EXAMPLE_PAGE.replace("<h1>Notes</h1>", '<h1 class="big">My todos</h1>')
    assert '<h1 class="big">My todos</h1>' in named(page, "Todos")
    assert named(EXAMPLE_PAGE, "notes") == EXAMPLE_PAGE
