import assert from "node:assert/strict";
import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { launchBrowser, type TestBrowser } from "./helpers/browser.js";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey } from "./helpers/keys.js";
import { after, before, test } from "./helpers/test.js";
import { eventually, waitUntil } from "./helpers/wait.js";

/**
 * The dashboard in a real headless Chromium against the real gateway: traffic made through the
 * official SDK shows up on each page. The tests run in order and share one signed-in browser.
 */
let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let browser: TestBrowser;
const SESSION_KEY = "ui-session-alpha";
const MARKER = "marker-transcript-7f3a";

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; messages: Array<{ content: string }> };
    const last = body.messages.at(-1)?.content ?? "";
    if (last === "fail please") return { status: 500, body: { error: { message: "upstream broke" } } };
    return { body: completion(`echo ${last}`, body.model) };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_ui_dashboard_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
  gateway = await startGateway(state);
  const client = gateway.client();
  for (let i = 0; i < 3; i++)
    await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: `plain request ${i}` }] });
  await gateway
    .client({ headers: { "x-openclaw-session-key": SESSION_KEY } })
    .chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: MARKER }] });
  await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "fail please" }] }).catch(() => undefined);
  await createLiveKey(state, gateway.url, "ui-existing-key", "--rpm", "60", "--budget", "5");
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await gateway?.stop();
  await chutes?.close();
  await state?.cleanup();
});

const text = (selector: string) => browser.page.locator(selector).innerText();

async function keysList(): Promise<Array<{ name: string; state: string }>> {
  const result = await runCli(state, ["keys", "list", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const { keys } = JSON.parse(result.stdout) as { keys: Array<{ name: string; usage: { state: string } }> };
  return keys.map((key) => ({ name: key.name, state: key.usage.state }));
}

test("a wrong gateway token is refused: the form says so and no session cookie is set", async () => {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui`);
  await page.fill("#token", "not-the-gateway-token");
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#login-error:not(:empty)");
  assert.match(await text("#login-error"), /invalid gateway token/);
  assert.equal((await browser.context.cookies()).length, 0);
  assert.equal(await page.locator("#page-overview").count(), 0);
  await browser.screenshot("ui-login-refused");
});

test("signing in with the gateway token: an HttpOnly SameSite=Strict cookie, no token in the URL, and the overview charts the traffic", async () => {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui`);
  await page.fill("#token", GATEWAY_TOKEN);
  await page.click("#login button[type=submit]");
  await page.waitForSelector("#page-overview .uplot");
  const [cookie] = await browser.context.cookies();
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, "Strict");
  assert.equal(cookie?.path, "/ui");
  assert.equal(await page.evaluate("document.cookie"), "");
  assert.doesNotMatch(page.url(), new RegExp(GATEWAY_TOKEN));
  // 5 requests through the SDK (one failed upstream): counted, one error, tokens of the 4 that answered.
  const requests = await eventually(
    () => text("#stat-requests .stat-value"),
    (value) => value === "5",
  );
  assert.equal(requests, "5");
  assert.equal(await text("#stat-errors .stat-value"), "20.0%");
  assert.equal(await text("#stat-tokens .stat-value"), "32");
  assert.notEqual(await text("#stat-p50 .stat-value"), "—");
  assert.equal(await page.locator("#page-overview .uplot").count(), 5);
  assert.match(await text("#usage-by-model"), /chutes\/Qwen\/Qwen3-32B-TEE/);
  await page.click(".range-picker button:text('24h')");
  await page.waitForSelector(".range-picker button.active:text('24h')");
  await browser.screenshot("ui-overview");
});

test("the models page lists the runtime catalog: provider, TEE status, context, prices, aliases", async () => {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui#/models`);
  await page.waitForSelector("#models-table");
  const row = page.locator("#models-table tr", { hasText: "chutes/Qwen/Qwen3-32B-TEE" });
  const cells = await row.locator("td").allInnerTexts();
  assert.equal(cells[1], "chutes");
  assert.match(cells[2] ?? "", /declared/);
  assert.match(cells[3] ?? "", /\d/);
  const listed = (await gateway.client().models.list()).data.map((model) => model.id);
  assert.equal(await page.locator("#models-table tbody tr").count(), listed.length);
  await browser.screenshot("ui-models");
});

test("the sessions page lists the keyed session, filters by text, and opens its transcript", async () => {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui#/sessions`);
  await page.waitForSelector("#sessions-table");
  assert.match(await text("#sessions-table"), new RegExp(SESSION_KEY));
  await page.fill("#filter-text", "no-such-session-text");
  await page.waitForSelector("#page-sessions .empty");
  await page.fill("#filter-text", "alpha");
  await page.waitForSelector("#sessions-table");
  await browser.screenshot("ui-sessions");
  await page.click(`a.session-link:text('${SESSION_KEY}')`);
  await page.waitForSelector("#transcript");
  const transcript = await text("#transcript");
  assert.match(transcript, new RegExp(MARKER));
  assert.match(transcript, new RegExp(`echo ${MARKER}`));
  await browser.screenshot("ui-transcript");
});

test("the keys page shows limits and budget use; a key created there is shown once, works, and is revoked from the page", async () => {
  const { page } = browser;
  await page.goto(`${gateway.url}/ui#/keys`);
  await page.waitForSelector("#keys-table");
  const existing = await page.locator("#keys-table tr", { hasText: "ui-existing-key" }).locator("td").allInnerTexts();
  assert.equal(existing[4], "60");
  assert.match(existing[7] ?? "", /\$0\.0000 of \$5\.00 \/ 30d/);
  await page.fill("#key-name", "ui-made-key");
  await page.fill("#create-key input[name=rpm]", "30");
  await page.click("#create-key button[type=submit]");
  const secret = await page.locator("#new-key-secret").inputValue();
  assert.match(secret, /^ock_/);
  await browser.screenshot("ui-keys-created");
  assert.ok((await keysList()).some((key) => key.name === "ui-made-key" && key.state === "active"));
  await waitUntil(async () => (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status === 200);
  // The secret lives only in that answer: a reload shows the key without it.
  await page.reload();
  await page.waitForSelector("#keys-table");
  assert.equal(await page.locator("#new-key-secret").count(), 0);
  assert.equal((await page.content()).includes(secret), false);
  page.once("dialog", (dialog) => void dialog.accept());
  await page.click("#keys-table button[data-revoke='ui-made-key']");
  await page.waitForSelector("#key-notice .ok");
  assert.ok((await keysList()).some((key) => key.name === "ui-made-key" && key.state === "revoked"));
  await waitUntil(async () => (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status === 401);
  await browser.screenshot("ui-keys-revoked");
});

test("the live log tail says when there is no log file, then follows lines as they are appended", async () => {
  const { page } = browser;
  const logFile = path.join(state.stateDir, "logs", "gateway.log");
  await page.goto(`${gateway.url}/ui#/logs`);
  // Whether this gateway writes the file or not, a line appended now must appear.
  await page.waitForSelector("#log-status:text-matches('No log file|Following')");
  await mkdir(path.dirname(logFile), { recursive: true });
  const line = {
    level: 30,
    time: Date.now(),
    msg: "request",
    requestId: "req_ui_tail_0001",
    method: "POST",
    path: "/v1/chat/completions",
    status: 200,
    ms: 12.5,
  };
  await appendFile(logFile, `${JSON.stringify(line)}\n`);
  await page.waitForSelector("#log-table tr:has-text('req_ui_tail_0001')");
  assert.match(await text("#log-status"), /Following/);
  await browser.screenshot("ui-logs");
});
