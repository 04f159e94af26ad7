from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/signup", status_code=201)
def signup(body: dict):
    email, password = str(body.get("email", "")), str(body.get("password", ""))
    if "@" not in email or len(password) < 8:
        return JSONResponse({"detail": "invalid email or password"}, status_code=422)
    return {"email": email}
