from fastapi import FastAPI

app = FastAPI()


@app.get("/vowels/{word}")
def vowels(word: str):
    return {"word": word, "vowels": sum(ch in "aeiou" for ch in word.lower())}
