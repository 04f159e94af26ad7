from fastapi import FastAPI

app = FastAPI()


@app.get("/km-to-miles")
def km_to_miles(km: float):
    return {"km": km, "miles": km * 0.621371}
