const express = require("express");

const app = express();
const LINKS = { github: "https://github.com", python: "https://www.python.org" };

app.get("/go/:name", (req, res) => {
  const target = LINKS[req.params.name];
  if (!Object.hasOwn(LINKS, req.params.name)) return res.status(404).json({ error: "unknown link" });
  res.redirect(302, target);
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
