"""Servers a scripted model writes in build tests: one correct todo API, shared."""

from __future__ import annotations

TODOS_SERVER = """from fastapi import FastAPI, HTTPException

app = FastAPI()
todos = {}


@app.post("/todos", status_code=201)
def create(body: dict):
    i = len(todos) + 1
    todos[i] = {"id": i, "title": body.get("title", "")}
    return todos[i]


@app.get("/todos")
def list_todos():
    return list(todos.values())


@app.get("/todos/{id}")
def one(id: int):
    if id not in todos:
        raise HTTPException(404)
    return todos[id]
"""


def fenced(code: str) -> str:
    """``code`` as a model's reply: one python block."""
    return f"```python\n{code}```"
