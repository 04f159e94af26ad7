const express = require("express");

const app = express();

app.get("/status", (req, res) => {
  res.json({ ok: true, service: "orders" });
});

app.use((req, res) => {
  res.status(404).json({ error: "not found" });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
