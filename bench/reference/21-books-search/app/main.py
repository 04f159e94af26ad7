from fastapi import FastAPI

app = FastAPI()
BOOKS = [
    {"title": "Dune", "author": "Frank Herbert", "year": 1965},
    {"title": "Neuromancer", "author": "William Gibson", "year": 1984},
    {"title": "Emma", "author": "Jane Austen", "year": 1815},
    {"title": "Frankenstein", "author": "Mary Shelley", "year": 1818},
]


@app.get("/books")
def books(author: str | None = None, before: int | None = None):
    found = BOOKS
    if author is not None:
        found = [b for b in found if author.lower() in b["author"].lower()]
    if before is not None:
        found = [b for b in found if b["year"] < before]
    return found
