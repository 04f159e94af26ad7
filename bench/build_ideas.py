"""`autogpt build` on the embedded model for five small ideas: did the server start and
answer every declared route, and did the page pass its check in headless Chromium? Tokens,
wall time and fix rounds for each. Run from the repo root:
`python bench/build_ideas.py [OUT_DIR] [--api-only]` (a few minutes an idea on 2 cores)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

IDEAS = [
    "a todo list API where I can add todos, list them and get one by id",
    "a bookmarks API to save a URL with a title and list saved bookmarks",
    "a counter API with an endpoint to read the count and one to increment it",
    "a notes API to create a note, list notes and delete a note",
    "a contacts API to add a contact with name and email and look one up by id",
]


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--api-only"]
    extra = ["--api-only"] if "--api-only" in sys.argv else []
    out = Path(args[0] if args else "bench-builds")
    out.mkdir(exist_ok=True)
    exe = str(Path(sys.executable).parent / "autogpt")
    wrap = ["unshare", "-n"] if subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0 else []
    rows = []
    for i, idea in enumerate(IDEAS, 1):
        ws = out / f"idea{i}"
        shutil.rmtree(ws, ignore_errors=True)
        started = time.monotonic()
        proc = subprocess.run(
            [*wrap, exe, "build", idea, "--workspace", str(ws), *extra], capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        (out / f"idea{i}.log").write_text(proc.stderr + proc.stdout)
        verification = json.loads((ws / "verification.json").read_text()) if (ws / "verification.json").exists() else {}
        routes = verification.get("routes", [])
        page = json.loads((ws / "page-check.json").read_text()) if (ws / "page-check.json").exists() else None
        page_cell = "-" if page is None else f"{'yes' if page['ok'] else 'no'} ({page['fix_rounds']} fix)"
        cost = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Wall time")), "")
        tokens = m.group(1) if (m := re.search(r"(\d+) tokens", cost)) else "?"
        rows.append(
            (i, proc.returncode, verification.get("ok", False), sum(r["ok"] for r in routes), len(routes),
             verification.get("fix_rounds", "-"), page_cell, tokens, seconds, idea)
        )  # fmt: skip
        print(f"idea {i}: exit {proc.returncode}, verified={verification.get('ok', False)}, {seconds:.0f}s", flush=True)
    print("\n| # | verified | routes passing | fix rounds | page check | wall | tokens | idea |")
    print("|---|---|---|---|---|---|---|---|")
    for i, _code, ok, passing, total, rounds, page_cell, tokens, seconds, idea in rows:
        print(
            f"| {i} | {'yes' if ok else 'no'} | {passing}/{total} | {rounds} | {page_cell} | {seconds:.0f}s "
            f"| {tokens} | {idea} |"
        )


if __name__ == "__main__":
    main()
