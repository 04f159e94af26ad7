const express = require("express");

const app = express();
const NAMES = ["Hydrogen", "Helium", "Lithium", "Beryllium", "Boron", "Carbon", "Nitrogen", "Oxygen", "Fluorine", "Neon"];
const SYMBOLS = ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne"];

app.get("/elements/:symbol", (req, res) => {
  const i = SYMBOLS.indexOf(req.params.symbol);
  if (i < 0) return res.status(404).json({ error: "unknown symbol" });
  res.json({ symbol: SYMBOLS[i], name: NAMES[i], number: i + 1 });
});

app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
