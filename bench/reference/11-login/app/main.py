import secrets

from fastapi import FastAPI, Header, HTTPException

app = FastAPI()
tokens: dict[str, str] = {}


@app.post("/login")
def login(body: dict):
    if body.get("username") != "admin" or body.get("password") != "admin123":
        raise HTTPException(401, "wrong username or password")
    token = secrets.token_hex(16)
    tokens[token] = "admin"
    return {"token": token}


@app.get("/me")
def me(authorization: str = Header("")):
    token = authorization.removeprefix("Bearer ").strip()
    if token not in tokens:
        raise HTTPException(401, "not logged in")
    return {"username": tokens[token]}
