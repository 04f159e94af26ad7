const express = require("express");

const app = express();
const USD = { USD: 1, EUR: 1.1, GBP: 1.25 };  // what one unit is worth in USD

app.get("/convert", (req, res) => {
  const { from, to } = req.query;
  const amount = Number(req.query.amount);
  if (!(from in USD) || !(to in USD) || Number.isNaN(amount)) {
    return res.status(400).json({ error: "unknown currency or amount" });
  }
  res.json({ from, to, amount, result: (amount * USD[from]) / USD[to] });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
