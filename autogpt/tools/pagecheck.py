"""Does the page work against the API? Checked in a real headless browser.

Every request on the page's origin goes to the running server, which serves both the API
and the page, as it will in production.
The check loads the page, waits for the network to go quiet, looks for the elements the
contract calls for, submits the create form with the contract's example, and takes a
screenshot. Anything the page logs as an error, any request off its origin, and any API
call the contract does not declare is a problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from autogpt.errors import AutoGPTError
from autogpt.tools.browser import ORIGIN, Browser, BrowserError, Request, Response
from autogpt.tools.contract import ApiContract, Route
from autogpt.tools.png import image_stats
from autogpt.tools.workspace import Workspace

Api = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class PageSpec:
    """What a page for this contract must have; the prompt and the check both use it."""

    list_route: Route | None
    create_route: Route | None
    sample: dict[str, Any]  # what the check types into the form

    @classmethod
    def for_contract(cls, contract: ApiContract) -> PageSpec:
        lists = [r for r in contract.routes if r.method == "GET" and r.response_type == "array" and not r.params]
        creates = [r for r in contract.routes if r.method == "POST" and r.request_example and not r.params]
        create = creates[0] if creates else None
        example = create.request_example or {} if create else {}
        sample: dict[str, Any] = {k: v for k, v in example.items() if isinstance(v, str)} or {
            k: v for k, v in example.items() if isinstance(v, int | float | bool)
        }
        return cls(lists[0] if lists else None, create, sample)

    def selectors(self) -> list[str]:
        wanted = ["h1"]
        if self.list_route:
            wanted.append("#items")
        if self.create_route:
            wanted += ["form#create", *(f'form#create [name="{k}"]' for k in self.sample)]
        return wanted

    def describe(self) -> str:
        lines = ["- an <h1> with the app's name"]
        if self.list_route:
            lines.append(
                f'- a <ul id="items"> filled on load from GET {self.list_route.path} (a JSON array); '
                "show each item's fields as text"
            )
        if self.create_route:
            fields = ", ".join(f'<input name="{k}">' for k in self.sample)
            lines.append(
                f'- a <form id="create"> with {fields} and a submit button; on submit, prevent the default, '
                f"POST the values as JSON to {self.create_route.path}, then reload the list"
            )
        return "\n".join(lines)


@dataclass
class PageCheck:
    loaded: bool = False
    title: str = ""
    missing: list[str] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    screenshot: str = ""
    blank: bool = True

    @property
    def ok(self) -> bool:
        return self.loaded and not self.problems

    def evidence(self) -> str:
        lines = [f"- {p}" for p in self.problems]
        if self.console_errors:
            lines.append("Browser console errors:\n" + "\n".join(f"  {e}" for e in self.console_errors[:10]))
        if self.api_calls:
            lines.append("API calls the page made: " + ", ".join(self.api_calls[:12]))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def match_route(contract: ApiContract, method: str, path: str) -> Route | None:
    bare = urlsplit(path).path.rstrip("/") or "/"
    for route in contract.routes:
        pattern = re.sub(r"\\\{[a-zA-Z_][a-zA-Z0-9_]*\\\}", "[^/]+", re.escape(route.path.rstrip("/") or "/"))
        if route.method == method and re.fullmatch(pattern, bare):
            return route
    return None


_SUBMIT = """(() => {
  const form = document.querySelector('form#create');
  for (const [name, value] of Object.entries(%s)) {
    const input = form.querySelector(`[name="${name}"]`);
    if (input.type === 'checkbox') input.checked = Boolean(value); else input.value = String(value);
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  form.requestSubmit();
  return true;
})()"""


async def check_page(
    workspace: Workspace,
    contract: ApiContract,
    api: Api,
    *,
    screenshot: str,
    browser: str = "",
    timeout: float = 15.0,
    agent: str = "",
) -> PageCheck:
    """Load ``/`` from ``api`` in Chromium and check the page (see the module doc)."""
    spec, report = PageSpec.for_contract(contract), PageCheck()
    api_calls: list[tuple[str, str, int]] = []
    missing_files: list[str] = []

    async def handler(request: Request) -> Response | None:
        response = await api(request)
        if request.path == "/favicon.ico" and response.status == 404:
            return Response(204)  # browsers ask on their own; a missing icon is not the page's error
        if request.from_script:
            api_calls.append((request.method, request.path, response.status))
        elif response.status >= 400:
            missing_files.append(f"{request.path} -> {response.status}")
        return response

    async with Browser.launch(browser) as chromium:
        page = await chromium.new_page(handler)
        try:
            await page.goto(ORIGIN + "/", timeout=timeout)
            report.loaded = True
        except BrowserError as exc:
            report.problems.append(str(exc))
            return report
        if not await page.settle(timeout=timeout):
            report.problems.append("the page kept making requests and never went quiet")
        report.title = str(await page.evaluate("document.title") or "")
        present = await page.evaluate(f"{json.dumps(spec.selectors())}.filter(s => !document.querySelector(s))")
        report.missing = list(present or [])
        if report.missing:
            report.problems.append("missing elements: " + ", ".join(report.missing))
        listed = [c for c in api_calls if match_route(contract, c[0], c[1]) == spec.list_route]
        if spec.list_route and not listed:
            report.problems.append(f"the page did not load the list from GET {spec.list_route.path}")
        if spec.create_route and not report.missing:
            before = len(api_calls)
            try:
                await page.evaluate(_SUBMIT % json.dumps(spec.sample))
            except BrowserError as exc:
                report.problems.append(f"submitting the form failed: {exc}")
            await page.settle(timeout=timeout)
            posted = [c for c in api_calls[before:] if match_route(contract, c[0], c[1]) == spec.create_route]
            if not posted:
                report.problems.append(f"submitting the form did not POST to {spec.create_route.path}")
            elif spec.list_route:
                shown = str(await page.evaluate("document.querySelector('#items')?.innerText || ''"))
                wanted = [str(v) for v in spec.sample.values() if isinstance(v, str)]
                if wanted and not any(w in shown for w in wanted):
                    report.problems.append(f"after creating {wanted[0]!r} the list does not show it")
        png = await page.screenshot()
    report.api_calls = [f"{m} {p} -> {s}" for m, p, s in api_calls]
    undeclared = [f"{m} {p}" for m, p, _ in api_calls if match_route(contract, m, p) is None]
    if undeclared:
        report.problems.append("calls outside the contract: " + ", ".join(undeclared[:5]))
    failed = [f"{m} {p} -> {s}" for m, p, s in api_calls if s >= 400 and match_route(contract, m, p)]
    if failed:
        report.problems.append("API calls failed: " + ", ".join(failed[:5]))
    if missing_files:
        report.problems.append("files the page asked for are missing: " + ", ".join(missing_files[:5]))
    if page.log.refused:
        report.problems.append("requests off the page's origin were blocked: " + ", ".join(page.log.refused[:5]))
    report.console_errors = page.log.console_errors
    if report.console_errors:
        report.problems.append(f"{len(report.console_errors)} error(s) in the browser console")
    workspace.write_bytes(screenshot, png, agent=agent)
    report.screenshot = screenshot
    try:
        report.blank = image_stats(png).blank
    except AutoGPTError as exc:
        report.problems.append(f"the screenshot could not be read: {exc}")
    if report.blank:
        report.problems.append("the screenshot is blank")
    return report
