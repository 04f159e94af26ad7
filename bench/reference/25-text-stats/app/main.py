from fastapi import FastAPI

app = FastAPI()


@app.post("/stats")
def stats(body: dict):
    text = str(body.get("text", ""))
    return {"chars": len(text), "words": len(text.split()), "lines": len(text.splitlines())}
