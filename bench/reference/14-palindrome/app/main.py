from fastapi import FastAPI

app = FastAPI()


@app.get("/palindrome")
def palindrome(text: str):
    return {"palindrome": text.lower() == text.lower()[::-1]}
