from fastapi import FastAPI

app = FastAPI()


@app.get("/leap/{year}")
def leap(year: int):
    return {"year": year, "leap": year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)}
