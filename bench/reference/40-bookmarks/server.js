const express = require("express");

const app = express();
app.use(express.json());
const bookmarks = new Map();
let nextId = 1;

app.post("/bookmarks", (req, res) => {
  const bookmark = { id: nextId++, url: req.body.url, title: req.body.title };
  bookmarks.set(bookmark.id, bookmark);
  res.status(201).json(bookmark);
});

app.get("/bookmarks", (req, res) => {
  res.json([...bookmarks.values()]);
});

app.delete("/bookmarks/:id", (req, res) => {
  bookmarks.delete(Number(req.params.id));
  res.status(204).end();
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
