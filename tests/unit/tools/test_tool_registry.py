"""The Tool interface and its registry: unknown tools, bad arguments, refused capabilities."""

from __future__ import annotations

from pathlib import Path

import pytest

from autogpt.errors import ErrorCode, InvalidInputError, PermissionDeniedError
from autogpt.tools.builtin_tools import builtin_tools
from autogpt.tools.registry import CapabilityDeniedError, Registry, UnknownToolError
from autogpt.tools.tool import ToolContext
from autogpt.tools.workspace import Workspace

ALL = {"fs.read", "fs.write", "exec.run", "git.commit", "net.http"}


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(Workspace(tmp_path / "ws").ensure(), agent="TestGPT", data_dir=tmp_path / "data")


async def test_files_are_written_patched_listed_and_searched(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    assert (await tools.call("write_file", {"path": "app/main.py", "content": "a = 1\nb = 2\n"}, ctx)).ok
    await tools.call("append_file", {"path": "app/main.py", "content": "c = 3\n"}, ctx)
    patches = [{"old": "a = 1", "new": "a = 10"}, {"old": "b = 2", "new": "b = 20"}]
    assert (await tools.call("patch_file", {"path": "app/main.py", "patches": patches}, ctx)).ok
    assert (await tools.call("read_file", {"path": "app/main.py"}, ctx)).text == "a = 10\nb = 20\nc = 3\n"
    assert (await tools.call("list_files", {}, ctx)).text == "app/main.py"
    assert (await tools.call("glob", {"pattern": "**/*.py"}, ctx)).text == "app/main.py"
    assert (await tools.call("search", {"pattern": "b = 2"}, ctx)).text == "app/main.py:2: b = 20"


async def test_a_patch_that_does_not_apply_changes_nothing(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("x.txt", "one two two")
    patches = [{"old": "one", "new": "1"}, {"old": "two", "new": "2"}]
    out = await tools.call("patch_file", {"path": "x.txt", "patches": patches}, ctx)
    assert not out.ok
    assert "occurs 2 times" in out.text
    assert "Nothing was changed" in out.text
    assert ctx.workspace.read_text("x.txt") == "one two two"


@pytest.mark.parametrize(
    ("tool", "args", "capability"),
    [
        ("write_file", {"path": "a.txt", "content": "x"}, "fs.write"),
        ("patch_file", {"path": "a.txt", "patches": [{"old": "x", "new": "y"}]}, "fs.write"),
        ("run_command", {"command": "touch ran"}, "exec.run"),
        ("commit", {"message": "m"}, "git.commit"),
        ("fetch_url", {"url": "http://127.0.0.1:9/"}, "net.http"),
    ],
)
async def test_each_capability_is_refused_when_not_granted(
    ctx: ToolContext, tool: str, args: dict[str, object], capability: str
) -> None:
    tools = Registry(builtin_tools(), granted=ALL - {capability})
    with pytest.raises(CapabilityDeniedError) as caught:
        await tools.call(tool, args, ctx)
    assert caught.value.code == ErrorCode.PERMISSION_DENIED
    assert isinstance(caught.value, PermissionDeniedError)
    assert capability in str(caught.value)
    assert ctx.workspace.files() == []  # nothing happened
    assert tool not in {t.name for t in tools.usable()}  # nor was it offered


async def test_refusals_become_evidence_with_attempt(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted={"fs.read", "fs.write"})
    unknown = await tools.attempt("rm_rf", {}, ctx)
    assert not unknown.ok
    assert "no tool 'rm_rf'" in unknown.text
    assert "read_file" in unknown.text
    bad = await tools.attempt("write_file", {"path": "a.txt"}, ctx)
    assert not bad.ok
    assert "content: Field required" in bad.text
    outside = await tools.attempt("write_file", {"path": "../escape.txt", "content": "x"}, ctx)
    assert not outside.ok
    assert outside.data["code"] == "PATH_OUTSIDE_WORKSPACE"
    absolute = await tools.attempt("read_file", {"path": "/etc/passwd"}, ctx)
    assert not absolute.ok
    assert "absolute paths are not allowed" in absolute.text
    # a model writing "/app/main.py" for the project's own file is told what it most likely meant
    meant = await tools.attempt("write_file", {"path": "/app/main.py", "content": "x = 1\n"}, ctx)
    assert meant.text.endswith("paths are relative to the workspace root: did you mean 'app/main.py'?")
    assert not ctx.workspace.exists("app/main.py")
    denied = await tools.attempt("run_command", {"command": "true"}, ctx)
    assert denied.data["code"] == "PERMISSION_DENIED"
    assert not (ctx.workspace.root.parent / "escape.txt").exists()


async def test_unknown_and_badly_typed_calls_raise_usage_errors(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    with pytest.raises(UnknownToolError):
        await tools.call("nope", {}, ctx)
    with pytest.raises(InvalidInputError, match="must be a JSON object"):
        await tools.call("read_file", ["a.txt"], ctx)  # type: ignore[arg-type]


async def test_a_command_runs_in_the_sandbox_and_a_hang_times_out(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ran = await tools.call("run_command", {"command": "echo hi > out.txt && cat out.txt"}, ctx)
    assert ran.ok
    assert "hi" in ran.text
    ctx.command_seconds = 1
    hung = await tools.call("run_command", {"command": "sleep 60"}, ctx)
    assert not hung.ok
    assert "timed out after 1s" in hung.text


async def test_commit_records_the_workspace(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("README.md", "hello\n")
    out = await tools.call("commit", {"message": "first"}, ctx)
    assert out.ok
    assert "README.md" in out.text
    assert (await tools.call("commit", {"message": "again"}, ctx)).text == "nothing to commit"


async def test_a_patch_whose_old_text_is_misremembered_is_shown_the_files_own(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    source = 'app = FastAPI()\n\n\n@app.get("/notes")\ndef list_notes() -> list[dict]:\n    return notes\n'
    ctx.workspace.write_text("app/main.py", source)
    wrong = "@app.get('/notes')\ndef list_notes():\n    return notes"  # quotes and signature remembered wrong
    out = await tools.call("patch_file", {"path": "app/main.py", "patches": [{"old": wrong, "new": "x"}]}, ctx)
    assert not out.ok
    assert (
        'The closest text in the file is:\n@app.get("/notes")\ndef list_notes() -> list[dict]:\n    return notes\n'
        in (out.text)
    )
    assert ctx.workspace.read_text("app/main.py") == source
    unlike = await tools.call("patch_file", {"path": "app/main.py", "patches": [{"old": "zzz qqq", "new": "x"}]}, ctx)
    assert "closest" not in unlike.text  # nothing alike: no guess


ROUTES = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/notes")\ndef notes():\n    return []'


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("append_file", {"path": "app/main.py", "content": "'/health':\n    return {'status': 'ok'}\n"}),
        ("write_file", {"path": "app/main.py", "content": "def health(:\n"}),
        ("patch_file", {"path": "app/main.py", "patches": [{"old": "def notes():", "new": "def notes(:"}]}),
    ],
)
async def test_an_edit_that_breaks_a_python_file_is_refused_whole_with_its_line(
    ctx: ToolContext, tool: str, args: dict[str, object]
) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("app/main.py", ROUTES)
    out = await tools.call(tool, args, ctx)
    assert not out.ok
    assert out.text.startswith("app/main.py would not parse as Python (line ")
    assert "Nothing was written" in out.text
    assert ctx.workspace.read_text("app/main.py") == ROUTES


async def test_a_file_that_did_not_parse_may_still_be_edited_and_json_is_checked_too(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("broken.py", "def f(:\n")
    assert (await tools.call("append_file", {"path": "broken.py", "content": "x = (\n"}, ctx)).ok  # no worse
    bad = await tools.call("write_file", {"path": "package.json", "content": '{"name": "x",}'}, ctx)
    assert bad.text.startswith("package.json would not parse as JSON")
    assert not ctx.workspace.exists("package.json")
    assert (await tools.call("write_file", {"path": "notes.txt", "content": "def f(:"}, ctx)).ok  # not code


async def test_appended_code_starts_on_a_line_of_its_own(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("app/main.py", ROUTES)  # no final newline
    route = '@app.get("/health")\ndef health():\n    return {"status": "ok"}\n'
    assert (await tools.call("append_file", {"path": "app/main.py", "content": route}, ctx)).ok
    assert ctx.workspace.read_text("app/main.py") == ROUTES + "\n\n\n" + route
    ctx.workspace.write_text("notes.txt", "one")
    await tools.call("append_file", {"path": "notes.txt", "content": "two\n"}, ctx)
    assert ctx.workspace.read_text("notes.txt") == "one\ntwo\n"


async def test_appended_code_that_assigns_the_files_names_again_is_refused(ctx: ToolContext) -> None:
    """A small model appended a whole module header: a second ``app = FastAPI()`` drops every
    route above it, and the project's own tests fail with 404. A header the file already has,
    word for word, is left out (and said); a name assigned anew is refused."""
    tools = Registry(builtin_tools(), granted=ALL)
    source = ROUTES.replace("app = FastAPI()", "app = FastAPI()\nnotes: list[str] = []") + "\n"
    ctx.workspace.write_text("app/main.py", source)
    route = "@app.get('/health')\ndef health():\n    return {}\n"
    header = "from fastapi import FastAPI\napp = FastAPI()\nnotes: list[str] = []\n\n\n"
    out = await tools.call("append_file", {"path": "app/main.py", "content": header + route}, ctx)
    assert out.ok
    assert out.text.endswith(
        "left out 3 line(s) the file already has: from fastapi import FastAPI; app = FastAPI(); notes: list[str] = []"
    )
    assert ctx.workspace.read_text("app/main.py") == source + "\n\n" + route
    anew = "app = FastAPI(title='health')\nnotes = {}\n\n\n" + route.replace("health", "ready")
    refused = await tools.call("append_file", {"path": "app/main.py", "content": anew}, ctx)
    assert not refused.ok
    assert refused.text.startswith("the appended code defines app, notes again, which app/main.py already has")
    assert ctx.workspace.read_text("app/main.py") == source + "\n\n" + route


async def test_a_function_appended_again_is_left_out_and_another_of_its_name_refused(ctx: ToolContext) -> None:
    """The embedded model appended the same /health route three times."""
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("app/main.py", ROUTES)
    route = "@app.get('/health')\ndef health():\n    return {'status': 'ok'}\n"
    assert (await tools.call("append_file", {"path": "app/main.py", "content": route}, ctx)).ok
    once = ctx.workspace.read_text("app/main.py")
    again = await tools.call("append_file", {"path": "app/main.py", "content": route}, ctx)
    assert again.ok
    assert again.text == "nothing appended: app/main.py already has all of it (@app.get('/health'))"
    other = await tools.call("append_file", {"path": "app/main.py", "content": route.replace("'ok'", "'up'")}, ctx)
    assert not other.ok
    assert other.text.startswith("the appended code defines health again, which app/main.py already has")
    assert ctx.workspace.read_text("app/main.py") == once


async def test_code_sent_in_a_markdown_fence_is_the_code_inside_it(ctx: ToolContext) -> None:
    tools = Registry(builtin_tools(), granted=ALL)
    fenced = "```python\nx = 1\n```"
    assert (await tools.call("write_file", {"path": "a.py", "content": fenced}, ctx)).ok
    assert ctx.workspace.read_text("a.py") == "x = 1\n"
    assert (await tools.call("append_file", {"path": "a.py", "content": "```\ny = 2\n```\n"}, ctx)).ok
    assert ctx.workspace.read_text("a.py") == "x = 1\ny = 2\n"
    assert (await tools.call("write_file", {"path": "notes.md", "content": fenced}, ctx)).ok
    assert ctx.workspace.read_text("notes.md") == fenced  # markdown keeps its fences


async def test_a_whole_file_write_that_would_remove_its_definitions_is_refused(ctx: ToolContext) -> None:
    """A small model "wrote" its new route as the whole of app/main.py, removing the app and
    every route the project had."""
    tools = Registry(builtin_tools(), granted=ALL)
    ctx.workspace.write_text("app/main.py", ROUTES)
    route = "@app.get('/health')\ndef health():\n    return {}\n"
    out = await tools.call("write_file", {"path": "app/main.py", "content": route}, ctx)
    assert not out.ok
    assert out.text.startswith("write_file replaces the whole of app/main.py, and this would remove notes, app.")
    assert ctx.workspace.read_text("app/main.py") == ROUTES
    whole = ROUTES + "\n\n\n" + route  # the whole file, with what it keeps: written
    assert (await tools.call("write_file", {"path": "app/main.py", "content": whole}, ctx)).ok
    assert ctx.workspace.read_text("app/main.py") == whole
