import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { GatewayContext } from "../src/gateway/context.js";
import { ensureObserver } from "../src/gateway/observability/start.js";
import { createTeeAttestor } from "../src/providers/chutes/tee/attestation/attestor.js";
import { type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { parsePrometheus, total } from "./helpers/prometheus-text.js";
import { after, before, test } from "./helpers/test.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
let fleet: FakeTeeFleet;

before(async () => {
  fleet = await startFakeTeeFleet({ now: T0 });
});
after(() => fleet.close());

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

test("attestation verdicts from the Chutes attestor reach the gateway's metrics: verified, failed, unavailable", async () => {
  // The gateway's observer as the gateway builds it (metrics on, no traces), over a context with
  // only what it reads; the attestor knows nothing of it: verdicts travel on a diagnostics channel.
  const ctx = { runtime: { config: { gateway: {} } }, auth: {} } as unknown as GatewayContext;
  const observer = await ensureObserver(ctx, {});
  assert.ok(observer?.scrape);

  const verified = await createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(verified.ok, true);
  fleet.pccs.failWith = 503;
  const failed = await createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);
  fleet.pccs.failWith = undefined;
  assert.equal(failed.ok, false);
  const unavailable = await createTeeAttestor({ ...fleet.attestorOptions({ apiBaseUrl: await deadUrl() }), now: () => T0 }).verifyChute(
    fleet.chute,
  );
  assert.ok(unavailable.error);

  const samples = parsePrometheus((await observer.scrape()).body);
  for (const result of ["verified", "failed", "unavailable"])
    assert.equal(total(samples, "openclaw_tee_attestations_total", { provider: "chutes", result }), 1, result);
  await observer.close();
});
