#!/usr/bin/env node
// oxiload: loads one RDF file into an in-memory Oxigraph store (npm
// oxigraph, pinned in package.json) and prints, as one JSON line,
//   {"file": FILE, "format": F, "triples": N, "bytes": B, "seconds": S, "triples_per_s": R}
// where seconds covers store.load only (the file is read into memory first).
// It is scripts/bench's Oxigraph baseline. Usage:
//   node bench/oxiload.mjs FILE   (.nt or .ttl)
import { readFileSync, statSync } from "node:fs";
import oxigraph from "oxigraph";

const file = process.argv[2];
if (!file) {
  console.error("usage: node bench/oxiload.mjs FILE.nt|FILE.ttl");
  process.exit(2);
}
const format = file.endsWith(".ttl") ? "text/turtle" : "application/n-triples";
const text = readFileSync(file, "utf8");
const store = new oxigraph.Store();
const t0 = process.hrtime.bigint();
store.load(text, { format });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const triples = store.size;
console.log(JSON.stringify({
  file, format, triples, bytes: statSync(file).size, seconds,
  triples_per_s: triples / seconds,
}));
