import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createTestState, ROOT, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeCollector, startFakeCollector } from "./helpers/fake-otlp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const MODEL = "chutes/zai-org/GLM-5.1-TEE";
const RECORDER = pathToFileURL(path.join(ROOT, "test/helpers/record-imports.mjs")).href;

let chutes: FakeUpstream;
let collector: FakeCollector;
const states: TestState[] = [];

before(async () => {
  chutes = await startFakeChutes();
  collector = await startFakeCollector();
});
after(async () => {
  await collector.close();
  await chutes.close();
  for (const state of states) await state.cleanup();
});

/**
 * A real gateway whose every module resolution is recorded (a `--import` hook in the spawned
 * process), after one chat request and one scrape: what it loaded to serve them.
 */
async function modulesLoaded(env: NodeJS.ProcessEnv, metrics: { enabled?: boolean } = {}): Promise<string[]> {
  const state = await createTestState({ CHUTES_API_KEY: "cpk_lazy_load_test_00000000000" });
  states.push(state);
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: MODEL } },
    gateway: { metrics },
  });
  const record = path.join(state.root, "imports.txt");
  const gateway = await startGateway(state, ["--enable-endpoints"], {
    NODE_OPTIONS: `--import=${RECORDER}`,
    RECORD_IMPORTS_TO: record,
    ...env,
  });
  try {
    await gateway.client().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    const scrape = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
    assert.equal(scrape.status, metrics.enabled === false ? 404 : 200);
    await scrape.text();
    if (env.OTEL_EXPORTER_OTLP_ENDPOINT) await waitUntil(() => collector.spans.length > 0, { what: "a span exported" });
  } finally {
    await gateway.stop();
  }
  return (await readFile(record, "utf8")).split("\n").filter(Boolean);
}

const loads = (modules: string[], name: string) => modules.some((url) => url.includes(`/node_modules/${name}/`));

test("without OTEL_* the gateway never loads OpenTelemetry; prom-client loads for metrics", async () => {
  const modules = await modulesLoaded({});
  // The recorder sees the gateway's own modules and prom-client: it works.
  assert.ok(modules.some((url) => url.endsWith("/dist/gateway/server.js")));
  assert.ok(loads(modules, "prom-client"), "prom-client is loaded when metrics are on");
  assert.deepEqual(
    modules.filter((url) => url.includes("/node_modules/@opentelemetry/")),
    [],
  );
});

test("with OTEL_EXPORTER_OTLP_ENDPOINT set, the OpenTelemetry SDK and exporter load", async () => {
  const modules = await modulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: "50" });
  assert.ok(loads(modules, "@opentelemetry/sdk-trace"));
  assert.ok(loads(modules, "@opentelemetry/exporter-trace-otlp-http"));
});

test("with gateway.metrics.enabled false, prom-client is never loaded", async () => {
  const modules = await modulesLoaded({}, { enabled: false });
  assert.ok(modules.some((url) => url.endsWith("/dist/gateway/server.js")));
  assert.equal(loads(modules, "prom-client"), false);
});
