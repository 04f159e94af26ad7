"""Long-term memory: an SQLite store of embedded texts, recalled into prompts."""
