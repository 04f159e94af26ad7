from fastapi import FastAPI, HTTPException

app = FastAPI()
store: dict[str, object] = {}


@app.put("/kv/{key}")
def put(key: str, body: dict):
    store[key] = body.get("value")
    return {"key": key, "value": store[key]}


@app.get("/kv/{key}")
def get(key: str):
    if key not in store:
        raise HTTPException(404, "no such key")
    return {"key": key, "value": store[key]}
