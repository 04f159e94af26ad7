from fastapi import FastAPI

app = FastAPI()


@app.get("/convert")
def convert(c: float):
    return {"f": c * 9 / 5 + 32}
