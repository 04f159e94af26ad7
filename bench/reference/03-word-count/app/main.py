from fastapi import FastAPI

app = FastAPI()


@app.post("/count")
def count(body: dict):
    return {"words": len(str(body.get("text", "")).split())}
