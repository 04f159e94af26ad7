from fastapi import FastAPI

app = FastAPI()
ITEMS = [f"item{i}" for i in range(1, 31)]


@app.get("/items")
def items(limit: int = 10, offset: int = 0):
    return ITEMS[offset : offset + limit]
