from http import HTTPStatus

from fastapi import FastAPI, HTTPException

app = FastAPI()


@app.get("/codes/{code}")
def lookup(code: int):
    try:
        return {"code": code, "phrase": HTTPStatus(code).phrase}
    except ValueError:
        raise HTTPException(404, "unknown code") from None
