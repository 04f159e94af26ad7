from fastapi import FastAPI, HTTPException

app = FastAPI()
NUMERALS = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]  # fmt: skip


@app.get("/roman")
def roman(n: int):
    if not 1 <= n <= 3999:
        raise HTTPException(400, "n must be between 1 and 3999")
    out = ""
    for value, numeral in NUMERALS:
        count, n = divmod(n, value)
        out += numeral * count
    return {"roman": out}
