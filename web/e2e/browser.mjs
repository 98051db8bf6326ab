// Annals' web face in a real browser: Debian's Chromium, headless, driven by
// playwright-core (never a downloaded browser). One browser for every check:
// searches in three languages, the timeline down to 1941, an actor's events,
// labels in the reader's language, the print layout, an accessibility check
// (axe-core) of every kind of page, a screenshot of each, and the generated
// client (gen/es) calling the API over Connect and gRPC-Web from a page
// served by Annals, and from a web app of another origin (CORS).
//
//   ANNALS_HTTP=http://127.0.0.1:8080 CHROMIUM=/usr/bin/chromium \
//   ANNALS_ARTIFACTS=.cache/e2e node web/e2e/browser.mjs
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { check, done, env } from "./lib.mjs";

const base = env("ANNALS_HTTP");
const executablePath = env("CHROMIUM");
const artifacts = env("ANNALS_ARTIFACTS");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
await mkdir(artifacts, { recursive: true });

const pact = "/events/soviet-japanese-neutrality-pact.html";

const browser = await chromium.launch({
  executablePath,
  // As root Chromium needs --no-sandbox; the rest keeps it off the network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  await run();
} finally {
  await browser.close();
}
done();

async function run() {
  // Reading needs no JavaScript: the searches and the timeline run without it.
  const plain = await browser.newContext({ javaScriptEnabled: false, locale: "en-GB" });
  const page = await plain.newPage();
  page.setDefaultTimeout(15000);

  for (const query of ["neutrality", "нейтралитете", "日ソ中立条約"]) {
    await check(`search for "${query}" from the home page finds the pact`, async () => {
      await page.goto(`${base}/`);
      await page.fill("#home-search", query);
      await Promise.all([page.waitForURL(/\/search\?/), page.press("#home-search", "Enter")]);
      const hits = await page.locator(`main a[href="${pact}"]`).count();
      assert.ok(hits > 0, `no link to the pact on ${page.url()}`);
    });
  }

  await check("the timeline reaches 1941 and lists the pact", async () => {
    await page.goto(`${base}/`);
    for (const name of ["The whole timeline", "20th century", "1940s", "1941"]) {
      await Promise.all([page.waitForLoadState(), page.getByRole("link", { name, exact: true }).first().click()]);
    }
    assert.match(page.url(), /\/timeline\/1941$/);
    assert.equal(await page.locator("h1").innerText(), "1941");
    assert.ok(await page.locator(`main a[href="${pact}"]`).count() > 0, "the pact is not listed under 1941");
  });

  await check("the pact links to Molotov by name, whose page lists his events", async () => {
    await page.goto(`${base}${pact}`);
    const link = page.locator("main a", { hasText: "Vyacheslav Molotov" }).first();
    assert.equal(await link.getAttribute("href"), "/actors/vyacheslav-molotov.html");
    await Promise.all([page.waitForURL(/vyacheslav-molotov\.html$/), link.click()]);
    const events = page.locator("main ol.events a");
    assert.ok(await events.count() >= 1, "no events listed");
    assert.ok(await page.locator(`main ol.events a[href="${pact}"]`).count() === 1, "the pact is not among his events");
    assert.ok(await page.locator('a[href="https://www.wikidata.org/wiki/Q132899"]').count() === 1, "no Wikidata link");
  });
  await plain.close();

  await check("a Russian reader gets Russian labels, marked with lang", async () => {
    const ru = await browser.newContext({ locale: "ru-RU" });
    const p = await ru.newPage();
    await p.goto(`${base}${pact}`);
    assert.equal(await p.locator("html").getAttribute("lang"), "en");
    assert.equal(await p.locator("h1 span[lang=ru]").innerText(), "Пакт о нейтралитете между СССР и Японией");
    await ru.close();
  });

  const ctx = await browser.newContext({ locale: "en-GB", viewport: { width: 1200, height: 900 } });
  const axeSource = await readFile(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");
  const p = await ctx.newPage();
  p.setDefaultTimeout(15000);

  // The source's page is linked from the pact's.
  await p.goto(`${base}${pact}`);
  const source = await p.locator('main a[href^="/sources/"]').first().getAttribute("href");
  const pages = [
    ["home", "/", 200],
    ["event", pact, 200],
    ["actor", "/actors/vyacheslav-molotov.html", 200],
    ["place", "/places/moscow.html", 200],
    ["source", source, 200],
    ["events", "/events?start_date=1939&end_date=1945", 200],
    ["search", "/search?query=%E6%97%A5%E3%82%BD%E4%B8%AD%E7%AB%8B%E6%9D%A1%E7%B4%84", 200],
    ["timeline", "/timeline", 200],
    ["timeline-period", "/timeline/1940s", 200],
    ["on-this-day", "/on-this-day?month=4&day=13", 200],
    ["actors", "/actors", 200],
    ["places", "/places", 200],
    ["error", "/events?month=13", 400],
  ];
  const report = [];
  for (const [name, url, status] of pages) {
    await check(`${name} page (${url}): no serious accessibility violation; screenshot`, async () => {
      const resp = await p.goto(`${base}${url}`);
      assert.equal(resp.status(), status);
      await p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
      await p.addScriptTag({ content: axeSource });
      const result = await p.evaluate(async () => await globalThis.axe.run(document, { resultTypes: ["violations"] }));
      for (const v of result.violations) {
        report.push(`${name}: ${v.impact} ${v.id} (${v.nodes.length}): ${v.help}`);
      }
      const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      assert.deepEqual(serious.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), []);
    });
  }
  await writeFile(path.join(artifacts, "axe.txt"), report.length ? report.join("\n") + "\n" : "no violations\n");

  await check("the print layout drops the navigation and the forms", async () => {
    await p.goto(`${base}${pact}`);
    await p.emulateMedia({ media: "print" });
    await p.screenshot({ path: path.join(artifacts, "event-print.png"), fullPage: true });
    assert.equal(await p.locator("header.site nav").evaluate((e) => getComputedStyle(e).display), "none");
    assert.equal(await p.locator("header.site form").evaluate((e) => getComputedStyle(e).display), "none");
    await p.emulateMedia({ media: "screen" });
  });

  await check("the generated client calls the API over Connect and gRPC-Web from a page served by Annals", async () => {
    await serveModules(p);
    await p.goto(`${base}/`);
    await p.evaluate((map) => {
      const s = document.createElement("script");
      s.type = "importmap";
      s.textContent = JSON.stringify(map);
      document.head.append(s);
    }, await importMap());
    const got = await p.evaluate(async () => {
      const { createClient } = await import("@connectrpc/connect");
      const { createConnectTransport, createGrpcWebTransport } = await import("@connectrpc/connect-web");
      const { ArchiveService } = await import("/__e2e__/gen/es/annals/v1/archive_service_pb.js");
      const out = {};
      for (const [name, transport] of [
        ["connect", createConnectTransport({ baseUrl: location.origin })],
        ["connect+proto", createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true })],
        ["grpc-web", createGrpcWebTransport({ baseUrl: location.origin })],
      ]) {
        const client = createClient(ArchiveService, transport);
        const ev = await client.getEvent({ name: "events/soviet-japanese-neutrality-pact" });
        const list = await client.listEvents({ startDate: { year: 1939 }, endDate: { year: 1945 } });
        let notFound;
        try {
          await client.getEvent({ name: "events/no-such-event" });
        } catch (err) {
          notFound = { code: err.code, message: err.rawMessage, details: err.details.map((d) => d.type) };
        }
        out[name] = {
          label: ev.event.labels.find((l) => l.language === "ja")?.value,
          year: ev.event.date.year,
          events: list.events.map((e) => e.name),
          notFound,
        };
      }
      return out;
    });
    for (const [name, r] of Object.entries(got)) {
      assert.equal(r.label, "日ソ中立条約", name);
      assert.equal(r.year, 1941, name);
      assert.equal(r.events.length, 7, `${name}: ${r.events}`);
      assert.deepEqual(r.notFound, got.connect.notFound, `${name}'s error differs from Connect's`);
    }
    assert.equal(got.connect.notFound.code, 5, "NotFound");
    assert.deepEqual(got.connect.notFound.details, ["google.rpc.ErrorInfo", "google.rpc.ResourceInfo"]);
  });
  await check("a web app of another origin calls the API (CORS), over Connect and gRPC-Web", async () => {
    // A web app's own site, as a developer runs one: a server on another
    // port of this machine (another origin) serving a page and the client's
    // modules. The page calls Annals cross-origin, preflights and all.
    const map = await importMap();
    const app = createServer(async (req, res) => {
      const url = new URL(req.url, "http://app");
      if (url.pathname === "/") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(`<!doctype html><html lang="en"><title>app</title><script type="importmap">${JSON.stringify(map)}</script><h1>app</h1></html>`);
        return;
      }
      const file = moduleFile(url.pathname);
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(await readFile(file));
    });
    await new Promise((resolve) => app.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${app.address().port}`;
    try {
      const q = await ctx.newPage();
      await q.goto(`${origin}/`);
      const got = await q.evaluate(async (api) => {
        const { createClient } = await import("@connectrpc/connect");
        const { createConnectTransport, createGrpcWebTransport } = await import("@connectrpc/connect-web");
        const { ArchiveService } = await import("/__e2e__/gen/es/annals/v1/archive_service_pb.js");
        const out = [];
        for (const transport of [createConnectTransport({ baseUrl: api }), createGrpcWebTransport({ baseUrl: api })]) {
          const client = createClient(ArchiveService, transport);
          const { events } = await client.listEvents({ query: "日ソ中立条約" });
          let code;
          try {
            await client.importDocument({ text: "1941\n", validateOnly: true }, { headers: { authorization: "Bearer wrong" } });
          } catch (err) {
            code = err.code;
          }
          out.push({ origin: location.origin, events: events.map((e) => e.name), importCode: code });
        }
        return out;
      }, base);
      for (const r of got) {
        assert.equal(r.origin, origin);
        assert.notEqual(r.origin, new URL(base).origin);
        assert.deepEqual(r.events, ["events/soviet-japanese-neutrality-pact"]);
        assert.equal(r.importCode, 16, "Unauthenticated");
      }
      await q.close();
    } finally {
      app.close();
    }
  });
  await ctx.close();
  console.log(`notes from axe (moderate and minor too):\n  ${report.join("\n  ") || "none"}`);
}

// The browser loads the generated client and its npm dependencies from the
// Annals origin, under /__e2e__/: the test answers those requests from this
// checkout (gen/es, node_modules) so that the page and the API share an origin.
async function serveModules(page) {
  await page.route(`${base}/__e2e__/**`, async (route) => {
    const file = moduleFile(new URL(route.request().url()).pathname);
    if (!file) {
      return route.fulfill({ status: 404, body: "not a module of the test" });
    }
    return route.fulfill({ status: 200, contentType: "text/javascript", body: await readFile(file) });
  });
}

// moduleFile is the file of this checkout a /__e2e__/ path names, if it is
// a module of gen/es or node_modules.
function moduleFile(pathname) {
  if (!pathname.startsWith("/__e2e__/")) {
    return "";
  }
  const file = path.resolve(root, decodeURIComponent(pathname.slice("/__e2e__/".length)));
  const allowed = [path.join(root, "gen", "es") + path.sep, path.join(root, "node_modules") + path.sep];
  return allowed.some((dir) => file.startsWith(dir)) && file.endsWith(".js") ? file : "";
}

// importMap maps the npm packages the client imports to their ES modules.
async function importMap() {
  const imports = {};
  for (const pkg of ["@bufbuild/protobuf", "@connectrpc/connect", "@connectrpc/connect-web"]) {
    const manifest = JSON.parse(await readFile(path.join(root, "node_modules", pkg, "package.json"), "utf8"));
    for (const [sub, target] of Object.entries(manifest.exports)) {
      const file = typeof target === "string" ? target : target.import?.default ?? target.import ?? target.default;
      if (typeof file !== "string" || !file.endsWith(".js")) {
        continue;
      }
      imports[pkg + sub.slice(1)] = `/__e2e__/node_modules/${pkg}/${file.replace(/^\.\//, "")}`;
    }
  }
  return { imports };
}
