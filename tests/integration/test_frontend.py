"""FrontendGPT and DesignerGPT with scripted models, checked in real headless Chromium in
front of a real sandboxed server."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from fakes.llm_server import FakeLLMServer, openai_image, tiny_png
from test_build import DESIGN, GOOD, IDEA

from autogpt.agents.base import Agent
from autogpt.agents.designer import DesignerGPT
from autogpt.agents.designer_aids import contrast
from autogpt.agents.frontend import EXAMPLE_PAGE, FrontendGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.errors import ConfigError, InvalidInputError
from autogpt.iac.envelope import Command, Result
from autogpt.llm.base import LLM, Message, Options
from autogpt.llm.doubles import FunctionLLM, ScriptedLLM
from autogpt.llm.images import FunctionImages
from autogpt.tools.png import image_stats

if shutil.which("chromium") is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (make setup installs it)", allow_module_level=True)

GOOD_PAGE = "```html\n" + (
    EXAMPLE_PAGE.replace("/notes", "/todos")
    .replace('name="text" placeholder="text"', 'name="title" placeholder="title"')
    .replace("<title>Notes</title>", "<title>Todos</title>").replace("<h1>Notes</h1>", "<h1>Todos</h1>")
) + "```"  # fmt: skip
# Loads the list from a path the contract does not have, and logs an error.
BROKEN_PAGE = GOOD_PAGE.replace('fetch("/todos");', 'fetch("/todo-list"); console.error("list failed");', 1)
SPEC = {
    "name": "Todos",
    "mood": "bright and tidy",
    "palette": {"background": "#fdfcf7", "surface": "#ffffff", "primary": "#1864ab", "text": "#212529",
                "accent": "#e8590c"},
    "font": "Georgia, serif",
    "sections": [{"name": "header", "height": 80, "note": "the title"},
                 {"name": "list", "height": 200, "note": "todos, newest first"}],
}  # fmt: skip


async def ask(
    tmp_path: Path, agent: type[Agent], llm: LLM, command: Command, browser: str = "", **more: object
) -> Result:
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", browser=browser, **more)
    team = Standalone(settings, agent, llm)
    await team.start()
    try:
        return await team.ask(command)
    finally:
        await team.stop()


def with_backend(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "app").mkdir(parents=True)
    (ws / "app" / "main.py").write_text(GOOD.removeprefix("```python\n").removesuffix("```"))
    (ws / "contract.json").write_text(json.dumps({"name": "todo-api", "routes": DESIGN["routes"]}))
    return ws


async def test_the_page_is_checked_in_chromium_against_the_running_server(tmp_path: Path) -> None:
    ws = with_backend(tmp_path)
    result = await ask(tmp_path, FrontendGPT, ScriptedLLM([GOOD_PAGE]), Command("create", "", "python"))
    assert result.ok, result.output
    check = json.loads((ws / "page-check.json").read_text())
    assert check["ok"]
    assert check["fix_rounds"] == 0
    assert check["title"] == "Todos"
    assert check["missing"] == []
    assert check["console_errors"] == []
    # loaded the list, created the example through the form, and reloaded the list
    assert check["api_calls"] == ["GET /todos -> 200", "POST /todos -> 201", "GET /todos -> 200"]
    stats = image_stats((ws / "frontend" / "screenshot.png").read_bytes())
    assert (stats.width, stats.height, stats.blank) == (1024, 768, False)
    assert any(a.kind == "screenshot" for a in result.artifacts)


async def test_a_page_that_keeps_the_example_name_is_given_the_app_name(tmp_path: Path) -> None:
    ws = with_backend(tmp_path)
    copied = GOOD_PAGE.replace(">Todos</", ">Notes</")  # the example's <title> and <h1>
    result = await ask(tmp_path, FrontendGPT, ScriptedLLM([copied]), Command("create", "", "python"))
    assert result.ok, result.output
    assert json.loads((ws / "page-check.json").read_text())["title"] == "Todo"  # from the contract's name, todo-api
    page = (ws / "frontend" / "index.html").read_text()
    assert "<h1>Todo</h1>" in page
    assert "Notes" not in page


async def test_the_page_works_in_front_of_an_express_server_too(tmp_path: Path) -> None:
    from test_build import EXPRESS

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "server.js").write_text(EXPRESS.removeprefix("```javascript\n").removesuffix("```"))
    (ws / "contract.json").write_text(json.dumps({"name": "todo-api", "routes": DESIGN["routes"]}))
    result = await ask(tmp_path, FrontendGPT, ScriptedLLM([GOOD_PAGE]), Command("create", ""))  # language: detected
    assert result.ok, result.output
    check = json.loads((ws / "page-check.json").read_text())
    assert check["api_calls"] == ["GET /todos -> 200", "POST /todos -> 201", "GET /todos -> 200"]
    assert (ws / "site.js").exists()
    assert "PORT=3000 node site.js" in result.data["run"]


async def test_a_page_with_console_errors_and_a_wrong_path_is_fixed(tmp_path: Path) -> None:
    ws = with_backend(tmp_path)
    llm = ScriptedLLM([BROKEN_PAGE, GOOD_PAGE])
    result = await ask(tmp_path, FrontendGPT, llm, Command("create", "", "python"))
    assert result.ok, result.output
    check = json.loads((ws / "page-check.json").read_text())
    assert check["fix_rounds"] == 1
    fix_prompt = llm.calls[1].prompt
    assert "calls outside the contract: GET /todo-list" in fix_prompt
    assert "console.error: list failed" in fix_prompt


async def test_a_page_that_never_works_is_reported_honestly(tmp_path: Path) -> None:
    ws = with_backend(tmp_path)
    blank = "```html\n<!doctype html><html><body><script>throw new Error('nope')</script></body></html>\n```"
    result = await ask(tmp_path, FrontendGPT, ScriptedLLM([blank] * 8), Command("create", "", "python"))
    assert not result.ok
    check = json.loads((ws / "page-check.json").read_text())
    assert check["fix_rounds"] == 3
    assert any("missing elements: h1, #items, form#create" in p for p in check["problems"])
    assert any("Error: nope" in e for e in check["console_errors"])
    assert check["blank"] is True
    assert "NOT working" in result.output


async def test_requests_off_the_page_origin_are_blocked_and_reported(tmp_path: Path) -> None:
    ws = with_backend(tmp_path)
    external = GOOD_PAGE.replace("<script>", '<script src="https://cdn.example.com/lib.js"></script>\n<script>', 1)
    result = await ask(tmp_path, FrontendGPT, ScriptedLLM([external] * 8), Command("create", "", "python"))
    assert not result.ok
    check = json.loads((ws / "page-check.json").read_text())
    assert any("https://cdn.example.com/lib.js" in p and "blocked" in p for p in check["problems"])


async def test_the_frontend_needs_the_backend_first(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "contract.json").write_text(json.dumps({"name": "todo-api", "routes": DESIGN["routes"]}))
    with pytest.raises(InvalidInputError, match=r"needs the backend's app/main.py"):
        await ask(tmp_path, FrontendGPT, ScriptedLLM([]), Command("create", "", "python"))


async def test_without_a_browser_the_frontend_refuses_before_asking_the_model(tmp_path: Path) -> None:
    with_backend(tmp_path)
    llm = ScriptedLLM([GOOD_PAGE])
    with pytest.raises(ConfigError, match="browser '/nonexistent/chromium' not found"):
        await ask(tmp_path, FrontendGPT, llm, Command("create", "", "python"), browser="/nonexistent/chromium")
    assert llm.calls == []


async def test_the_designer_writes_a_spec_and_renders_the_wireframe(tmp_path: Path) -> None:
    result = await ask(tmp_path, DesignerGPT, ScriptedLLM([json.dumps(SPEC)]), Command("create", "a todo app"))
    assert result.ok, result.output
    ws = tmp_path / "ws"
    doc = (ws / "DESIGN.md").read_text()
    assert "`#1864ab`" in doc
    assert "Georgia, serif" in doc
    assert "**list** (200px)" in doc
    svg = (ws / "design" / "wireframe.svg").read_text()
    assert svg.count("<rect") == 1 + 2 + 5  # background, sections, swatches
    stats = image_stats((ws / "design" / "wireframe.png").read_bytes())
    assert stats.width == 800
    assert stats.height == 24 + 80 + 24 + 200 + 24 + 28 + 24
    assert not stats.blank
    assert stats.colors > 5
    assert json.loads((ws / "design.json").read_text())["palette"]["primary"] == "#1864ab"


async def test_with_an_image_model_the_designer_also_draws_a_mockup(tmp_path: Path) -> None:
    png = tiny_png(8, 5)
    with FakeLLMServer() as images:
        images.script(openai_image(png))
        result = await ask(
            tmp_path, DesignerGPT, ScriptedLLM([json.dumps(SPEC)]), Command("create", "a todo app"),
            image_model="gpt-image-1", base_url=f"{images.url}/v1",
        )  # fmt: skip
    assert result.ok, result.output
    ws = tmp_path / "ws"
    assert (ws / "design" / "mockup.png").read_bytes() == png
    assert "mockup 8x5 PNG by gpt-image-1 (design/mockup.png)" in result.output
    assert result.data["mockup"].startswith("mockup 8x5")
    assert "design/mockup.png" in [a.path for a in result.artifacts if a.kind == "image"]
    assert "Mockup, drawn by an image model from this spec: `design/mockup.png`." in (ws / "DESIGN.md").read_text()
    prompt = images.requests[0].body["prompt"]
    assert "'Todos', for a todo app" in prompt
    assert "heading and buttons #1864ab" in prompt
    assert "list (todos, newest first)" in prompt


async def test_a_failing_image_model_leaves_the_design_standing(tmp_path: Path) -> None:
    class Sketchy(DesignerGPT):
        image_model_for = staticmethod(lambda settings: FunctionImages(lambda prompt, size: b"<svg/>", "sketchy"))

    result = await ask(tmp_path, Sketchy, ScriptedLLM([json.dumps(SPEC)]), Command("create", "a todo app"))
    assert result.ok, result.output
    assert "no mockup: sketchy sent an image that is not a PNG" in result.output
    ws = tmp_path / "ws"
    assert not (ws / "design" / "mockup.png").exists()
    assert "Mockup" not in (ws / "DESIGN.md").read_text()
    assert not image_stats((ws / "design" / "wireframe.png").read_bytes()).blank


async def test_an_illegible_palette_is_refused_then_replaced(tmp_path: Path) -> None:
    grey = {**SPEC, "palette": {**SPEC["palette"], "text": "#eeeeee"}}  # type: ignore[dict-item]
    llm = ScriptedLLM([json.dumps(grey), json.dumps(grey)])
    result = await ask(tmp_path, DesignerGPT, llm, Command("create", "a todo app"))
    assert result.ok
    assert "contrast" in llm.calls[1].prompt  # the model was shown the problem once
    assert "used a safe one" in result.output
    palette = json.loads((tmp_path / "ws" / "design.json").read_text())["palette"]
    assert contrast(palette["text"], palette["background"]) >= 4.5


FULL_IDEA = IDEA.replace("a todo API", "a todo app with a web page", 1)
FULL_PLAN = {
    "goal": "todos",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design the API", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build the server", "depends_on": ["t1"]},
        {"id": "t3", "role": "designer", "description": "choose the look", "depends_on": []},
        {"id": "t4", "role": "frontend", "description": "write the page", "depends_on": ["t2", "t3"]},
    ],
}


def full_team_llm(plans: list[dict[str, object]]) -> FunctionLLM:
    """Each agent gets the answer for its own role, whatever order the tasks run in."""
    answers = {
        "ArchitectGPT": json.dumps(DESIGN),
        "BackendGPT": GOOD,
        "DesignerGPT": json.dumps(SPEC),
        "FrontendGPT": GOOD_PAGE,
    }

    def answer(messages: Sequence[Message], options: Options) -> str:
        persona = messages[0].content
        if persona.startswith("You are ManagerGPT"):
            return json.dumps(plans.pop(0))
        return next(reply for name, reply in answers.items() if persona.startswith(f"You are {name}"))

    return FunctionLLM(answer)


async def test_the_whole_team_builds_a_full_stack_project_with_history(tmp_path: Path) -> None:
    from test_build import build, git_history

    from autogpt.agents.architect import ArchitectGPT
    from autogpt.agents.backend import BackendGPT
    from autogpt.agents.git import GitGPT

    # the first plan puts the page before the backend: it is sent back once
    wrong = {**FULL_PLAN, "tasks": [*FULL_PLAN["tasks"][:3], {**FULL_PLAN["tasks"][3], "depends_on": ["t3"]}]}  # type: ignore[index]
    llm = full_team_llm([wrong, FULL_PLAN])
    helpers = (ArchitectGPT, BackendGPT, DesignerGPT, FrontendGPT, GitGPT)
    result, seen = await build(tmp_path, llm, idea=FULL_IDEA, helpers=helpers)
    assert result.ok, result.output
    assert any("t4 (frontend) must depend on the backend task" in line for line in seen)
    ws = tmp_path / "ws"
    report = (ws / "REPORT.md").read_text()
    assert "Server verified: **yes**" in report
    assert "Page works against the API: **yes** after 0 fix round(s)." in report
    assert "Screenshot: `frontend/screenshot.png`." in report
    assert result.data["page_check"]["ok"] is True
    assert not image_stats((ws / "frontend" / "screenshot.png").read_bytes()).blank
    # the page was asked to wear the designer's palette
    page_prompt = next(c.prompt for c in llm.calls if c.messages[0].content.startswith("You are FrontendGPT"))
    assert "--primary: #1864ab;" in page_prompt
    assert "--font: Georgia, serif;" in page_prompt
    assert 'The app is called "Todos"' in page_prompt  # the designer's name for it
    log = git_history(ws)
    authors = [line.split("|")[0] for line in log.splitlines() if "|" in line]
    assert sorted(authors) == ["ArchitectGPT", "BackendGPT", "DesignerGPT", "FrontendGPT"]
    assert result.output.startswith("**Verdict: PASSED")
    assert authors[0] == "FrontendGPT"  # newest first: the page came last
    assert "frontend/index.html" in log
    assert "design/wireframe.png" in log
    assert ".venv" not in log
    assert "node_modules" not in log


async def test_a_design_that_copies_the_example_is_sent_back_once(tmp_path: Path) -> None:
    from autogpt.agents.designer_aids import EXAMPLE

    copy = EXAMPLE.model_dump_json()
    llm = ScriptedLLM([copy, copy])
    result = await ask(tmp_path, DesignerGPT, llm, Command("create", "a todo app"))
    assert "that is the notes example; design the sections for: a todo app" in llm.calls[1].prompt
    assert "the model repeated the example; used the standard page layout" in result.output
    spec = json.loads((tmp_path / "ws" / "design.json").read_text())
    assert spec["name"] == "Todo App"
    assert "notes" not in json.dumps(spec["sections"])


async def test_the_build_result_carries_what_every_agent_spent(tmp_path: Path) -> None:
    from autogpt.agents.architect import ArchitectGPT
    from autogpt.agents.backend import BackendGPT
    from autogpt.agents.manager import ManagerGPT

    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    helpers = (ArchitectGPT, BackendGPT, DesignerGPT, FrontendGPT)
    team = Standalone(settings, ManagerGPT, full_team_llm([FULL_PLAN]), helpers=helpers)
    await team.start()
    try:
        result = await team.ask(Command("create", FULL_IDEA, "python"))
    finally:
        await team.stop()
    assert result.ok, result.output
    spent = team.meter.by_agent()
    assert set(spent) == {"ManagerGPT", "BackendGPT", "DesignerGPT", "FrontendGPT"}  # the routes needed no model
    total = team.meter.total  # every agent's calls, as the shared meter saw them
    assert (result.prompt_tokens, result.completion_tokens) == (total.prompt_tokens, total.completion_tokens)
    assert result.data["tokens"] == total.total_tokens > 0
