#!/usr/bin/env node
// jsonldcheck: reads a JSON-LD file with jsonld.js, the reference JSON-LD
// processor, and prints the RDF it stands for as N-Quads (jsonld.toRDF), one
// quad a line, in jsonld.js's order.
//
// Usage:
//   node scripts/jsonldcheck.mjs [--context URL=FILE]... FILE
//   node scripts/jsonldcheck.mjs [--context URL=FILE]... --json FILE...
//
// With --json, each FILE gives one line of JSON, {"file": FILE, "nquads": "…"}.
//
// A remote @context named by --context is read from FILE instead of the
// network (Annals refers to the context it serves, {base}/context.jsonld);
// any other remote context is refused, so the result never depends on the
// network. The exit status is 1, with the reason on stderr, when the file
// is not JSON or jsonld.js refuses it.
import { readFileSync } from "node:fs";
import jsonld from "jsonld";

const contexts = new Map();
const args = process.argv.slice(2);
while (args[0] === "--context") {
  const [url, file] = args[1].split(/=(.*)/s);
  contexts.set(url, JSON.parse(readFileSync(file, "utf8")));
  args.splice(0, 2);
}
let json = false;
if (args[0] === "--json") {
  json = true;
  args.shift();
}
if (args.length === 0 || (!json && args.length > 1)) {
  console.error("usage: node scripts/jsonldcheck.mjs [--context URL=FILE]... FILE | --json FILE...");
  process.exit(2);
}

const documentLoader = async (url) => {
  if (!contexts.has(url)) throw new Error(`jsonldcheck: no local copy of ${url} (give --context ${url}=FILE)`);
  return { contextUrl: null, documentUrl: url, document: contexts.get(url) };
};

for (const file of args) {
  try {
    const doc = JSON.parse(readFileSync(file, "utf8"));
    const nquads = await jsonld.toRDF(doc, { format: "application/n-quads", documentLoader, safe: true });
    process.stdout.write(json ? JSON.stringify({ file, nquads }) + "\n" : nquads);
  } catch (e) {
    console.error(`jsonldcheck: ${file}: ${e.message ?? e}${e.details ? " " + JSON.stringify(e.details) : ""}`);
    process.exit(1);
  }
}
