from fastapi import FastAPI

app = FastAPI()
FRUITS = ["apple", "apricot", "banana", "cherry", "grape"]


@app.get("/fruits")
def fruits(q: str = ""):
    return [f for f in FRUITS if q.lower() in f]
