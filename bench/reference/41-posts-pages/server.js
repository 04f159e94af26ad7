const express = require("express");

const app = express();
const POSTS = Array.from({ length: 12 }, (_, i) => ({ id: i + 1, title: `Post ${i + 1}` }));
const PER_PAGE = 5;

app.get("/posts", (req, res) => {
  const page = Number(req.query.page || 1);
  res.json({ page, posts: POSTS.slice((page - 1) * PER_PAGE, page * PER_PAGE) });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
