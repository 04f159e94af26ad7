from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/ping", response_class=PlainTextResponse)
def ping():
    return "pong"


@app.get("/ready")
def ready():
    return {"ready": True}
