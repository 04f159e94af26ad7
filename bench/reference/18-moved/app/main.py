from fastapi import FastAPI
from fastapi.responses import RedirectResponse

app = FastAPI()


@app.get("/old-page")
def old_page():
    return RedirectResponse("/new-page", status_code=301)


@app.get("/new-page")
def new_page():
    return {"page": "new"}
