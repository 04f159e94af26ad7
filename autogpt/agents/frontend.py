"""FrontendGPT: one plain HTML/CSS/JS page for the API contract, checked in a real browser.

The page is written from a worked example for another contract (small models copy a
shape well), styled with DesignerGPT's palette when there is one, then checked by
:func:`check_page` in headless Chromium against the backend's real server, started in the
Sandbox through the stack's site entry (API routes first, then the page's files), which is
also how a person runs the result. Failures go back to the model as evidence for a bounded number of
rounds, like BackendGPT's.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from typing import ClassVar

from autogpt.agents.architect_aids import EXAMPLE
from autogpt.agents.base import Agent, Context, action
from autogpt.agents.designer import palette_css
from autogpt.agents.running import RunningServer, running_server
from autogpt.agents.stacks import STACKS, Stack
from autogpt.errors import AutoGPTError, ConfigError, InvalidInputError
from autogpt.iac.envelope import Artifact, Command, Result, Task
from autogpt.memory.lessons import learn_fix
from autogpt.mind.repair import TIME_UP, deadline_in, repair
from autogpt.tools.browser import Request, Response, find_chromium
from autogpt.tools.contract import ApiContract, contract_from, task_command
from autogpt.tools.pagecheck import PageCheck, PageSpec, check_page

PAGE_DIR = "frontend"
PAGE_FILE = f"{PAGE_DIR}/index.html"
SCREENSHOT = f"{PAGE_DIR}/screenshot.png"
_HTML_FENCE = re.compile(r"```(?:html)?\s*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_EXAMPLE_NAME = "Notes"
_NAMED = re.compile(rf"(<(title|h1)\b[^>]*>)\s*{_EXAMPLE_NAME}\s*(</\2\s*>)", re.IGNORECASE)

EXAMPLE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>NAME</title>
<style>
  ROOT
  body { font-family: var(--font); background: var(--background); color: var(--text);
         max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { color: var(--primary); }
  form { display: flex; gap: .5rem; margin-bottom: 1rem; }
  input { flex: 1; padding: .5rem; background: var(--surface); color: var(--text); border: 1px solid var(--primary); }
  button { background: var(--primary); color: #fff; border: 0; padding: .5rem 1rem; cursor: pointer; }
  li { background: var(--surface); padding: .5rem; margin: .25rem 0; list-style: none;
       border-left: 4px solid var(--accent); }
</style>
</head>
<body>
<h1>NAME</h1>
<form id="create">
  <input name="text" placeholder="text" required>
  <button type="submit">Add</button>
</form>
<ul id="items"></ul>
<script>
async function load() {
  const res = await fetch("/notes");
  const items = await res.json();
  const list = document.getElementById("items");
  list.innerHTML = "";
  for (const item of items) {
    const li = document.createElement("li");
    li.textContent = Object.entries(item).filter(([key]) => key !== "id").map(([, value]) => value).join(" - ");
    list.append(li);
  }
}
document.getElementById("create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = Object.fromEntries(new FormData(form));
  const headers = { "content-type": "application/json" };
  await fetch("/notes", { method: "POST", headers, body: JSON.stringify(body) });
  form.reset();
  await load();
});
load();
</script>
</body>
</html>
""".replace("ROOT", palette_css(None)).replace("NAME", _EXAMPLE_NAME)
# What the page for the worked example must have, said the way the real contract's is.
EXAMPLE_SPEC = PageSpec.for_contract(
    ApiContract.model_validate({"name": EXAMPLE["name"], "routes": EXAMPLE["routes"]})
).describe()


def extract_page(text: str) -> str:
    blocks = _HTML_FENCE.findall(text)
    page = (max(blocks, key=len) if blocks else text).strip()
    if "<body" not in page.lower() and "<script" not in page.lower():
        raise InvalidInputError("the reply holds no HTML page")
    return page + "\n"


def app_title(design: object, contract: ApiContract) -> str:
    """What the page calls the app: the designer's name for it, else the contract's ("todos-api": "Todos")."""
    name = design.get("name") if isinstance(design, dict) else None
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())[:60]
    words = [w for w in re.split(r"[-_\s]+", contract.name) if w and w.lower() != "api"]
    return " ".join(words).capitalize() or "App"


def named(page: str, title: str) -> str:
    """The page with the app's own name where it kept the worked example's (small models copy
    the example's <title> and <h1> word for word)."""
    if title.lower() == _EXAMPLE_NAME.lower():
        return page
    return _NAMED.sub(lambda m: f"{m.group(1)}{html.escape(title)}{m.group(3)}", page)


class FrontendGPT(Agent):
    name = "FrontendGPT"
    role = "frontend"
    persona = (
        "You are FrontendGPT, a careful web developer. You write one self-contained HTML page with plain "
        "CSS and JavaScript that uses a JSON API on the same origin."
    )
    capabilities = frozenset({"llm.chat", "fs.write", "exec.run", "browser"})
    fix_rounds: ClassVar[int] = 3
    startup_seconds: ClassVar[float] = 30.0

    async def handle_task(self, task: Task, ctx: Context) -> Result:
        return await self.create(task_command(task), ctx)

    def _stack(self, language: str) -> Stack:
        assert self.workspace is not None
        if not language:  # the backend that is there decides
            language = "javascript" if self.workspace.exists("server.js") else "python"
        stack = STACKS.get(language.lower())
        if stack is None:
            raise InvalidInputError(f"FrontendGPT runs python or javascript backends, not {language!r}")
        if not self.workspace.exists(stack.server_file):
            raise InvalidInputError(f"FrontendGPT needs the backend's {stack.server_file} (run the backend first)")
        return stack

    @action("create", help="write frontend/index.html for contract.json and check it in headless Chromium")
    async def create(self, command: Command, ctx: Context) -> Result:
        if self.workspace is None:
            raise ConfigError("FrontendGPT needs a workspace")
        deadline = deadline_in(command.args)  # from the task's arrival, before any drafting
        ws = self.workspace.ensure()
        contract = contract_from(command.args, ws, self.name)
        stack = self._stack(command.language)
        stack.check()
        find_chromium(self.settings.browser)  # refuse before any model call
        design = command.args.get("design")
        if design is None and ws.exists("design.json"):
            design = json.loads(ws.read_text("design.json"))
        css, title = palette_css(design), app_title(design, contract)
        ws.write_text(stack.site_file, stack.site_code, agent=self.name)

        async def check(page: str) -> PageCheck:
            ws.write_text(PAGE_FILE, named(page, title), agent=self.name)
            return await self._check(stack, contract, ctx)

        first = await self._draft(contract, css, title, ctx, str(command.args.get("previous_error", "")))
        repaired = await repair(
            first,
            check=check,
            fix=lambda page, report, temperature: self._fix(contract, page, report, ctx, temperature),
            redraft=lambda evidence: self._draft(contract, css, title, ctx, evidence, temperature=0.7),
            say=ctx.status,
            rounds=self.fix_rounds,
            deadline=deadline,
        )
        report, rounds = repaired.report, repaired.rounds
        task = f"write the web page for the {contract.name} API"
        learn_fix(self.memory, self.role, task, repaired.first_evidence, repaired.first, repaired.draft, report.ok)
        summary = (
            f"page {'checked' if report.ok else 'NOT working'} in headless Chromium after {rounds} fix round(s)"
            f"{TIME_UP if repaired.out_of_time else ''}: "
            f"{len(report.api_calls)} API call(s), {len(report.console_errors)} console error(s), "
            f"screenshot {report.screenshot or 'none'}"
        )
        outcome = {**report.as_dict(), "fix_rounds": rounds, "out_of_time": repaired.out_of_time}
        ws.write_text("page-check.json", json.dumps(outcome, indent=2) + "\n", agent=self.name)
        files = [w for w in ws.writes if w.agent == self.name]
        return Result(
            ok=report.ok,
            output=summary + ("" if report.ok else "\n" + report.evidence()[:1500]),
            data={"page_check": outcome, "run": stack.site_hint, "learned": bool(repaired.first_evidence)},
            artifacts=tuple(
                Artifact(w.path, "screenshot" if w.path == SCREENSHOT else "file", w.size, w.sha256) for w in files
            ),
        )

    async def _ask_page(self, prompt: str, ctx: Context, temperature: float) -> str:
        async def parse(reply: str) -> str:
            return extract_page(reply)

        return await self.think_usable(prompt, parse, ctx, what="page", max_tokens=1800, temperature=temperature)

    async def _draft(
        self, contract: ApiContract, css: str, title: str, ctx: Context, hint: str, temperature: float = 0.1
    ) -> str:
        await ctx.status(f"writing {PAGE_FILE}")
        extra = f"\nAn earlier attempt failed with: {hint[:800]}" if hint else ""
        return await self._ask_page(
            f"Example. For a notes API the page must have:\n{EXAMPLE_SPEC}\nand this is a correct index.html:\n"
            f"```html\n{EXAMPLE_PAGE}```\n\n"
            f"Now write index.html for '{contract.name}' in the same style. It must have:\n"
            f"{PageSpec.for_contract(contract).describe()}\n"
            f"The app is called {json.dumps(title)}: use that for the <title> and the <h1>.\n"
            f"Use exactly this palette line in the style: {css}\n"
            "Use relative URLs (the API is on the same origin), no external scripts, fonts or images. "
            "Reply with the whole page in one ```html block." + extra,
            ctx,
            temperature,
        )

    async def _fix(self, contract: ApiContract, page: str, report: PageCheck, ctx: Context, temperature: float) -> str:
        return await self._ask_page(
            f"A correct page in the expected style, for a notes API:\n```html\n{EXAMPLE_PAGE}```\n\n"
            f"This page for '{contract.name}' must have:\n{PageSpec.for_contract(contract).describe()}\n\n"
            f"Current page:\n```html\n{page}```\n\nIn a browser it fails:\n{report.evidence()}\n\n"
            "Return the complete corrected page in one ```html block.",
            ctx,
            temperature,
        )

    async def _check(self, stack: Stack, contract: ApiContract, ctx: Context) -> PageCheck:
        assert self.workspace is not None
        async with running_server(
            stack, self.workspace, self.settings, ctx.status, startup_seconds=self.startup_seconds, site=True
        ) as server:
            if not server.started:
                tail = "\n".join(server.log_tail().strip().splitlines()[-15:])
                return PageCheck(problems=[f"the backend server did not start, so the page cannot work:\n{tail}"])
            await ctx.status("loading the page in headless Chromium")
            report = await check_page(
                self.workspace, contract, _forward(server),
                screenshot=SCREENSHOT, browser=self.settings.browser, agent=self.name,
            )  # fmt: skip
        await ctx.status(f"page check: {'passed' if report.ok else '; '.join(report.problems)[:120]}")
        return report


def _forward(server: RunningServer) -> Callable[[Request], Awaitable[Response]]:
    """The browser's API requests, sent on to the sandboxed server."""

    async def api(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept")}
        try:
            got = await server.request(request.method, request.path, body=request.body or None, headers=headers)
        except AutoGPTError as exc:
            return Response(502, f"the server did not answer: {exc}".encode(), {"content-type": "text/plain"})
        kept = {k: v for k, v in got.headers.items() if k in ("content-type", "location")}
        return Response(got.status, got.body, kept)

    return api
