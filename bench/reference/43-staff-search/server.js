const express = require("express");

const app = express();
const PEOPLE = [
  { name: "Ann", role: "admin" },
  { name: "Bob", role: "dev" },
  { name: "Cid", role: "dev" },
  { name: "Dee", role: "ops" },
  { name: "Eve", role: "admin" },
];

app.get("/people", (req, res) => {
  const role = req.query.role;
  res.json(role === undefined ? PEOPLE : PEOPLE.filter((p) => p.role === role));
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
