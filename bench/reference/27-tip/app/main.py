from fastapi import FastAPI

app = FastAPI()


@app.get("/tip")
def tip(amount: float, percent: float):
    value = round(amount * percent / 100, 2)
    return {"tip": value, "total": round(amount + value, 2)}
