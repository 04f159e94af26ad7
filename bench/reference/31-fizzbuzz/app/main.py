from fastapi import FastAPI

app = FastAPI()


def word(i: int) -> str:
    return "Fizz" * (i % 3 == 0) + "Buzz" * (i % 5 == 0) or str(i)


@app.get("/fizzbuzz")
def fizzbuzz(n: int):
    return [word(i) for i in range(1, n + 1)]
