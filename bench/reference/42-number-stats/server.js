const express = require("express");

const app = express();

app.get("/stats", (req, res) => {
  const numbers = String(req.query.numbers || "").split(",").map(Number);
  if (numbers.some(Number.isNaN)) return res.status(400).json({ error: "numbers must be numbers" });
  const mean = numbers.reduce((a, b) => a + b, 0) / numbers.length;
  res.json({ min: Math.min(...numbers), max: Math.max(...numbers), mean });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
