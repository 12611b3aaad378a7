import { type ChildProcess, spawn } from "node:child_process";
import { CLI, createTestState, runCli, type TestState, writeConfig } from "../test/helpers/cli.js";
import { startPostgres } from "../test/helpers/postgres-server.js";
import { startRedisServer } from "../test/helpers/redis-server.js";
import { firstLine, startScript, stop } from "./processes.js";

export const TOKEN = "bench-gateway-token-0123456789abcdef";
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface BenchGateway {
  child: ChildProcess;
  pid: number;
  url: string;
}

/** The fake upstream in its own process; `slowEvents` is how many events a `bench-slow` stream sends. */
export function startUpstream(slowEvents = 50) {
  return startScript("./upstream-server.ts", [String(slowEvents)]);
}

/** The bare proxy (the ceiling) in its own process, in front of the upstream's origin. */
export function startProxy(upstreamUrl: string, readUsage = false) {
  return startScript("./bare-proxy.ts", [new URL(upstreamUrl).origin, ...(readUsage ? ["--read-usage"] : [])]);
}

/**
 * A state dir whose config has every feature on: bearer auth with rate limiting, agent routing,
 * usage accounting and request records, both optional endpoints. The per-client and upstream
 * connection caps are raised so the slow-stream bench can hold its thousand streams from one
 * address; they cost nothing per request.
 */
export async function createBenchState(upstreamUrl: string, redisUrl?: string, databaseUrl?: string): Promise<TestState> {
  const state = await createTestState({
    OPENCLAW_GATEWAY_TOKEN: TOKEN,
    ...(redisUrl ? { OPENCLAW_REDIS_URL: redisUrl } : {}),
    ...(databaseUrl ? { OPENCLAW_DATABASE_URL: databaseUrl } : {}),
  });
  await writeConfig(state, {
    models: {
      providers: {
        bench: {
          baseUrl: upstreamUrl,
          models: [{ id: "bench-model", cost: { input: 0.1, output: 0.4 } }, { id: "bench-slow" }],
        },
      },
    },
    agents: { defaults: { model: { primary: "bench/bench-model" } } },
    gateway: {
      auth: { rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 60_000 } },
      http: {
        endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } },
        maxConnectionsPerClient: 4096,
        upstreamMaxConnections: 4096,
      },
      ...(process.env.BENCH_METRICS === "off" ? { metrics: { enabled: false } } : {}),
    },
  });
  await runCli(state, ["models", "list"]); // warm the catalog cache, as a user's gateway would have it
  if (process.env.BENCH_API_KEY === "1") {
    // Every limit on, none reachable: the cost of checking them, not of refusals.
    const created = await runCli(state, [
      "keys",
      "create",
      "--name",
      "bench",
      "--rpm",
      "1000000000",
      "--tpm",
      "1000000000000",
      "--max-parallel",
      "100000",
      "--budget",
      "1000000",
    ]);
    AUTH.authorization = `Bearer ${created.stdout.trim()}`;
  }
  return state;
}

/** `openclaw gateway` on port 0, resolved once it prints that it is listening. */
export async function startGateway(state: TestState): Promise<BenchGateway> {
  const child = spawn(process.execPath, [CLI, "gateway", "--port", "0"], { env: state.env, stdio: ["ignore", "ignore", "pipe"] });
  const url = await firstLine(child, "stderr", /listening on (http:\/\/\S+)/);
  return { child, pid: child.pid as number, url };
}

/** Runs `body` with an upstream and a bench state, and tears both down after. */
export async function withUpstream<T>(
  slowEvents: number,
  body: (upstreamUrl: string, state: TestState, upstreamPid: number) => Promise<T>,
): Promise<T> {
  const upstream = await startUpstream(slowEvents);
  // BENCH_REDIS=1: a real redis-server, and the gateway's limits, lockouts and cooldowns shared through it.
  const redis = process.env.BENCH_REDIS === "1" ? await startRedisServer() : undefined;
  if (redis) console.log(`  (shared state on Redis ${redis.url})`);
  // BENCH_POSTGRES=1: a real PostgreSQL holds the ledger, keys and stored responses instead of SQLite.
  const postgres = process.env.BENCH_POSTGRES === "1" ? await startPostgres() : undefined;
  const databaseUrl = postgres ? await postgres.createDatabase("bench") : undefined;
  if (postgres) console.log(`  (records in PostgreSQL on port ${postgres.port})`);
  const state = await createBenchState(upstream.url, redis?.url, databaseUrl);
  try {
    return await body(upstream.url, state, upstream.child.pid as number);
  } finally {
    await stop(upstream.child);
    await redis?.stop();
    await postgres?.destroy();
    await state.cleanup();
  }
}
