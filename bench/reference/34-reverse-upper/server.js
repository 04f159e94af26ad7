const express = require("express");

const app = express();

app.get("/reverse", (req, res) => {
  res.json({ reversed: [...String(req.query.text || "")].reverse().join("") });
});

app.get("/upper", (req, res) => {
  res.json({ upper: String(req.query.text || "").toUpperCase() });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
