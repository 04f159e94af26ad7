"""The page check opens generated pages in Chromium, whose own sandbox cannot run here: a
page that broke out of the renderer must find itself in the same box as generated programs.
Each check looks at the browser's processes from the host, not at what a page reports."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from autogpt.tools.browser import Browser, Request, Response
from autogpt.tools.sandbox_bwrap import SANDBOX_UID

pytestmark = [
    pytest.mark.usefixtures("needs_bwrap"),
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed (make setup installs it)"),
]


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def program(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class Seen:
    """One process, as the host sees it."""

    uid: int
    capabilities: str
    environment: bytes
    sees_outside: bool
    sees_home: bool
    own_network: bool


def look(pid: int, outside: Path) -> Seen:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    field = {line.split(":")[0]: line.split()[1] for line in status if line.split()[1:]}
    root = Path(f"/proc/{pid}/root")  # the process's own view of the file system
    home = root / "root"
    return Seen(
        uid=int(field["Uid"]),
        capabilities=field["CapEff"],
        environment=Path(f"/proc/{pid}/environ").read_bytes(),
        sees_outside=(root / str(outside).lstrip("/")).exists(),
        sees_home=home.exists() and any(home.iterdir()),
        own_network=os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino,
    )


async def test_chromium_runs_boxed_without_our_secrets_or_files(outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (outside / "secret").write_text("host secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-reach-the-page")

    async def page_handler(_: Request) -> Response:
        return Response(200, b"<p>generated page</p>", {"Content-Type": "text/html"})

    async with Browser.launch() as browser:
        page = await browser.new_page(page_handler)
        await page.goto("http://app.test/")
        assert await page.evaluate("document.body.textContent") == "generated page"
        chromiums = [pid for pid in descendants(browser.proc.pid) if "chrom" in program(pid)]
        assert chromiums, "no Chromium process found"
        for seen in (look(pid, outside) for pid in chromiums):
            assert seen.uid == (SANDBOX_UID if os.geteuid() == 0 else os.geteuid())
            assert seen.capabilities == "0000000000000000"
            assert b"sk-must-not-reach-the-page" not in seen.environment
            assert not seen.sees_outside
            assert not seen.sees_home
            assert seen.own_network
