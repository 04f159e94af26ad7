const express = require("express");

const app = express();
const views = new Map();

app.post("/views/:page", (req, res) => {
  const page = req.params.page;
  views.set(page, (views.get(page) || 0) + 1);
  res.json({ page, views: views.get(page) });
});

app.get("/views/:page", (req, res) => {
  res.json({ page: req.params.page, views: views.get(req.params.page) || 0 });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
