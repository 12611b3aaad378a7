import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createTestState, ROOT, type TestState } from "./helpers/cli.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

/** A gateway that never serves /ui never loads the dashboard's code: start-up and the API pay nothing for it. */
let state: TestState;
let gateway: RunningGateway;
let trace: string;

before(async () => {
  state = await createTestState();
  trace = path.join(state.root, "loaded-modules.txt");
  const hook = pathToFileURL(path.join(ROOT, "test/helpers/load-trace.mjs")).href;
  gateway = await startGateway(state, ["--enable-endpoints"], {
    NODE_OPTIONS: `--import=${hook}`,
    OPENCLAW_TEST_LOAD_TRACE: trace,
  });
});
after(async () => {
  await gateway?.stop();
  await state?.cleanup();
});

const loaded = async () => (await readFile(trace, "utf8").catch(() => "")).split("\n").filter(Boolean);
const dashboardModules = (urls: string[]) => urls.filter((url) => url.includes("/gateway/ui/"));

test("the API is served without loading any of the dashboard's modules; the first /ui request loads them", async () => {
  const models = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(models.status, 200);
  // The routes were loaded (the trace works), and nothing of /ui with them.
  const before = await waitUntil(async () => {
    const urls = await loaded();
    return urls.some((url) => url.endsWith("/gateway/route-table.js")) ? urls : undefined;
  });
  assert.deepEqual(dashboardModules(before), []);
  assert.equal((await fetch(`${gateway.url}/ui`)).status, 200);
  const after = await waitUntil(async () => {
    const urls = dashboardModules(await loaded());
    return urls.length > 0 ? urls : undefined;
  });
  assert.ok(after.some((url) => url.endsWith("/gateway/ui/ui-route.js")));
});
