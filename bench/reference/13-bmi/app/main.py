from fastapi import FastAPI

app = FastAPI()


@app.get("/bmi")
def bmi(weight: float, height: float):
    return {"bmi": round(weight / height**2, 1)}
