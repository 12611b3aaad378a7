import { createTestState, type TestState, writeConfig } from "./cli.js";
import type { FakeUpstream } from "./fake-upstream.js";
import { type RunningGateway, startGateway } from "./gateway.js";

/** The credentials key every replica and CLI of a test shares (32 bytes, base64). */
export const STATE_KEY = Buffer.alloc(32, 7).toString("base64");

/**
 * A machine of a replicated deployment: its own state dir (nothing shared on disk), the same
 * config (the provider at the fake upstream), PostgreSQL through OPENCLAW_DATABASE_URL.
 */
export async function replicaState(
  databaseUrl: string,
  upstream: FakeUpstream,
  env: NodeJS.ProcessEnv = {},
  gateway?: Record<string, unknown>,
): Promise<TestState> {
  const state = await createTestState({ OPENCLAW_DATABASE_URL: databaseUrl, OPENCLAW_STATE_KEY: STATE_KEY, ...env });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: upstream.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    ...(gateway ? { gateway } : {}),
  });
  return state;
}

export interface Replicas {
  states: TestState[];
  gateways: RunningGateway[];
  stop(): Promise<void>;
}

/** `count` gateway processes, started together, each on its own state dir. */
export async function startReplicas(
  count: number,
  databaseUrl: string,
  upstream: FakeUpstream,
  env: NodeJS.ProcessEnv = {},
): Promise<Replicas> {
  const states = await Promise.all(Array.from({ length: count }, () => replicaState(databaseUrl, upstream, env)));
  const gateways = await Promise.all(states.map((state) => startGateway(state)));
  return {
    states,
    gateways,
    async stop() {
      await Promise.all(gateways.map((gateway) => gateway.stop()));
      await Promise.all(states.map((state) => state.cleanup()));
    },
  };
}
