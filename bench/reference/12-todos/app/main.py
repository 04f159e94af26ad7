from fastapi import FastAPI, HTTPException, Response

app = FastAPI()
todos: dict[int, dict] = {}
next_id = [1]


@app.post("/todos", status_code=201)
def create(body: dict):
    todo = {"id": next_id[0], "title": body.get("title", "")}
    todos[todo["id"]] = todo
    next_id[0] += 1
    return todo


@app.get("/todos")
def list_todos():
    return list(todos.values())


@app.get("/todos/{id}")
def get_todo(id: int):
    if id not in todos:
        raise HTTPException(404, "not found")
    return todos[id]


@app.delete("/todos/{id}", status_code=204)
def delete(id: int):
    todos.pop(id, None)
    return Response(status_code=204)
