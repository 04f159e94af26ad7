"""What the workspace must show before an acting task may be called done.

A model's "done" is a claim, and passing tests only say nothing broke: a run that changed
nothing passes the tests it found. So the task's own words are read for what they promise,
deterministically, and checked against the files that changed:

* a task that asks for a change (add, write, fix, ...) to something a project holds (a route,
  a file, a test, a function, ...) needs some file to have changed;
* each thing it names literally (a route like ``/health``, a file like ``app/main.py``, a
  ``backticked`` name) must appear in a changed file (its path or its text);
* a task that asks for a test needs a changed test file.

What is missing goes back to the model as the reason to go on, and into the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_CHANGING = re.compile(
    r"\b(?:add|adds|create|write|implement|fix|change|update|remove|delete|rename|refactor|make|build|move|"
    r"replace|extend|insert|append|edit|patch)\b",
    re.IGNORECASE,
)
# what lives in a project: a task that changes one of these changes files ("add 20 and 22" does not)
_ARTIFACT = re.compile(
    r"\b(?:routes?|endpoints?|files?|tests?|functions?|methods?|modules?|class(?:es)?|pages?|features?|code|"
    r"readme|docs?|documentation|bug|handler|api|server|script|config|dependency|dependencies|types?|"
    r"docstrings?|comments?|logging|validation|field|column|component|style|css|html)\b",
    re.IGNORECASE,
)
_ROUTE = re.compile(r"(?<![\w/.])(/[A-Za-z0-9_\-{}]+(?:/[A-Za-z0-9_\-{}]+)*)")
_FILE = re.compile(r"(?<![\w/])((?:[\w\-]+/)*[\w\-]+\.(?:py|js|ts|json|toml|md|txt|html|css|yaml|yml|cfg|ini))\b")
_TICKED = re.compile(r"`([^`\n]{1,80})`")
_WANTS_TEST = re.compile(r"\b(?:add|adds|write|create|with)\b[^.;]*?\btests?\b", re.IGNORECASE)
_TEST_FILE = re.compile(r"(?:^|/)(?:tests?/|test_[^/]*$|[^/]*_test\.py$|[^/]*\.test\.[jt]s$|[^/]*\.spec\.[jt]s$)")


def named(task: str) -> list[str]:
    """The things ``task`` names literally, in order, once each."""
    found = [m.group(1) for m in _TICKED.finditer(task)]
    found += [m.group(1) for m in _FILE.finditer(task)]
    found += [m.group(1) for m in _ROUTE.finditer(task)]
    return list(dict.fromkeys(found))


def missing(task: str, changed: Sequence[str], read: Callable[[str], str]) -> list[str]:
    """What ``task`` promises that the ``changed`` files do not show (``read`` gives a file's text)."""
    if not _CHANGING.search(task) or not (_ARTIFACT.search(task) or named(task)):
        return []  # a question, a check, or work that is not on the project's files: nothing has to change
    if not changed:
        return ["no file in the workspace changed"]
    problems = []
    texts: dict[str, str] = {}
    for path in changed:
        try:
            texts[path] = read(path)
        except (OSError, ValueError):
            texts[path] = ""
    for thing in named(task):
        if not any(thing in path or thing in text for path, text in texts.items()):
            problems.append(f"no changed file has {thing}")
    if _WANTS_TEST.search(task) and not any(_TEST_FILE.search(path) for path in changed):
        problems.append("the task asks for a test, and no test file changed")
    return problems


_MENTIONS_TEST = re.compile(r"\btests?\b|\btest_|_test\b|\.test\.|\.spec\.", re.IGNORECASE)


def unplanned(task: str, steps: Sequence[str]) -> list[str]:
    """What ``task`` asks for that no step of its plan mentions. So far one thing: a test (a
    small model planned "add a /health route and a test for it" as one step, the route)."""
    if _WANTS_TEST.search(task) and not any(_MENTIONS_TEST.search(step) for step in steps):
        return ["the task asks for a test, and no step adds one"]
    return []


def step_for_a_test(task: str, files: Sequence[str]) -> str:
    """A plan step that adds the test ``task`` asks for, in a new file beside the project's
    own tests (a new file, because rewriting an existing one loses its tests)."""
    tests = [path for path in files if _TEST_FILE.search(path)]
    folder = tests[0].rsplit("/", 1)[0] if tests and "/" in tests[0] else "tests"
    routes = [m.group(1) for m in _ROUTE.finditer(task)]
    words = re.findall(r"[a-z0-9]+", routes[0].lower()) if routes else []
    slug = "_".join(w for w in words if w)[:40] or "change"
    javascript = any(path.endswith((".js", ".ts")) for path in tests) or (
        not any(path.endswith(".py") for path in files) and "package.json" in files
    )
    path = f"{folder}/{slug.replace('_', '-')}.test.js" if javascript else f"{folder}/test_{slug}.py"
    return (
        f"write_file {path}: a new test file for this change, with the imports and setup the project's other tests use"
    )
