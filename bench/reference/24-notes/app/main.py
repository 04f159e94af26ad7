from fastapi import FastAPI, Response

app = FastAPI()
notes: dict[int, dict] = {}
next_id = [1]


@app.post("/notes", status_code=201)
def create(body: dict):
    note = {"id": next_id[0], "text": body.get("text", "")}
    notes[note["id"]] = note
    next_id[0] += 1
    return note


@app.get("/notes")
def list_notes():
    return list(notes.values())


@app.delete("/notes/{id}", status_code=204)
def delete(id: int):
    notes.pop(id, None)
    return Response(status_code=204)
