from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.post("/age")
def age(body: dict):
    value = body.get("age")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise HTTPException(400, "age must be a number of at least 0")
    return {"adult": value >= 18}
