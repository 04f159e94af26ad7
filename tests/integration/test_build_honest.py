"""The false-success guard, end to end: a build whose server does something other than what
the idea's examples ask ends FAILED, with the example that failed and what came back; one
whose server does what they ask PASSES. Scripted models, a real server in the Sandbox, and
the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakes.servers import TODOS_SERVER, fenced

from autogpt.agents.architect import ArchitectGPT
from autogpt.agents.backend import BackendGPT
from autogpt.agents.base import Context
from autogpt.agents.manager import ManagerGPT
from autogpt.cli.runtime import Standalone
from autogpt.config import load_settings
from autogpt.iac.envelope import Command, Result, Task
from autogpt.llm.base import Message, Options
from autogpt.llm.doubles import FunctionLLM

PLAN = {
    "goal": "an API",
    "tasks": [
        {"id": "t1", "role": "architect", "description": "design", "depends_on": []},
        {"id": "t2", "role": "backend", "description": "build", "depends_on": ["t1"]},
    ],
}

CONVERT = 'a temperature API: GET /convert?celsius=100 returns {"fahrenheit": 212}'
CONVERT_RULE = CONVERT + "; GET /convert?celsius=abc is rejected with 400."
SHORTENER = (
    'a link shortener API: POST /links with {"url": "https://example.org"} returns {"code": "abc"}; '
    "GET /r/abc redirects to https://example.org"
)
# The todo idea of test_build, its examples stated; the scripted model's TODOS passes them.
TODO_IDEA = (
    'a todo API: POST /todos with {"title": "milk"} returns 201 and {"title": "milk"}; '
    'GET /todos returns [{"title": "milk"}]; GET /todos/1 returns {"id": 1, "title": "milk"}'
)


TODOS = fenced(TODOS_SERVER)
STRICT_CONVERTER = fenced("""from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/convert")
def convert(celsius: str):
    try:
        value = float(celsius)
    except ValueError:
        raise HTTPException(status_code=400, detail="celsius must be a number")
    return {"fahrenheit": value * 9 / 5 + 32}
""")
# Right for numbers, but it never refuses anything: "abc" becomes 0 degrees.
LENIENT_CONVERTER = STRICT_CONVERTER.replace(
    'raise HTTPException(status_code=400, detail="celsius must be a number")', "value = 0.0"
)
SHORTENER_CODE = fenced("""from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse

app = FastAPI()
links = {}


@app.post("/links", status_code=201)
def create(body: dict):
    code = "abc" if not links else f"c{len(links)}"
    links[code] = body["url"]
    return {"code": code, "url": body["url"]}


@app.get("/r/{code}")
def follow(code: str):
    if code not in links:
        raise HTTPException(404)
    return RedirectResponse(links[code], status_code=302)
""")
# Keeps the links, but answers a visit with JSON instead of sending the visitor on.
SHORTENER_NO_REDIRECT = SHORTENER_CODE.replace(
    "return RedirectResponse(links[code], status_code=302)", 'return {"url": links[code]}'
)


class Coder:
    """A scripted team model: the plan when asked to plan, ``code`` whenever asked for the server."""

    def __init__(self, code: str, rule_reply: str = "") -> None:
        self.code = code
        self.rule_reply = rule_reply
        self.code_prompts: list[str] = []
        self.rule_prompts: list[str] = []
        self.llm = FunctionLLM(self.answer)

    def answer(self, messages: Sequence[Message], options: Options) -> str:
        prompt = messages[-1].content
        if "Team roles" in prompt:
            return json.dumps(PLAN)
        if any("It also has this rule" in m.content for m in messages):
            self.rule_prompts.append(prompt)
            return self.rule_reply
        if any(m.content.startswith("Write the acceptance examples") for m in messages):
            return "no examples come to mind"  # unusable, and again: the stated examples stand alone
        if "Reply with the whole file" in prompt or "Return the complete corrected file" in prompt:
            self.code_prompts.append(prompt)
            return self.code
        raise AssertionError(f"unexpected prompt: {prompt[:120]}")


async def build(tmp_path: Path, coder: Coder, idea: str, backend: type[BackendGPT] = BackendGPT, **args: Any) -> Result:
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache")
    team = Standalone(settings, ManagerGPT, coder.llm, helpers=(ArchitectGPT, backend))
    await team.start()
    try:
        return await team.ask(Command("create", idea, "python", args))
    finally:
        await team.stop()


async def standard_build(tmp_path: Path, llm: FunctionLLM, idea: str) -> Result:
    """A build on the standard plan: the model is asked only what the tasks ask."""
    settings = load_settings(workspace=tmp_path / "ws", cache_dir=tmp_path / "cache", planner="standard")
    team = Standalone(settings, ManagerGPT, llm, helpers=(ArchitectGPT, BackendGPT))
    await team.start()
    try:
        return await team.ask(Command("create", idea, "python", {}))
    finally:
        await team.stop()


def deriving(drafts: dict[str, Any], code: str, asked: list[str]) -> FunctionLLM:
    """A model that answers the examples prompt with ``drafts`` (keeping each prompt in ``asked``)
    and every other prompt with ``code``."""

    def answer(messages: Sequence[Message], options: Options) -> str:
        if messages[1].content.startswith("Write the acceptance examples"):
            asked.append(messages[-1].content)
            return json.dumps(drafts)
        return code

    return FunctionLLM(answer)


def report_rows(report: str) -> list[str]:
    """The acceptance table's rows in REPORT.md."""
    return [line for line in report.splitlines() if line.startswith("| ") and line[2].isdigit()]


FRUITS = (
    "an API over a built-in list of fruits (apple, apricot, banana, cherry, grape): "
    'GET /fruits?q=ap returns ["apple", "apricot", "grape"], the fruits whose name contains q'
)
# passes its one example by returning that example's answer, whatever q is
FRUITS_BY_HEART = fenced("""from fastapi import FastAPI

app = FastAPI()


@app.get("/fruits")
def fruits(q: str):
    return [f for f in ["apple", "apricot", "grape"] if q in f]
""")

# answers its examples from a table keyed by their inputs, and refuses every other input
CONVERT_BY_HEART = fenced("""from fastapi import FastAPI, HTTPException

app = FastAPI()
answers = {100.0: 212, 0.0: 32}


@app.get("/convert")
def convert(celsius: float):
    if celsius not in answers:
        raise HTTPException(status_code=400, detail="unknown value")
    return {"fahrenheit": answers[celsius]}
""")

LEAP = 'a leap year API under the Gregorian rules: GET /leap/2024 answers {"leap": true}'
# a bare True is too common a value to count as written into the code; the answer never moves
LEAP_ALWAYS = fenced("""from fastapi import FastAPI

app = FastAPI()


@app.get("/leap/{year}")
def leap(year: int):
    return {"leap": True}
""")


# --- a server that does something else fails, and says how ---------------------------------------


@pytest.mark.parametrize(
    ("idea", "code", "headline", "row"),
    [
        pytest.param(
            CONVERT,
            TODOS,
            "FAILED: 1 of 1 acceptance examples failed",
            '| 1 | `/convert?celsius=100` | 2xx with {"fahrenheit": 212} | 404 | **no** | '
            'status 404, expected a 2xx status; body is {"detail":"Not Found"}, expected it to include',
            id="a todo server for a converter idea",
        ),
        pytest.param(
            CONVERT_RULE,
            LENIENT_CONVERTER,
            "FAILED: 1 of 2 acceptance examples failed",
            "| 2 | `/convert?celsius=abc` | 400 | 200 | **no** | status 200, expected 400 |",
            id="a converter that never refuses",
        ),
        pytest.param(
            SHORTENER,
            SHORTENER_NO_REDIRECT,
            "FAILED: 1 of 2 acceptance examples failed",
            "| 2 | `/r/abc` | 3xx location: https://example.org | 200 | **no** | "
            "status 200, expected a 3xx status; no location header, expected 'https://example.org' |",
            id="a shortener that does not redirect",
        ),
        pytest.param(
            FRUITS,
            FRUITS_BY_HEART,
            "FAILED: 1 of 1 acceptance examples failed",
            '| 1 | `/fruits?q=ap` | 2xx ["apple", "apricot", "grape"] | 200 | **no** | '
            'the code holds this example\'s answer ["apple", "apricot", "grape"] as a constant',
            id="a search that knows its one example by heart",
        ),
        pytest.param(
            CONVERT,
            CONVERT_BY_HEART,
            "FAILED: 1 of 1 acceptance examples failed",
            '| 1 | `/convert?celsius=100` | 2xx with {"fahrenheit": 212} | 200 | **no** | '
            "it answers only the examples' own inputs: /convert?celsius=101 got 400",
            id="a converter that knows its examples' inputs by heart",
        ),
        pytest.param(
            LEAP,
            LEAP_ALWAYS,  # and the Gregorian rules, named beside one example, left unchecked
            "FAILED: the idea states rules that no example checks: 'the Gregorian rules: stated in words, and no "
            "example checks it'; 1 of 1 acceptance examples failed",
            '| 1 | `/leap/2024` | 2xx with {"leap": true} | 200 | **no** | '
            'it gives the same answer {"leap":true} whatever the input: /leap/2025, /leap/2023, /leap/0',
            id="a leap-year server that says yes to every year",
        ),
    ],
)
async def test_a_server_that_does_something_else_is_a_failed_build(
    tmp_path: Path, idea: str, code: str, headline: str, row: str
) -> None:
    coder = Coder(code)
    result = await build(tmp_path, coder, idea)
    ws = tmp_path / "ws"
    report = (ws / "REPORT.md").read_text()

    assert not result.ok
    assert result.data["verified"] is False
    assert result.data["verdict"].startswith(headline)
    assert result.output == report
    assert report.startswith(f"**Verdict: {headline}")
    assert "PASSED" not in report
    assert any(line.startswith(row) for line in report_rows(report)), report_rows(report)
    # never a claim of verification, anywhere
    assert "Server verified: **yes**" not in report
    assert "Server verified: **no**" in report
    assert result.data["tasks"] == {"t1": "done", "t2": "failed"}
    verification = json.loads((ws / "verification.json").read_text())
    assert verification["ok"] is False
    assert [r["ok"] for r in verification["acceptance"]] == [r["ok"] for r in result.data["acceptance"]]
    assert not all(r["ok"] for r in verification["acceptance"])
    # the model was told, in every prompt, what the idea asks
    first = json.loads((ws / "acceptance.json").read_text())["examples"][0]
    assert all(first["said"].split(" returns")[0] in prompt for prompt in coder.code_prompts)
    # and the idea itself, which says what no route does (FRUITS: the built-in list to search)
    assert all(f"The user's idea, in their words: {idea}\n" in prompt for prompt in coder.code_prompts)
    assert len(coder.code_prompts) > 2  # it was given the evidence and more chances, and still failed
    fix = next(p for p in coder.code_prompts if "Return the complete corrected file" in p)
    failing = next(r for r in verification["acceptance"] if not r["ok"])
    assert f"These requests did not get the answer the idea asks for:\n- {failing['example']}" in fix
    assert "; ".join(failing["problems"]) in fix


SIGNUP = (
    'A signup API: POST /signup with {"email": "a@b.co", "password": "secret123"} returns 201 and '
    '{"email": "a@b.co"}. An email the service does not accept is rejected with status 422.'
)
SIGNUP_STRICT = fenced("""from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/signup", status_code=201)
def signup(body: dict):
    if "@" not in str(body.get("email", "")):
        raise HTTPException(status_code=422, detail="email needs an @")
    return {"email": body["email"]}
""")
SIGNUP_LAX = SIGNUP_STRICT.replace('raise HTTPException(status_code=422, detail="email needs an @")', "pass")
# the model's status is ignored: the rule names 422, and that is what the example expects
NO_AT = {"method": "POST", "path": "/signup", "query": {}, "body": {"email": "nobody", "password": "secret123"},
         "status": 200, "response": None}  # fmt: skip


@pytest.mark.parametrize(
    ("code", "rule_reply", "headline"),
    [
        (SIGNUP_STRICT, json.dumps({"examples": [NO_AT]}), "PASSED: the running server answered all 2"),
        (SIGNUP_LAX, json.dumps({"examples": [NO_AT]}), "FAILED: 1 of 2 acceptance examples failed"),
        (SIGNUP_STRICT, "no idea, sorry", "FAILED: the idea states rules that no example checks: 'An email the"),
        # a "refusal" of the very request the idea says succeeds is refused, and the rule stays unchecked
        (
            SIGNUP_STRICT,
            json.dumps({"examples": [{**NO_AT, "body": {"email": "a@b.co", "password": "secret123"}}]}),
            "FAILED: the idea states rules that no example checks",
        ),
    ],
    ids=["checked-and-kept", "checked-and-broken", "no-usable-example", "refusing-the-stated-success"],
)
async def test_a_rule_stated_in_words_is_checked_or_the_build_fails(
    tmp_path: Path, code: str, rule_reply: str, headline: str
) -> None:
    coder = Coder(code, rule_reply)
    result = await build(tmp_path, coder, SIGNUP)
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith(f"**Verdict: {headline}"), report[:300]
    assert result.ok is headline.startswith("PASSED")
    assert "An email the service does not accept is rejected with status 422." in coder.rule_prompts[0]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    if headline.startswith("FAILED: the idea states rules"):
        assert acceptance["unchecked"] == ["An email the service does not accept is rejected with status 422."]
    else:
        assert acceptance["unchecked"] == []
        assert acceptance["examples"][1]["status"] == 422
        assert acceptance["examples"][1]["source"] == "derived"


class BoastingBackend(BackendGPT):
    """A backend peer that claims success with a verification that does not hold together."""

    sent: ClassVar[object] = None

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return Result(ok=True, output="all verified, trust me", data={"verification": self.sent})


@pytest.mark.parametrize(
    ("sent", "where"),
    [
        ({"ok": True, "acceptance": "all of them"}, "acceptance"),
        ({"ok": True, "acceptance": [{"example": "GET /convert", "ok": "certainly"}]}, "acceptance.0.ok"),
        ({"acceptance": []}, "ok"),
        ("verified", "(root)"),
    ],
)
async def test_a_malformed_verification_from_a_peer_is_not_a_pass(tmp_path: Path, sent: object, where: str) -> None:
    BoastingBackend.sent = sent
    result = await build(tmp_path, Coder(STRICT_CONVERTER), CONVERT_RULE, backend=BoastingBackend)
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert not result.ok
    assert result.data["verified"] is False
    assert report.startswith(f"**Verdict: FAILED: the verification that arrived is malformed ({where}:")
    assert "Server verified" not in report


async def test_the_verification_records_whether_the_server_ran_confined(tmp_path: Path) -> None:
    result = await build(tmp_path, Coder(STRICT_CONVERTER), CONVERT_RULE)
    assert result.ok, result.output
    verification = json.loads((tmp_path / "ws/verification.json").read_text())
    assert verification["confined"] is True  # bubblewrap is installed by make setup, here and in CI


# --- a server that does what the examples ask passes ------------------------------------------------


@pytest.mark.parametrize(
    ("idea", "code", "rows"),
    [
        pytest.param(
            CONVERT_RULE,
            STRICT_CONVERTER,
            [
                '| 1 | `/convert?celsius=100` | 2xx with {"fahrenheit": 212} | 200 | yes |  |',
                "| 2 | `/convert?celsius=abc` | 400 | 400 | yes |  |",
            ],
            id="converter",
        ),
        pytest.param(
            SHORTENER,
            SHORTENER_CODE,
            [
                '| 1 | `/links` | 2xx with {"code": "abc"} | 201 | yes |  |',
                "| 2 | `/r/abc` | 3xx location: https://example.org | 302 | yes |  |",
            ],
            id="shortener",
        ),
    ],
)
async def test_a_server_that_does_what_was_asked_passes(tmp_path: Path, idea: str, code: str, rows: list[str]) -> None:
    coder = Coder(code)
    result = await build(tmp_path, coder, idea)
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert result.ok, result.output
    assert result.data["verified"] is True
    assert report.startswith(f"**Verdict: PASSED: the running server answered all {len(rows)} acceptance example(s)")
    assert report_rows(report)[: len(rows)] == rows
    assert "Server verified: **yes** after 0 fix round(s)." in report
    assert len(coder.code_prompts) == 1  # right the first time: no fix round


async def test_the_users_own_examples_are_judged_too(tmp_path: Path) -> None:
    """The converter is right for the idea, but the user also asked for Kelvin."""
    kelvin = {"method": "GET", "path": "/convert", "query": {"celsius": "0", "to": "K"}, "response": {"kelvin": 273.15},
              "match": "subset"}  # fmt: skip
    result = await build(tmp_path, Coder(STRICT_CONVERTER), CONVERT_RULE, acceptance={"examples": [kelvin]})
    assert not result.ok
    report = result.output
    assert report.startswith("**Verdict: FAILED: 1 of 3 acceptance examples failed")
    assert "- 1 example(s) given by the user" in report
    [row] = [r for r in report_rows(report) if r.startswith("| 3 |")]
    assert row.startswith('| 3 | `/convert?celsius=0&to=K` | 2xx with {"kelvin": 273.15} | 200 | **no** |')
    sources = [e["source"] for e in json.loads((tmp_path / "ws/acceptance.json").read_text())["examples"]]
    assert sources == ["idea", "idea", "user"]


# --- the real CLI -----------------------------------------------------------------------------------


def autogpt(tmp_path: Path, args: list[str], replies: list[str]) -> subprocess.CompletedProcess[str]:
    """``autogpt build`` in a subprocess, on the scripted provider, with nothing from our shell."""
    script = tmp_path / "script.json"
    script.write_text(json.dumps(replies))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGPT_", "OPENAI_", "ANTHROPIC_"))}
    env |= {
        "AUTOGPT_SCRIPT": str(script),
        "AUTOGPT_DATA_DIR": str(tmp_path / "data"),
        "AUTOGPT_CACHE_DIR": str(tmp_path / "cache"),
    }
    argv = [sys.executable, "-m", "autogpt", "build", *args, "--provider", "scripted"]
    argv += ["--workspace", str(tmp_path / "ws")]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=110, check=False)


# the plan, then the same server for every draft, fix and fresh draft of both attempts
TODO_SCRIPT = [json.dumps(PLAN), *[TODOS] * 16]


def accept_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "accept.json"
    path.write_text(content)
    return str(path)


def test_cli_build_fails_with_exit_1_when_the_users_example_fails(tmp_path: Path) -> None:
    delete = json.dumps({"examples": [{"method": "DELETE", "path": "/todos/1", "status": 204}]})
    proc = autogpt(tmp_path, [TODO_IDEA, "--api-only", "--accept", accept_file(tmp_path, delete)], TODO_SCRIPT)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stdout.startswith("**Verdict: FAILED: 1 of 4 acceptance examples failed.**")
    rows = report_rows(proc.stdout)
    assert [r.split(" | ")[4] for r in rows[:4]] == ["yes", "yes", "yes", "**no**"]  # the idea's held, the user's not
    assert rows[3] == "| 4 | `/todos/1` | 204 | 405 | **no** | status 405, expected 204 |"
    assert "Server verified: **yes**" not in proc.stdout
    assert (tmp_path / "ws/REPORT.md").read_text().startswith("**Verdict: FAILED")
    assert "Traceback" not in proc.stderr


def test_cli_build_passes_with_exit_0_when_every_example_holds(tmp_path: Path) -> None:
    missing = json.dumps([{"method": "GET", "path": "/todos/99", "status": 404}])
    proc = autogpt(tmp_path, [TODO_IDEA, "--api-only", "--accept", accept_file(tmp_path, missing)], TODO_SCRIPT)
    assert proc.returncode == 0, proc.stdout[:2000] + proc.stderr[-2000:]
    assert proc.stdout.startswith("**Verdict: PASSED: the running server answered all 4 acceptance example(s)")
    progress = [line.split("] ", 1)[1] for line in proc.stderr.splitlines() if re.match(r"\[ *\d+\.\ds\] ", line)]
    assert "plan: t1=architect, t2=backend<-t1" in progress  # not a TTY: the plain lines, as they always were
    assert "[t2 backend running] attempt 1: build" in progress
    assert "[t2 backend running] writing app/main.py" in progress  # the backend's own news, relayed
    designed = next(i for i, line in enumerate(progress) if line.startswith("[t1 architect done] "))
    assert designed < progress.index("[t2 backend running] attempt 1: build")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "error: acceptance examples are malformed: Expecting value"),
        ('[{"method": "FETCH", "path": "/x"}]', "error: acceptance examples are malformed: examples.0.method: Input"),
        (
            '{"examples": [{"method": "GET"}]}',
            "error: acceptance examples are malformed: examples.0.path: Field required",
        ),
        ('[{"method": "GET", "path": "/x", "status": 999}]', "examples.0.status: Input should be less than or equal"),
        (json.dumps([{"method": "GET", "path": f"/n/{i}"} for i in range(25)]), "List should have at most 24 items"),
    ],
)
def test_cli_refuses_a_malformed_accept_file_with_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    proc = autogpt(tmp_path, [CONVERT, "--accept", accept_file(tmp_path, content)], [])
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "ws/REPORT.md").exists()  # refused before any work


def test_cli_refuses_an_accept_file_that_does_not_exist(tmp_path: Path) -> None:
    proc = autogpt(tmp_path, [CONVERT, "--accept", str(tmp_path / "nope.json")], [])
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_cli_refuses_examples_that_are_not_a_list(tmp_path: Path) -> None:
    proc = autogpt(tmp_path, [CONVERT, "--accept", accept_file(tmp_path, '{"examples": null}')], [])
    assert "Traceback" not in proc.stderr
    assert "internal error" not in proc.stderr
    assert "error: acceptance examples are malformed: examples" in proc.stderr
    assert proc.returncode == 2


SHORTENER_404 = (
    'a link shortener API: POST /links with {"url": "https://example.org"} returns 201 and {"code": "<code>"}; '
    "GET /r/<code> redirects with 302 to the saved URL, and unknown codes return 404."
)
# Sends every visitor somewhere, known code or not.
SHORTENER_NEVER_404 = SHORTENER_CODE.replace(
    "        raise HTTPException(404)\n", '        return RedirectResponse("https://example.org", status_code=302)\n'
)


@pytest.mark.parametrize(("code", "ok"), [(SHORTENER_CODE, True), (SHORTENER_NEVER_404, False)])
async def test_a_not_found_rule_is_checked_without_asking_the_model(tmp_path: Path, code: str, ok: bool) -> None:
    coder = Coder(code, rule_reply="the model is not asked")
    result = await build(tmp_path, coder, SHORTENER_404)
    assert coder.rule_prompts == []
    assert result.ok is ok, result.output[:400]
    examples = json.loads((tmp_path / "ws/acceptance.json").read_text())["examples"]
    assert [(e["method"], e["path"], e["status"], e["source"]) for e in examples] == [
        ("POST", "/links", 201, "idea"), ("GET", "/r/{code}", 302, "idea"), ("GET", "/r/doesnotexist", 404, "derived"),
    ]  # fmt: skip
    assert examples[0]["keys"] == ["code"]  # "<code>": any code, not that text
    rows = report_rows((tmp_path / "ws/REPORT.md").read_text())
    # asked with a name the server's author never saw: /r/doesnotexist and a number
    wanted = r"\| 3 \| `/r/doesnotexist\d+` \| 404 \| " + (r"404 \| yes" if ok else r"302 \| \*\*no\*\*")
    assert re.match(wanted, rows[2]), rows


async def test_a_task_that_fails_still_counts_what_it_spent(tmp_path: Path) -> None:
    asked: list[str] = []

    def refuse(messages: Sequence[Message], options: Options) -> str:
        asked.append(messages[-1].content)
        return "I cannot write that server, sorry."  # never code: the backend gives up

    result = await standard_build(tmp_path, FunctionLLM(refuse), CONVERT)
    assert not result.ok
    assert len(asked) >= 2
    assert all("app/main.py" in a or "Python code" in a for a in asked)
    cost = re.search(r"Wall time [\d.]+s; (\d+) tokens \((\d+) prompt \+ (\d+) completion\)", result.output)
    assert cost is not None, result.output[-600:]
    assert int(cost.group(2)) > 0
    assert int(cost.group(3)) > 0


@pytest.mark.parametrize(("code", "ok"), [(SIGNUP_STRICT, True), (SIGNUP_LAX, False)])
async def test_a_rule_whose_words_say_how_to_break_it_is_checked_without_the_model(
    tmp_path: Path, code: str, ok: bool
) -> None:
    idea = SIGNUP.replace("An email the service does not accept", "An email without an @")
    coder = Coder(code, rule_reply="the model is not asked")
    result = await build(tmp_path, coder, idea)
    assert coder.rule_prompts == []
    assert result.ok is ok, result.output[:400]
    derived = json.loads((tmp_path / "ws/acceptance.json").read_text())["examples"][1]
    assert (derived["body"], derived["status"], derived["source"]) == (
        {"email": "ab.co", "password": "secret123"}, 422, "derived",
    )  # fmt: skip


KM = (
    "convert kilometres to miles: GET /km-to-miles with the kilometres in a query parameter named km gives "
    "the miles in a field named miles"
)
KM_SERVER = fenced("""from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/km-to-miles")
def km_to_miles(km: str):
    try:
        return {"miles": round(float(km) * 0.621371, 5)}
    except ValueError:
        raise HTTPException(status_code=400, detail="km must be a number")
""")


async def test_a_request_named_with_nothing_next_to_it_gets_its_examples_from_the_words(tmp_path: Path) -> None:
    derived = {"examples": [{"method": "GET", "path": "/km-to-miles", "query": {"km": "10"}, "body": None,
                             "status": 200, "response": {"miles": 6.21371}}]}  # fmt: skip

    def answer(messages: Sequence[Message], options: Options) -> str:
        prompt = messages[-1].content
        if prompt.startswith("Write the acceptance examples"):
            return json.dumps(derived)
        return KM_SERVER

    result = await standard_build(tmp_path, FunctionLLM(answer), KM)
    assert result.ok, result.output[:600]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    # the bare "GET /km-to-miles" (any 2xx, no km: no correct server answers it so) is replaced
    assert [(e["path"], e["query"], e["source"]) for e in acceptance["examples"]] == [
        ("/km-to-miles", {"km": "10"}, "derived")
    ]
    assert any(n.startswith("the idea names its requests and says their answers in words") for n in acceptance["notes"])


LIKES = 'Every POST /likes adds one like, and GET /likes tells how many likes there are so far as {"likes": n}.'
LIKES_STUCK = fenced("""from fastapi import FastAPI

app = FastAPI()


@app.post("/likes")
def like():
    return {"likes": 1}


@app.get("/likes")
def likes():
    return {"likes": 0}
""")


@pytest.mark.parametrize(
    ("idea", "code", "route"),
    [
        # only the key of GET /likes is stated, its value only in words
        ("LIKES", "LIKES_STUCK", "GET /likes answers (likes)"),
        # POST /hit states its value, GET /count only names it (N)
        ("VISITS", "VISITS_STUCK", "GET /count answers (count)"),
    ],
)
async def test_a_value_said_only_in_words_is_checked_or_the_build_fails(
    tmp_path: Path, idea: str, code: str, route: str
) -> None:
    """A server that never counts answers every stated example; without an example of the value
    said in words, the build is not a success, and says why."""
    coder = Coder(globals()[code])  # and no usable derived examples
    result = await build(tmp_path, coder, globals()[idea])
    assert not result.ok
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith(
        f"**Verdict: FAILED: the idea states rules that no example checks: 'what {route} is said "
        "only in words, and no example checks it'"
    ), report[:300]


LIKES_COUNTING = fenced("""from fastapi import FastAPI

app = FastAPI()
count = 0


@app.post("/likes")
def like():
    global count
    count += 1
    return {"likes": count}


@app.get("/likes")
def likes():
    return {"likes": count}
""")


async def test_a_derived_read_that_contradicts_the_answer_before_it_is_mended(tmp_path: Path) -> None:
    """The model drafts POST /likes -> 1, POST /likes -> 2, then GET /likes -> 3, twice: no
    server answers both of the last two, so the read is made to agree with the answer before it
    (and said), and a server that counts passes."""
    drafts = {"examples": [
        {"method": "POST", "path": "/likes", "query": {}, "body": None, "status": 200, "response": {"likes": 1}},
        {"method": "POST", "path": "/likes", "query": {}, "body": None, "status": 200, "response": {"likes": 2}},
        {"method": "GET", "path": "/likes", "query": {}, "body": None, "status": 200, "response": {"likes": 3}},
    ]}  # fmt: skip
    asked: list[str] = []
    result = await standard_build(tmp_path, deriving(drafts, LIKES_COUNTING, asked), LIKES)
    assert result.ok, result.output[:600]
    assert len(asked) == 2
    assert 'GET /likes straight after POST /likes answered {"likes": 2} must answer likes the same, not 3' in asked[1]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [(e["method"], e["response"]) for e in acceptance["examples"] if e["source"] == "derived"] == [
        ("POST", {"likes": 1}),
        ("POST", {"likes": 2}),
        ("GET", {"likes": 2}),
    ]
    assert any("mended 1 read(s) that contradicted the answer before them" in n for n in acceptance["notes"])


def derives_then_codes(derived: dict[str, Any], server: str) -> FunctionLLM:
    """A model that writes ``derived`` when asked for acceptance examples, and ``server`` otherwise."""

    def answer(messages: Sequence[Message], options: Options) -> str:
        if messages[-1].content.startswith("Write the acceptance examples"):
            return json.dumps(derived)
        return server

    return FunctionLLM(answer)


MONEY = (
    "An API that converts money at fixed rates, 1 EUR = 1.1 USD and 1 GBP = 1.25 USD: "
    'GET /convert?from=EUR&to=USD&amount=10 returns {"result": 11}.'
)
RATES = {"EUR": 1.1, "USD": 1.0, "GBP": 1.25}  # in dollars


def money_server(formula: str) -> str:
    return fenced(f"""from fastapi import FastAPI, Query

app = FastAPI()
RATES = {RATES!r}


@app.get("/convert")
def convert(amount: float, to: str, source: str = Query(alias="from")):
    return {{"result": round({formula}, 4)}}
""")


@pytest.mark.parametrize(
    ("formula", "ok"),
    [
        ("amount * RATES[source] / RATES[to]", True),
        ("amount * RATES[source] * RATES[to]", False),  # right for EUR -> USD only, the one stated example
    ],
)
async def test_a_rate_stated_in_words_is_checked_beside_the_stated_example(
    tmp_path: Path, formula: str, ok: bool
) -> None:
    derived = {"examples": [
        {"method": "GET", "path": "/convert", "query": {"from": "GBP", "to": "USD", "amount": "4"}, "body": None,
         "status": 200, "response": {"result": 5}},
        {"method": "GET", "path": "/convert", "query": {"from": "USD", "to": "GBP", "amount": "5"}, "body": None,
         "status": 200, "response": {"result": 4}},
    ]}  # fmt: skip

    result = await standard_build(tmp_path, derives_then_codes(derived, money_server(formula)), MONEY)
    assert result.ok is ok, result.output[:600]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [e["source"] for e in acceptance["examples"]] == ["idea", "derived", "derived"]
    assert any(
        n.startswith("the idea states in words what no stated example checks (1.1, 1.25)") for n in acceptance["notes"]
    )


async def test_a_rate_stated_in_words_that_no_example_checks_fails_the_build(tmp_path: Path) -> None:
    coder = Coder(money_server("amount * RATES[source] / RATES[to]"))  # and no usable derived examples
    result = await build(tmp_path, coder, MONEY)
    assert not result.ok
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith(
        "**Verdict: FAILED: the idea states rules that no example checks: '1.1, 1.25: stated in words, and no "
        "example checks it'"
    ), report[:300]


def leap_server(rule: str) -> str:
    return fenced(f"""from fastapi import FastAPI

app = FastAPI()


@app.get("/leap/{{year}}")
def leap(year: int):
    return {{"leap": {rule}}}
""")


@pytest.mark.parametrize(
    ("rule", "ok"),
    [
        ("year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)", True),
        ("year % 4 == 0", False),  # right for 2024, the one stated example; wrong for 1900
    ],
)
async def test_a_rule_the_idea_names_is_checked_beyond_its_one_example(tmp_path: Path, rule: str, ok: bool) -> None:
    """A build said PASSED for a server answering {"leap": true} for 1900: it had checked 2024 only."""
    derived = {"examples": [
        {"method": "GET", "path": f"/leap/{year}", "query": {}, "body": None, "status": 200, "response": {"leap": leap}}
        for year, leap in ((2023, False), (1900, False), (2000, True))
    ]}  # fmt: skip

    result = await standard_build(tmp_path, derives_then_codes(derived, leap_server(rule)), LEAP)
    assert result.ok is ok, result.output[:600]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [e["source"] for e in acceptance["examples"]] == ["idea", "derived", "derived", "derived"]
    assert any("(the Gregorian rules)" in n for n in acceptance["notes"])


@pytest.mark.parametrize("learns", [True, False])
async def test_derived_examples_that_repeat_the_stated_one_check_nothing(tmp_path: Path, learns: bool) -> None:
    """The embedded model, asked for examples of the Gregorian rules, wrote GET /leap/2024 six
    times, and the build said PASSED for a server that gets 1900 wrong. Repeats are asked again;
    a model that only repeats leaves the rule unchecked, and the build fails saying so."""
    repeats = {"examples": [
        {"method": "GET", "path": "/leap/2024", "query": {}, "body": None, "status": 200, "response": {"leap": True}}
    ] * 6}  # fmt: skip
    better = {"examples": [
        {"method": "GET", "path": f"/leap/{year}", "query": {}, "body": None, "status": 200, "response": {"leap": leap}}
        for year, leap in ((1900, False), (2000, True))
    ]}  # fmt: skip
    asked: list[str] = []

    def answer(messages: Sequence[Message], options: Options) -> str:
        if messages[-1].content.startswith("Write the acceptance examples") or "repeats one already checked" in (
            messages[-1].content
        ):
            asked.append(messages[-1].content)
            return json.dumps(better if learns and len(asked) > 1 else repeats)
        return leap_server("year % 4 == 0")  # wrong for 1900

    result = await standard_build(tmp_path, FunctionLLM(answer), LEAP)
    assert not result.ok, result.output[:600]
    assert "every request you wrote repeats one already checked (GET /leap/2024)" in asked[1]
    report = (tmp_path / "ws/REPORT.md").read_text()
    if learns:
        assert "/leap/1900" in report
        assert "1 of 3 acceptance examples failed" in report
    else:
        assert report.startswith("**Verdict: FAILED: the idea states rules that no example checks: 'the Gregorian")


async def test_a_named_rule_no_example_checks_fails_the_build(tmp_path: Path) -> None:
    coder = Coder(leap_server("year % 4 == 0"))  # and no usable derived examples
    result = await build(tmp_path, coder, LEAP)
    assert not result.ok
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith("**Verdict: FAILED: the idea states rules that no example checks: 'the Gregorian rules"), (
        report[:300]
    )


ELEMENTS = (
    'Look up chemical elements by symbol: GET /elements/H returns {"name": "Hydrogen", "number": 1}. '
    "It should know the first ten elements."
)
TABLE = {"H": ("Hydrogen", 1), "He": ("Helium", 2), "Li": ("Lithium", 3), "Be": ("Beryllium", 4),
         "B": ("Boron", 5), "C": ("Carbon", 6), "N": ("Nitrogen", 7), "O": ("Oxygen", 8),
         "F": ("Fluorine", 9), "Ne": ("Neon", 10)}  # fmt: skip
SHOWN_ROW = re.compile(r"^- GET /elements/(\w+) -> [^{]*(\{.*\})$", re.MULTILINE)


def elements_server(rows: dict[str, Any]) -> str:
    return fenced(f"""from fastapi import FastAPI, HTTPException

app = FastAPI()
ELEMENTS = {rows!r}


@app.get("/elements/{{symbol}}")
def element(symbol: str):
    if symbol not in ELEMENTS:
        raise HTTPException(status_code=404, detail="unknown element")
    return ELEMENTS[symbol]
""")


@pytest.mark.parametrize("learns", ["every row the idea speaks of", "only the rows it is shown"])
async def test_a_server_that_learnt_only_the_examples_it_saw_fails_the_build(tmp_path: Path, learns: str) -> None:
    """The model looks up each of "the first ten elements"; the server's writer is shown seven
    of them. A writer that copies the rows it sees into a table passes everything it was shown
    and fails the rows kept back, so the build fails, and no prompt ever shows those."""
    derived = {"examples": [
        {"method": "GET", "path": f"/elements/{symbol}", "query": {}, "body": None, "status": 200,
         "response": {"name": name, "number": number}}
        for symbol, (name, number) in TABLE.items()
    ]}  # fmt: skip
    prompts: list[str] = []

    def answer(messages: Sequence[Message], options: Options) -> str:
        prompt = messages[-1].content
        if prompt.startswith("Write the acceptance examples"):
            return json.dumps(derived)
        if "List the key of each" in prompt:
            return json.dumps({"keys": list(TABLE)})
        if "Work each one out on its own" in prompt:  # the second reading agrees with the drafts
            asked = re.findall(r"^\d+\. GET /elements/(\w+)$", prompt, re.MULTILINE)
            return json.dumps({"answers": [{"name": TABLE[s][0], "number": TABLE[s][1]} for s in asked]})
        prompts.append(prompt)
        if learns == "every row the idea speaks of":
            return elements_server({s: {"name": n, "number": z} for s, (n, z) in TABLE.items()})
        return elements_server({symbol: json.loads(row) for symbol, row in SHOWN_ROW.findall(prompt)})

    result = await standard_build(tmp_path, FunctionLLM(answer), ELEMENTS)
    verification = json.loads((tmp_path / "ws/verification.json").read_text())
    kept = [row["example"] for row in verification["acceptance"] if row["kept_back"]]
    assert kept == ["GET /elements/Be", "GET /elements/N", "GET /elements/Ne"]  # its GET /elements/H repeats the idea's
    writer_prompts = [p for p in prompts if "/elements/" in p]
    leaked = [p for p in writer_prompts if any(name in p for name in ("Beryllium", "Nitrogen", "Neon"))]
    assert writer_prompts
    assert not leaked, leaked[0][-3000:]
    whole = "GET /elements/{key} must answer for each of these keys, the idea's whole table"
    assert all(f"{whole} (only some of their answers are shown above): {', '.join(TABLE)}" in p for p in writer_prompts)
    if learns == "every row the idea speaks of":
        assert result.ok, result.output[:600]
        return
    assert not result.ok
    assert any("3 more request(s) of the same routes" in p for p in writer_prompts[1:])  # the writer, only how many
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith(
        "**Verdict: FAILED: 3 of 10 acceptance examples failed; the server answers the examples its writer was shown, "
        "and not the others the idea speaks of.**"
    ), report[:300]
    assert [
        row for row in report_rows(report) if "`/elements/N`" in row and "(kept back from the server's writer)" in row
    ]


async def test_a_table_the_model_looks_up_only_in_part_is_asked_again_and_then_left_unchecked(tmp_path: Path) -> None:
    """ "The first ten elements", and the model looks up its pick of five (two of them not among
    the ten) every time it is asked: they do not check the table, so the build does not pass on
    them; the re-ask says how many entries the table holds."""
    derived = {"examples": [
        {"method": "GET", "path": f"/elements/{symbol}", "query": {}, "body": None, "status": 200,
         "response": {"name": symbol, "number": 0}}
        for symbol in ("H", "O", "C", "P", "S") * 2
    ]}  # fmt: skip
    asked: list[str] = []

    def answer(messages: Sequence[Message], options: Options) -> str:
        if messages[-2].content.startswith("Write the acceptance examples") or messages[-1].content.startswith(
            "Write the acceptance examples"
        ):
            asked.append(messages[-1].content)
            return json.dumps(derived)
        if "List the key of each" in messages[-1].content:
            return json.dumps({"keys": list(TABLE)})
        return elements_server({s: {"name": n, "number": z} for s, (n, z) in TABLE.items()})

    result = await standard_build(tmp_path, FunctionLLM(answer), ELEMENTS)
    assert not result.ok
    assert len(asked) == 2
    assert "one GET /elements/<key> for each of those 10: H, He, Li, Be, B, C, N, O, F, Ne" in asked[0]
    assert "no example looks up He, Li, Be, B, N, F, Ne" in asked[1]
    report = (tmp_path / "ws/REPORT.md").read_text()
    assert report.startswith(
        "**Verdict: FAILED: the idea states rules that no example checks: 'what it knows beyond /elements/H: "
        "stated in words, and no example checks it'"
    ), report[:300]


VISITS = (
    'A visit counter that starts at 0: POST /hit adds one and returns the new count as {"count": 1}, '
    'and GET /count returns {"count": N} without changing it.'
)
VISITS_STUCK = LIKES_STUCK.replace('"/likes"', '"/hit"', 1).replace('"/likes"', '"/count"', 1)
VISITS_STUCK = VISITS_STUCK.replace('"likes"', '"count"')
VISITS_COUNTING = LIKES_COUNTING.replace('"/likes"', '"/hit"', 1).replace('"/likes"', '"/count"', 1)
VISITS_COUNTING = VISITS_COUNTING.replace('"likes"', '"count"')
AFTER_THE_STATED = {"examples": [
    {"method": "GET", "path": "/count", "query": {}, "body": None, "status": 200, "response": {"count": 1}},
    {"method": "POST", "path": "/hit", "query": {}, "body": None, "status": 200, "response": {"count": 2}},
    {"method": "GET", "path": "/count", "query": {}, "body": None, "status": 200, "response": {"count": 2}},
]}  # fmt: skip


@pytest.mark.parametrize(("code", "ok"), [(VISITS_COUNTING, True), (VISITS_STUCK, False)])
async def test_examples_for_a_value_named_in_words_follow_the_stated_ones(tmp_path: Path, code: str, ok: bool) -> None:
    """The model is shown the stated examples as what runs first, and continues from the state they
    leave: a counting server passes, a stuck one fails on the derived values."""
    asked: list[str] = []
    result = await standard_build(tmp_path, deriving(AFTER_THE_STATED, code, asked), VISITS)
    assert result.ok is ok, result.output[:600]
    assert asked, "the model was asked for examples of the value named in words"
    assert (
        "The idea's own examples run first, in this order, on a fresh server that keeps its state between requests:\n"
        '- POST /hit -> 2xx with {"count": 1}\n- GET /count -> 2xx with keys count' in asked[0]
    ), asked[0]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [(e["path"], e["source"]) for e in acceptance["examples"]] == [
        ("/hit", "idea"), ("/count", "idea"), ("/count", "derived"), ("/hit", "derived"), ("/count", "derived"),
    ]  # fmt: skip
    assert acceptance["unchecked"] == []


async def test_a_refusal_the_idea_never_states_is_left_out_of_the_derived_examples(tmp_path: Path) -> None:
    """The model adds "km=-5 gives 400" to the idea's conversion: a rule the user never made. It is
    left out (and said), so a server that converts any number passes; the writer never sees it."""
    derived = {"examples": [
        {"method": "GET", "path": "/km-to-miles", "query": {"km": "10"}, "status": 200, "response": {"miles": 6.21371}},
        {"method": "GET", "path": "/km-to-miles", "query": {"km": "-5"}, "status": 400, "response": None},
    ]}  # fmt: skip
    asked: list[str] = []
    lenient = KM_SERVER.replace("float(km)", "abs(float(km))")  # km=-5 is answered, not refused
    result = await standard_build(tmp_path, deriving(derived, lenient, asked), KM)
    assert result.ok, result.output[:600]
    assert "Write only requests the API answers (status 2xx or 3xx)." in asked[0]
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [(e["query"], e["status"]) for e in acceptance["examples"]] == [({"km": "10"}, 200)]
    assert any("left out 1 refusal(s) the idea does not state" in n for n in acceptance["notes"])


STAFF = (
    "A built-in staff directory of five people, Ann (admin), Bob (dev), Cid (dev), Dee (ops) and Eve (admin), "
    'where GET /people?role=dev returns [{"name": "Bob", "role": "dev"}, {"name": "Cid", "role": "dev"}].'
)
STAFF_SERVER = """from fastapi import FastAPI

app = FastAPI()
PEOPLE = [("Ann", "admin"), ("Bob", "dev"), ("Cid", "dev"), ("Dee", "ops"), ("Eve", "admin")]


@app.get("/people")
def people(role: str):
    return [{"name": name, "role": said} for name, said in PEOPLE if WHO]
"""


@pytest.mark.parametrize(
    ("who", "ok"),
    [
        ("said == role", True),
        ("said == role and name != 'Ann'", False),  # the table copied with a row missing
        ("said == 'dev'", False),  # the stated answer, whatever is asked
        ("True", False),  # no filter at all: the stated rows are in its answer, and three more
    ],
)
async def test_a_table_listed_in_words_is_checked_for_every_filter_value(tmp_path: Path, who: str, ok: bool) -> None:
    """The idea lists five people and states one filter; a server that answers that one right
    and the rest wrong must not pass. The other filter values are read from the listed rows
    (not asked of the model), and one of them is kept from the server's writer."""
    coder = Coder(fenced(STAFF_SERVER.replace("WHO", who)))
    result = await build(tmp_path, coder, STAFF)
    assert result.ok is ok, result.output[:600]
    examples = json.loads((tmp_path / "ws/acceptance.json").read_text())["examples"]
    assert [(e["query"], [p["name"] for p in e["response"]], e["source"]) for e in examples] == [
        ({"role": "dev"}, ["Bob", "Cid"], "idea"), ({"role": "none"}, [], "derived"),
        ({"role": "admin"}, ["Ann", "Eve"], "derived"), ({"role": "ops"}, ["Dee"], "derived"),
    ]  # fmt: skip
    # role=ops is kept back from the writer: not asked, and its answer never shown (a failing
    # server's own answer, shown as evidence in a fix round, may hold Dee)
    assert '"Dee"' not in coder.code_prompts[0]
    assert not any("role=ops" in p for p in coder.code_prompts)
    verification = json.loads((tmp_path / "ws/verification.json").read_text())
    assert [row["example"] for row in verification["acceptance"] if row["kept_back"]] == ["GET /people?role=ops"]


LEAP_GREGORIAN = fenced("""from fastapi import FastAPI

app = FastAPI()


@app.get("/leap/{year}")
def leap(year: int):
    return {"leap": year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)}
""")
# What the embedded model drafted for "the Gregorian rules": 2026 is no leap year.
LEAP_DRAFTS = {"examples": [
    {"method": "GET", "path": f"/leap/{year}", "query": {}, "body": None, "status": 200, "response": {"leap": leap}}
    for year, leap in ((2025, False), (2026, True), (1900, False), (2000, True))
]}  # fmt: skip


def reading_again(answers: list[dict[str, Any]] | None, asked: list[str]) -> FunctionLLM:
    """:func:`deriving` with ``LEAP_DRAFTS``, and the second reading answered with ``answers``
    (or with code, which is no answer at all)."""
    drafting = deriving(LEAP_DRAFTS, LEAP_GREGORIAN, asked)

    def answer(messages: Sequence[Message], options: Options) -> str:
        if "Work each one out on its own" in messages[-1].content:
            asked.append(messages[-1].content)
            return json.dumps({"answers": answers}) if answers is not None else LEAP_GREGORIAN
        return drafting.fn(messages, options)

    return FunctionLLM(answer)


async def test_a_derived_example_that_a_second_reading_answers_otherwise_is_left_out(tmp_path: Path) -> None:
    """The drafts say 2026 is a leap year; asked again, one request at a time and without the
    drafted answers, the model says it is not. The example is left out (and said): a server
    that follows the Gregorian rules passes, instead of failing on an answer the idea never gave."""
    asked: list[str] = []
    again = [{"leap": False}, {"leap": False}, {"leap": False}, {"leap": True}]
    result = await standard_build(tmp_path, reading_again(again, asked), LEAP)
    assert result.ok, result.output[:600]
    second = asked[-1]
    assert "1. GET /leap/2025\n2. GET /leap/2026\n3. GET /leap/1900\n4. GET /leap/2000" in second
    assert "false" not in second  # none of the drafted answers is shown
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert [e["path"] for e in acceptance["examples"]] == ["/leap/2024", "/leap/2025", "/leap/1900", "/leap/2000"]
    assert any(
        'left out 1 example(s) the model answered otherwise when asked again (GET /leap/2026: {"leap": true}, '
        'read again {"leap": false})' in n
        for n in acceptance["notes"]
    ), acceptance["notes"]


@pytest.mark.parametrize(
    "again",
    [
        pytest.param(None, id="no usable second reading"),
        pytest.param([{"leap": False}, {"leap": True}, {"leap": False}, {"leap": True}], id="agreeing with the drafts"),
    ],
)
async def test_a_second_reading_that_finds_nothing_leaves_the_drafts_as_they_were(
    tmp_path: Path, again: list[dict[str, Any]] | None
) -> None:
    """When the second reading is no use or makes the same mistake, the wrong draft stands, and a
    right server fails on it (honestly: the verdict names the example)."""
    asked: list[str] = []
    result = await standard_build(tmp_path, reading_again(again, asked), LEAP)
    assert not result.ok
    acceptance = json.loads((tmp_path / "ws/acceptance.json").read_text())
    assert "/leap/2026" in [e["path"] for e in acceptance["examples"]]
    assert '| `/leap/2026` | 200 with {"leap": true} | 200 | **no** |' in result.output
