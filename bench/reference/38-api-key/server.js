const express = require("express");

const app = express();
app.use(express.json());

app.post("/echo", (req, res) => {
  if (req.get("X-API-Key") !== "secret") return res.status(401).json({ error: "a valid X-API-Key is required" });
  res.json(req.body);
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
