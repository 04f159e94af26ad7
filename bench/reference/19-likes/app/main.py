from fastapi import FastAPI

app = FastAPI()
state = {"likes": 0}


@app.post("/likes")
def like():
    state["likes"] += 1
    return state


@app.get("/likes")
def likes():
    return state


@app.delete("/likes")
def reset():
    state["likes"] = 0
    return state
