"""What a small model needs to act well on a project: a worked example of a plan and the turn
that carries it out, for another task in another project.

Shown once, in the first message, beside the project's own files (:func:`autogpt.agents.acting.excerpts`).
Without it, a 1.5B model asked to add a route planned a new module of a framework the
project does not use, and wrote shell ``echo`` lines for what a file tool does in one call.
The example keeps to the moves that work on any project: change the file that already does
the job, and copy the style of a test that is already there.
"""

from __future__ import annotations

import json

_PLAN = {
    "summary": "GET /todos takes ?done=true|false and lists only those todos, with a test",
    "steps": [
        "patch api/routes.py: give list_todos a done query parameter and filter on it",
        "write tests/test_done_filter.py in the style of tests/test_todos.py",
    ],
    "commands": [],
    "tools": [],
}
_TURN = {
    "thought": "the route is in api/routes.py; the test copies tests/test_todos.py",
    "calls": [
        {
            "tool": "patch_file",
            "args": {
                "path": "api/routes.py",
                "patches": [
                    {
                        "old": "def list_todos():\n    return todos",
                        "new": "def list_todos(done: bool | None = None):\n"
                        "    return [t for t in todos if done is None or t['done'] == done]",
                    }
                ],
            },
        },
        {
            "tool": "write_file",
            "args": {
                "path": "tests/test_done_filter.py",
                "content": "from fastapi.testclient import TestClient\n\nfrom api.routes import app\n\n"
                "client = TestClient(app)\n\n\ndef test_done_filter() -> None:\n"
                "    client.post('/todos', json={'title': 'a', 'done': True})\n"
                "    assert all(t['done'] for t in client.get('/todos?done=true').json())\n",
            },
        },
    ],
    "done": True,
}


def worked_example(usable: set[str]) -> str:
    """A plan and its first turn, for a task unlike the user's, to show the shape of good ones;
    nothing when the agent may not use the tools the example calls (it would be shown a move
    it is refused)."""
    if not {call["tool"] for call in _TURN["calls"]} <= usable:  # type: ignore[attr-defined]
        return ""
    return (
        "How a good plan and turn look, for another task in another project (FastAPI, the app in "
        "api/routes.py, a test in tests/test_todos.py): change the file that already does the job, with "
        "patch_file or append_file, and copy the style of a test that is already there.\n"
        f"Plan: {json.dumps(_PLAN)}\nFirst turn: {json.dumps(_TURN)}\n\n"
    )
