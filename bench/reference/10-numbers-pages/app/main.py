from fastapi import FastAPI

app = FastAPI()
NUMBERS = list(range(1, 11))


@app.get("/numbers")
def numbers(page: int = 1, size: int = 10):
    start = (page - 1) * size
    return {"items": NUMBERS[start : start + size], "total": len(NUMBERS), "page": page, "size": size}
