from fastapi import FastAPI

app = FastAPI()
state = {"count": 0}


@app.post("/hit")
def hit():
    state["count"] += 1
    return {"count": state["count"]}


@app.get("/count")
def count():
    return {"count": state["count"]}
