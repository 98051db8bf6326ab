// Helpers shared by the end-to-end scripts that cmd/annals' TestWebEndToEnd
// runs against the real binary: a small test runner and the canonical form
// of error details.
import { BinaryReader } from "@bufbuild/protobuf/wire";

const failures = [];

// check runs one named check; a thrown error is a failure, reported at the end.
export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (err) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(err?.stack ?? err).split("\n").join("\n     ")}`);
  }
}

// done exits with status 1 if any check failed.
export function done() {
  if (failures.length > 0) {
    console.log(`${failures.length} check(s) failed: ${failures.join("; ")}`);
    process.exit(1);
  }
  console.log("all checks passed");
}

// env returns the environment variable name, which must be set.
export function env(name) {
  const v = process.env[name];
  if (!v) {
    console.log(`FAIL the environment lacks ${name}`);
    process.exit(2);
  }
  return v;
}

// canonicalDetail is an error detail as a comparable string: its type and
// its top-level fields, sorted (the order of map entries such as
// google.rpc.ErrorInfo's metadata is not fixed in protobuf encodings).
export function canonicalDetail(d) {
  const r = new BinaryReader(d.value);
  const fields = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    fields.push(`${no}:${Buffer.from(r.skip(wt, no)).toString("hex")}`);
  }
  return `${d.type} {${fields.sort().join(" ")}}`;
}

// failure is what a failed call got: code, message and canonical details.
export function failure(err) {
  if (err?.code === undefined || err?.rawMessage === undefined) {
    throw new Error(`not a ConnectError: ${err}`);
  }
  return { code: err.code, message: err.rawMessage, details: err.details.map(canonicalDetail) };
}
