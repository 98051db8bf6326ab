#!/usr/bin/env node
// rdfcheck: loads an RDF file with two independent parsers, Oxigraph (a
// SPARQL store, Rust compiled to WASM) and N3.js (a strict JavaScript
// parser), prints how many triples each read, and runs SPARQL queries over
// the Oxigraph store. JSON-LD is read by Oxigraph only (N3.js has no JSON-LD
// parser; "n3" is then null); its @context must be inline (Oxigraph fetches
// nothing).
//
// Usage:
//   node scripts/rdfcheck.mjs [--format turtle|ntriples|jsonld] FILE [QUERY...]
//
// FILE's format comes from its extension (.ttl, .nt, .jsonld) unless --format says.
// Each QUERY is the path of a file holding a SPARQL query (.rq) or the text
// of a query. Output is one JSON object on stdout:
//   {"file": FILE, "oxigraph": N, "n3": N (null for JSON-LD),
//    "queries": [{"query": QUERY, "boolean": true} |
//                {"query": QUERY, "vars": ["x"], "rows": [["<http://…>"]]}]}
// Terms are written as in N-Triples; an unbound variable is null. The exit
// status is 1, with the reason on stderr, when either parser rejects FILE or
// a query fails; the parsers' triple counts are compared by the caller.
//
// Oxigraph and N3.js are pinned in package.json (npm ci installs them).
import { readFileSync, existsSync } from "node:fs";
import oxigraph from "oxigraph";
import N3 from "n3";

const formats = {
  turtle: { ox: "text/turtle", n3: "text/turtle" },
  ntriples: { ox: "application/n-triples", n3: "N-Triples" },
  jsonld: { ox: "application/ld+json", n3: null },
};

function usage(msg) {
  if (msg) console.error(`rdfcheck: ${msg}`);
  console.error("usage: node scripts/rdfcheck.mjs [--format turtle|ntriples|jsonld] FILE [QUERY...]");
  process.exit(2);
}

const args = process.argv.slice(2);
let format;
if (args[0] === "--format") {
  format = args[1];
  args.splice(0, 2);
}
const file = args.shift();
if (!file) usage("no FILE");
if (!format) {
  if (file.endsWith(".ttl")) format = "turtle";
  else if (file.endsWith(".nt")) format = "ntriples";
  else if (file.endsWith(".jsonld")) format = "jsonld";
  else usage(`cannot tell the format of ${file}; give --format`);
}
if (!formats[format]) usage(`unknown format ${format}`);

const text = readFileSync(file, "utf8");
const out = { file, oxigraph: 0, n3: 0, queries: [] };

const store = new oxigraph.Store();
try {
  store.load(text, { format: formats[format].ox });
} catch (e) {
  console.error(`rdfcheck: oxigraph: ${file}: ${e.message ?? e}`);
  process.exit(1);
}
out.oxigraph = store.size;

if (formats[format].n3) {
  try {
    out.n3 = new N3.Parser({ format: formats[format].n3 }).parse(text).length;
  } catch (e) {
    console.error(`rdfcheck: n3: ${file}: ${e.message ?? e}`);
    process.exit(1);
  }
} else {
  out.n3 = null;
}

for (const q of args) {
  const sparql = existsSync(q) ? readFileSync(q, "utf8") : q;
  let res;
  try {
    res = store.query(sparql);
  } catch (e) {
    console.error(`rdfcheck: query ${q}: ${e.message ?? e}`);
    process.exit(1);
  }
  if (typeof res === "boolean") {
    out.queries.push({ query: q, boolean: res });
    continue;
  }
  const vars = [];
  const rows = [];
  for (const solution of res) {
    for (const v of solution.keys()) if (!vars.includes(v)) vars.push(v);
  }
  for (const solution of res) {
    rows.push(vars.map((v) => (solution.has(v) ? solution.get(v).toString() : null)));
  }
  out.queries.push({ query: q, vars, rows });
}
console.log(JSON.stringify(out));
