from fastapi import FastAPI, HTTPException

app = FastAPI()
contacts: dict[int, dict] = {}


@app.post("/contacts", status_code=201)
def create(body: dict):
    contact = {"id": len(contacts) + 1, "name": body.get("name"), "email": body.get("email")}
    contacts[contact["id"]] = contact
    return contact


@app.get("/contacts/{id}")
def get_contact(id: int):
    if id not in contacts:
        raise HTTPException(404, "not found")
    return contacts[id]


@app.put("/contacts/{id}")
def replace(id: int, body: dict):
    if id not in contacts:
        raise HTTPException(404, "not found")
    contacts[id] = {"id": id, "name": body.get("name"), "email": body.get("email")}
    return contacts[id]
