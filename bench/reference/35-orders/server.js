const express = require("express");

const app = express();
app.use(express.json());
const orders = new Map();
let nextId = 1;

app.post("/orders", (req, res) => {
  const { item, quantity } = req.body || {};
  if (typeof item !== "string" || item === "") return res.status(400).json({ error: "item is required" });
  if (!Number.isInteger(quantity) || quantity < 1) {
    return res.status(400).json({ error: "quantity must be a positive whole number" });
  }
  const order = { id: nextId++, item, quantity };
  orders.set(order.id, order);
  res.status(201).json(order);
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
