import secrets

from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse

app = FastAPI()
links: dict[str, str] = {}


@app.post("/links", status_code=201)
def create(body: dict):
    code = secrets.token_urlsafe(4)
    links[code] = body["url"]
    return {"code": code}


@app.get("/r/{code}")
def follow(code: str):
    if code not in links:
        raise HTTPException(404, "unknown code")
    return RedirectResponse(links[code], status_code=302)
