#!/usr/bin/env node
// shacl: validates an RDF file against SHACL shapes with rdf-validate-shacl
// (a SHACL Core validator; files are parsed by N3.js), and prints the report.
//
// Usage:
//   node scripts/shacl.mjs SHAPES.ttl DATA...
//
// Each DATA file (.ttl or .nt) is validated on its own. Output is one JSON
// object a line on stdout, one per DATA file:
//   {"file": DATA, "triples": N, "conforms": true|false,
//    "results": [{"focusNode": "<…>", "path": "<…>"|null, "sourceShape": "<…>"|"_:…",
//                 "component": "<…>", "value": "…"|null, "message": "…"}]}
// Terms are written as in N-Triples. The exit status is 0 when every file
// was read and validated (whether it conforms or not: the caller decides),
// 1 when a file cannot be read or parsed.
import { readFileSync } from "node:fs";
import N3 from "n3";
import SHACLValidator from "rdf-validate-shacl";

function usage(msg) {
  if (msg) console.error(`shacl: ${msg}`);
  console.error("usage: node scripts/shacl.mjs SHAPES.ttl DATA...");
  process.exit(2);
}

function load(file) {
  const format = file.endsWith(".nt") ? "N-Triples" : "text/turtle";
  const store = new N3.Store();
  try {
    store.addQuads(new N3.Parser({ format, baseIRI: "file:///" + file }).parse(readFileSync(file, "utf8")));
  } catch (e) {
    console.error(`shacl: ${file}: ${e.message ?? e}`);
    process.exit(1);
  }
  return store;
}

function term(t) {
  if (!t) return null;
  switch (t.termType) {
    case "NamedNode":
      return `<${t.value}>`;
    case "BlankNode":
      return `_:${t.value}`;
    case "Literal":
      return JSON.stringify(t.value) + (t.language ? `@${t.language}` : `^^<${t.datatype.value}>`);
    default:
      return String(t.value);
  }
}

const [shapesFile, ...dataFiles] = process.argv.slice(2);
if (!shapesFile || dataFiles.length === 0) usage("need SHAPES and at least one DATA file");
const validator = new SHACLValidator(load(shapesFile));
for (const file of dataFiles) {
  const data = load(file);
  const report = await validator.validate(data);
  const results = report.results.map((r) => ({
    focusNode: term(r.focusNode),
    path: term(r.path),
    sourceShape: term(r.sourceShape),
    component: term(r.sourceConstraintComponent),
    value: term(r.value),
    message: (r.message ?? []).map((m) => m.value).join("; "),
  }));
  console.log(JSON.stringify({ file, triples: data.size, conforms: report.conforms, results }));
}
