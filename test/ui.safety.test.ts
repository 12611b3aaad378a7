import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { launchBrowser, type TestBrowser } from "./helpers/browser.js";
import { createTestState, runCli, type TestState } from "./helpers/cli.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey } from "./helpers/keys.js";
import { after, before, test } from "./helpers/test.js";
import { type UiSession, uiCall, uiSignIn } from "./helpers/ui-client.js";

/**
 * What keeps the dashboard safe in a browser: its headers, its first-load weight, CSRF (a token
 * header and a same-origin check), framing, and who may sign in. The "attacker" is a page served
 * from another port on 127.0.0.1: another origin, but the same site, so SameSite cookies go along.
 */
let state: TestState;
let gateway: RunningGateway;
let browser: TestBrowser;
let attacker: Server;
let attackerUrl: string;
let session: UiSession;

function attackerPages(gatewayUrl: string): Record<string, string> {
  // A text/plain form can carry a JSON-looking body: the classic cross-site JSON post.
  return {
    "/logout": `<form id="f" method="post" action="${gatewayUrl}/ui/api/logout"></form><script>f.submit()</script>`,
    "/create-key": `<form id="f" method="post" enctype="text/plain" action="${gatewayUrl}/ui/api/keys"><input name='{"name":"csrf-evil","rpm":1,"x":"' value='"}'></form><script>f.submit()</script>`,
    "/frame": `<iframe id="f" src="${gatewayUrl}/ui/" width="800" height="600"></iframe><script>f.onload = () => { document.title = "frame-loaded"; }</script>`,
  };
}

before(async () => {
  state = await createTestState();
  gateway = await startGateway(state);
  const pages = attackerPages(gateway.url);
  attacker = createServer((request, response) => {
    const page = pages[request.url ?? ""];
    response.writeHead(page ? 200 : 404, { "content-type": "text/html" });
    response.end(page ? `<!doctype html><html><head><title>attacker</title></head><body>${page}</body></html>` : "");
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  session = await uiSignIn(gateway.url, GATEWAY_TOKEN);
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await gateway?.stop();
  await state?.cleanup();
});

async function signInInBrowser(): Promise<void> {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui`);
  await page.fill("#token", GATEWAY_TOKEN);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#page-overview");
}

test("the first load (fresh profile) fetches under 200 KB, its script and stylesheet compressed", async () => {
  const { page } = browser;
  let bytes = 0;
  const encodings = new Map<string, string | undefined>();
  const finished: Array<Promise<void>> = [];
  page.on("requestfinished", (request) => {
    finished.push(
      (async () => {
        const sizes = await request.sizes();
        bytes += sizes.responseBodySize + sizes.responseHeadersSize;
        const response = await request.response();
        encodings.set(new URL(request.url()).pathname, (await response?.allHeaders())?.["content-encoding"]);
      })(),
    );
  });
  await page.goto(`${gateway.url}/ui`);
  await page.waitForSelector("#login");
  await page.waitForLoadState("networkidle");
  await Promise.all(finished);
  page.removeAllListeners("requestfinished");
  const assets = [...encodings.keys()].filter((file) => file.startsWith("/ui/assets/"));
  assert.equal(assets.length, 2, [...encodings.keys()].join(", "));
  for (const file of assets) assert.match(encodings.get(file) ?? "identity", /^(br|gzip)$/, file);
  assert.ok(bytes > 0 && bytes < 200 * 1024, `first load fetched ${bytes} bytes`);
  await browser.screenshot("ui-login");
});

test("every /ui response carries the CSP (no framing, no inline script), X-Frame-Options, nosniff and no-referrer", async () => {
  const index = await fetch(`${gateway.url}/ui`);
  const script = /src="(\/ui\/assets\/app-[^"]+\.js)"/.exec(await index.text())?.[1];
  assert.ok(script);
  const responses = [
    index,
    await fetch(`${gateway.url}${script}`, { headers: { "accept-encoding": "gzip" } }),
    await fetch(`${gateway.url}/ui/api/keys`),
    await fetch(`${gateway.url}/ui/api/login`, { method: "POST", headers: { origin: gateway.url }, body: "{}" }),
  ];
  assert.deepEqual(
    responses.map((response) => response.status),
    [200, 200, 401, 400],
  );
  for (const response of responses) {
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  }
  assert.equal(responses[0]?.headers.get("cache-control"), "no-cache");
  assert.equal(responses[1]?.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(responses[1]?.headers.get("content-encoding"), "gzip");
  const identity = await fetch(`${gateway.url}${script}`, { headers: { "accept-encoding": "identity" } });
  assert.equal(identity.headers.get("content-encoding"), null);
  assert.ok((await identity.arrayBuffer()).byteLength > Number(responses[1]?.headers.get("content-length")));
});

test("a cross-site form post (a page on another 127.0.0.1 port) is refused with 403 and changes nothing", async () => {
  await signInInBrowser();
  const { page, context } = browser;
  for (const [path, route] of [
    ["/logout", "/ui/api/logout"],
    ["/create-key", "/ui/api/keys"],
  ] as const) {
    const [response] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url() === `${gateway.url}${route}`),
      page.goto(`${attackerUrl}${path}`),
    ]);
    assert.equal(response.status(), 403, `${path}: ${await response.text()}`);
  }
  // Still signed in (the logout was refused), and no key was made.
  assert.equal((await context.request.get(`${gateway.url}/ui/api/session`)).status(), 200);
  const keys = await runCli(state, ["keys", "list", "--json"]);
  assert.doesNotMatch(keys.stdout, /csrf-evil/);
});

test("the dashboard cannot be framed by another origin", async () => {
  const { page } = browser;
  await page.goto(`${attackerUrl}/frame`);
  await page.waitForFunction('document.title === "frame-loaded"');
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
  assert.ok(frame);
  assert.doesNotMatch(frame.url(), new RegExp(`^${gateway.url}`));
  assert.equal(await frame.locator("#app").count(), 0);
});

test("a change without the session's CSRF token is refused (403), with it accepted", async () => {
  const headers = { origin: gateway.url };
  const refused = await uiCall(gateway.url, session, "keys", { method: "POST", body: { name: "no-csrf" }, headers });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "csrf_token_invalid");
  const wrong = await uiCall(gateway.url, session, "keys", {
    method: "POST",
    body: { name: "no-csrf" },
    headers: { ...headers, "x-openclaw-csrf": `${session.csrf}x` },
  });
  assert.equal(wrong.status, 403);
  const accepted = await uiCall(gateway.url, session, "keys", {
    method: "POST",
    body: { name: "with-csrf" },
    headers: { ...headers, "x-openclaw-csrf": session.csrf },
  });
  assert.equal(accepted.status, 201);
  assert.doesNotMatch((await runCli(state, ["keys", "list", "--json"])).stdout, /no-csrf/);
});

test("a change with the right token but from another origin, or marked cross-site, is refused (403)", async () => {
  const body = { name: "other-origin" };
  const cases: Array<Record<string, string>> = [{ origin: attackerUrl }, { "sec-fetch-site": "same-site" }, { origin: "null" }, {}];
  for (const headers of cases) {
    const response = await uiCall(gateway.url, session, "keys", {
      method: "POST",
      body,
      headers: { ...headers, "x-openclaw-csrf": session.csrf },
    });
    assert.equal(response.status, 403, JSON.stringify(headers));
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "cross_site_request");
  }
  const login = await uiCall(gateway.url, undefined, "login", {
    method: "POST",
    body: { token: GATEWAY_TOKEN },
    headers: { origin: attackerUrl },
  });
  assert.equal(login.status, 403);
  assert.equal(login.headers.get("set-cookie"), null);
});

test("an API key cannot sign in to the dashboard (operator only), and no page shows a key's secret", async () => {
  const { secret } = await createLiveKey(state, gateway.url, "ui-api-key");
  const response = await uiCall(gateway.url, undefined, "login", {
    method: "POST",
    body: { token: secret },
    headers: { origin: gateway.url },
  });
  assert.equal(response.status, 403);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "operator_only");
  assert.equal(response.headers.get("set-cookie"), null);
  const listed = await (await uiCall(gateway.url, session, "keys")).text();
  assert.match(listed, /ui-api-key/);
  assert.equal(listed.includes(secret), false);
});

test("query values that name Object.prototype's members are refused like any unknown value (400), never a 500", async () => {
  for (const range of ["__proto__", "constructor", "toString", "zzz"]) {
    const answer = await uiCall(gateway.url, session, `series?range=${range}`);
    assert.equal(answer.status, 400, `range=${range}`);
    assert.equal(((await answer.json()) as { error: { param: string } }).error.param, "range");
  }
});
