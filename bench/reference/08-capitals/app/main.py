from fastapi import FastAPI, HTTPException

app = FastAPI()
CAPITALS = {"France": "Paris", "Germany": "Berlin", "Japan": "Tokyo", "Italy": "Rome"}


@app.get("/capital/{country}")
def capital(country: str):
    if country not in CAPITALS:
        raise HTTPException(404, "unknown country")
    return {"country": country, "capital": CAPITALS[country]}
