"""Do lessons help? The idea benchmark twice over one fresh data dir: the first pass keeps
lessons from what failed and what fixed it, the second recalls them into its prompts.

    python bench/lessons.py --out DIR [--only 3,7] [--timeout 600] [-- --time-limit 420]

Prints both passes' rows (as ``bench/build_ideas.py`` does), then per idea the pass/fail and
backend fix rounds of each pass, the lessons kept per role, and the totals: ideas passing all
checks, mean fix rounds over ideas that finished both times, false successes. A benchmark, not a
test: the figure is whatever it is. Lessons from earlier ideas of the first pass are recalled by
later ones too; the second pass has them all. Give builds a ``--time-limit`` below ``--timeout`` so a
slow build still ends on its own and keeps its lessons (a build killed at the timeout keeps none).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_ideas  # noqa: E402


def lessons_kept(db: Path) -> dict[str, int]:
    if not db.is_file():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT namespace, count(*) FROM items WHERE kind = 'lesson' GROUP BY namespace").fetchall()
    return {str(ns).removeprefix("agent:"): int(n) for ns, n in rows}


def compare(first: dict[str, Any], second: dict[str, Any]) -> str:
    by_name = {i["name"]: i for i in second["ideas"]}
    lines = [
        "| # | idea | pass 1 | pass 2 | fix rounds 1 | fix rounds 2 | wall 1 | wall 2 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rounds: list[tuple[int, int]] = []
    for a in first["ideas"]:
        b = by_name.get(a["name"])
        if b is None:
            continue

        def verdict(r: dict[str, Any]) -> str:
            ok = r["total"] > 0 and r["passed"] == r["total"]
            return f"{'pass' if ok else 'fail'} {r['passed']}/{r['total']} (exit {r['exit']})"

        if a["fix_rounds"] is not None and b["fix_rounds"] is not None:
            rounds.append((a["fix_rounds"], b["fix_rounds"]))
        lines.append(
            f"| {a['number']} | {a['name']} | {verdict(a)} | {verdict(b)} | {a['fix_rounds']} | {b['fix_rounds']} "
            f"| {a['seconds']:.0f}s | {b['seconds']:.0f}s |"
        )
    ta, tb = first["totals"], second["totals"]
    lines += [
        "",
        f"- ideas passing all checks: pass 1 {ta['all_checks_passed']}/{ta['ideas']}, "
        f"pass 2 {tb['all_checks_passed']}/{tb['ideas']}",
        f"- false successes: pass 1 {ta['false_successes']}, pass 2 {tb['false_successes']}",
    ]
    if rounds:
        mean = [sum(r[i] for r in rounds) / len(rounds) for i in (0, 1)]
        lines.append(
            f"- backend fix rounds over the {len(rounds)} idea(s) that finished both times: "
            f"mean {mean[0]:.2f} then {mean[1]:.2f}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args, _ = build_ideas.parse_args(argv)
    if args.out is None or args.reference:
        print("give --out DIR (and no --reference)", file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    data = out / "data"
    if data.exists():
        print(f"{data} exists: the first pass needs a fresh data dir", file=sys.stderr)
        return 2
    os.environ["AUTOGPT_DATA_DIR"] = str(data)  # both passes, and every build, share it
    rest = [a for i, a in enumerate(argv) if not (a == "--out" or (i and argv[i - 1] == "--out"))]
    summaries = []
    kept = []
    for n in (1, 2):
        print(f"\n## pass {n}", flush=True)
        build_ideas.main(["--out", str(out / f"pass{n}"), *rest])
        summaries.append(json.loads((out / f"pass{n}" / "summary.json").read_text()))
        kept.append(lessons_kept(data / "memory.db"))
    table = compare(*summaries)
    table += f"- lessons kept after pass 1: {kept[0] or 'none'}; after pass 2: {kept[1] or 'none'}\n"
    (out / "lessons.md").write_text(table)
    print("\n" + table, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
