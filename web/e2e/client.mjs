// The generated client (gen/es) from Node, over every protocol Annals
// speaks: gRPC on its gRPC port, and the Connect protocol (binary and JSON)
// and gRPC-Web on its HTTP port. Every protocol must get the same records,
// and the same codes, messages and details for every error.
//
//   ANNALS_HTTP=http://127.0.0.1:8080 ANNALS_GRPC=http://127.0.0.1:50051 \
//   ANNALS_IMPORT_TOKEN=… node web/e2e/client.mjs
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createClient, Code } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { toJsonString } from "@bufbuild/protobuf";
import {
  ArchiveService, GetEventResponseSchema, ListEventsResponseSchema, ImportDocumentResponseSchema,
} from "../../gen/es/annals/v1/archive_service_pb.js";
import { ExportService, RdfFormat } from "../../gen/es/annals/v1/export_service_pb.js";
import { check, done, env, failure } from "./lib.mjs";

const http = env("ANNALS_HTTP");
const grpc = env("ANNALS_GRPC");
const token = env("ANNALS_IMPORT_TOKEN");

const transports = {
  "grpc": createGrpcTransport({ baseUrl: grpc }),
  "connect": createConnectTransport({ baseUrl: http, httpVersion: "1.1", useBinaryFormat: true }),
  "connect+json": createConnectTransport({ baseUrl: http, httpVersion: "1.1" }),
  "grpc-web": createGrpcWebTransport({ baseUrl: http, httpVersion: "1.1", useBinaryFormat: true }),
  "grpc-web+json": createGrpcWebTransport({ baseUrl: http, httpVersion: "1.1" }),
};
const archive = Object.fromEntries(Object.entries(transports).map(([n, t]) => [n, createClient(ArchiveService, t)]));
const exports = Object.fromEntries(Object.entries(transports).map(([n, t]) => [n, createClient(ExportService, t)]));

// overAll makes call on every protocol and returns what each got.
async function overAll(call) {
  const out = {};
  for (const name of Object.keys(transports)) {
    try {
      out[name] = { ok: await call(name) };
    } catch (err) {
      out[name] = { err: failure(err) };
    }
  }
  return out;
}

// same asserts that every protocol got what gRPC got, and returns it.
function same(results) {
  const want = results.grpc;
  for (const [name, got] of Object.entries(results)) {
    assert.deepEqual(got, want, `${name} differs from gRPC`);
  }
  return want;
}

const pact = "events/soviet-japanese-neutrality-pact";

await check("GetEvent: the pact, the same over every protocol", async () => {
  const got = same(await overAll(async (n) =>
    toJsonString(GetEventResponseSchema, await archive[n].getEvent({ name: pact }))));
  const ev = JSON.parse(got.ok).event;
  assert.equal(ev.name, pact);
  assert.equal(ev.date.year, 1941);
  assert.ok(ev.labels.some((l) => l.language === "ja" && l.value === "日ソ中立条約"), "the Japanese label");
});

await check("ListEvents: 1939 to 1945 without precision gives the seven events", async () => {
  const got = same(await overAll(async (n) =>
    toJsonString(ListEventsResponseSchema, await archive[n].listEvents({ startDate: { year: 1939 }, endDate: { year: 1945 } }))));
  const names = JSON.parse(got.ok).events.map((e) => e.name);
  assert.equal(names.length, 7, names.join(", "));
  assert.ok(names.includes(pact));
});

await check("ListEvents: paging walks the same pages", async () => {
  same(await overAll(async (n) => {
    const names = [];
    let pageToken = "";
    do {
      const page = await archive[n].listEvents({ pageSize: 2, pageToken });
      names.push(...page.events.map((e) => e.name));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return names;
  }));
});

await check("ListEvents: full text in Russian and Japanese", async () => {
  for (const query of ["neutrality", "нейтралитете", "日ソ中立条約"]) {
    const got = same(await overAll(async (n) => (await archive[n].listEvents({ query })).events.map((e) => e.name)));
    assert.ok(got.ok.includes(pact), `${query}: ${got.ok}`);
  }
});

// Errors: each must be the same code, message and details everywhere.
const errors = [
  ["GetEvent of an unknown event", Code.NotFound, (n) => archive[n].getEvent({ name: "events/no-such-event" })],
  ["GetEvent of a malformed name", Code.InvalidArgument, (n) => archive[n].getEvent({ name: "events/../x" })],
  ["GetEvent without a name", Code.InvalidArgument, (n) => archive[n].getEvent({})],
  ["ListEvents with bad fields", Code.InvalidArgument, (n) => archive[n].listEvents({ month: 13, day: 40, pageSize: -1 })],
  ["ListEvents with a day but no month in a date", Code.InvalidArgument, (n) => archive[n].listEvents({ startDate: { year: 1941, day: 3 } })],
  ["ListEvents with a made-up page token", Code.InvalidArgument, (n) => archive[n].listEvents({ pageToken: "abc" })],
  ["ListEvents with a query of no words", Code.InvalidArgument, (n) => archive[n].listEvents({ query: "*" })],
  ["ImportDocument without a token", Code.Unauthenticated, (n) => archive[n].importDocument({ text: "1941\n", validateOnly: true })],
  ["ImportDocument with a wrong token", Code.Unauthenticated,
    (n) => archive[n].importDocument({ text: "1941\n", validateOnly: true }, { headers: { authorization: "Bearer nope" } })],
  ["ImportDocument of an impossible date", Code.InvalidArgument,
    (n) => archive[n].importDocument({ filename: "feb.txt", text: "February 30, 1941\n\nA meeting.\n" }, { headers: { authorization: `Bearer ${token}` } })],
  ["ExportResource of an unknown format", Code.InvalidArgument, (n) => exports[n].exportResource({ name: "places/moscow", format: 99 })],
];
for (const [name, code, call] of errors) {
  await check(`${name}: ${Code[code]}, the same over every protocol`, async () => {
    const got = same(await overAll(call));
    assert.ok(got.err, `no error: ${JSON.stringify(got)}`);
    assert.equal(got.err.code, code, got.err.message);
    assert.ok(got.err.details.some((d) => d.startsWith("google.rpc.ErrorInfo ")), `no ErrorInfo: ${got.err.details}`);
  });
}

await check("ImportDocument with the token: validated the same over every protocol", async () => {
  const doc = "June 2, 1802\n\nA harbour opened.\n\nPort Alder, Westmark | Town Council of Alder\n\nAlder Harbour Opening\n\nBackground\n\nA long story.\n";
  const got = same(await overAll(async (n) => toJsonString(ImportDocumentResponseSchema,
    await archive[n].importDocument({ filename: "harbour.txt", text: doc, validateOnly: true }, { headers: { authorization: `Bearer ${token}` } }))));
  assert.equal(JSON.parse(got.ok).event, "events/alder-harbour-opening");
});

await check("ExportDataset: the same dump streamed over every protocol", async () => {
  const got = same(await overAll(async (n) => {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of exports[n].exportDataset({ format: RdfFormat.N_TRIPLES })) {
      hash.update(chunk.data);
      bytes += chunk.data.byteLength;
    }
    return { bytes, sha256: hash.digest("hex") };
  }));
  assert.ok(got.ok.bytes > 1000, `a dump of ${got.ok.bytes} bytes`);
});

done();
