import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CLI, createTestState, writeConfig } from "../test/helpers/cli.js";
import { type LoadResult, runLoad } from "./load.js";
import { ms } from "./stats.js";

const TOKEN = "bench-gateway-token-0123456789abcdef";

function firstLine(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const source = child[stream];
    if (!source) return reject(new Error("no stream"));
    createInterface({ input: source }).on("line", (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match[1] ?? line);
    });
    child.once("exit", () => reject(new Error(`process exited before printing ${pattern}`)));
  });
}

const proc = (pid: number, file: string) => (existsSync(`/proc/${pid}/${file}`) ? readFileSync(`/proc/${pid}/${file}`, "utf8") : "");
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(proc(pid, "status"))?.[1] ?? 0) / 1024;
/** User + system CPU time of a process, in ms (Linux; 0 elsewhere). */
function cpuMs(pid: number): number {
  const fields = proc(pid, "stat").split(") ")[1]?.split(" ");
  return fields ? (Number(fields[11]) + Number(fields[12])) * 10 : 0;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

interface Scenario {
  name: string;
  direct: { url: string; body: string; headers: Record<string, string> };
  gateway: { url: string; body: string; headers: Record<string, string> };
}

interface Rounds {
  direct: LoadResult[];
  gateway: LoadResult[];
  cpuPerRequestUs: number[];
}

const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];

/**
 * Direct-to-upstream against through-the-gateway, interleaved in rounds so that a noisy
 * neighbour hits both sides alike; medians are reported. Also the gateway's own CPU time per
 * request, which moves much less with the machine's load than throughput does.
 */
export async function benchGateway(seconds = 3, rounds = 3, connections = 10): Promise<void> {
  const upstream = spawn(process.execPath, ["--import", "tsx", new URL("./upstream-server.ts", import.meta.url).pathname], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const upstreamUrl = await firstLine(upstream, "stdout", /^(http:\/\/\S+)$/);
  const state = await createTestState({ OPENCLAW_GATEWAY_TOKEN: TOKEN });
  // Every feature on: bearer auth with rate limiting, agent routing, usage accounting in SQLite, request logs.
  await writeConfig(state, {
    models: { providers: { bench: { baseUrl: upstreamUrl, models: [{ id: "bench-model", cost: { input: 0.1, output: 0.4 } }] } } },
    agents: { defaults: { model: { primary: "bench/bench-model" } } },
    gateway: {
      auth: { rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 60_000 } },
      http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
    },
  });
  const gateway = spawn(process.execPath, [CLI, "gateway", "--port", "0"], { env: state.env, stdio: ["ignore", "ignore", "pipe"] });
  const gatewayUrl = await firstLine(gateway, "stderr", /listening on (http:\/\/\S+)/);
  const pid = gateway.pid as number;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const chat = (stream: boolean): Scenario => ({
    name: stream ? "chat, stream (20 chunks)" : "chat, JSON",
    direct: {
      url: `${upstreamUrl}/chat/completions`,
      body: JSON.stringify({ model: "bench-model", messages: MESSAGES, stream }),
      headers: {},
    },
    gateway: {
      url: `${gatewayUrl}/v1/chat/completions`,
      body: JSON.stringify({ model: "openclaw", messages: MESSAGES, stream, user: "bench" }),
      headers: auth,
    },
  });
  const scenarios: Scenario[] = [
    chat(false),
    chat(true),
    {
      name: "/v1/responses vs chat JSON",
      direct: chat(false).direct,
      gateway: {
        url: `${gatewayUrl}/v1/responses`,
        body: JSON.stringify({ model: "openclaw", input: "Say hello in one short sentence.", store: false }),
        headers: auth,
      },
    },
    {
      name: "/v1/embeddings (base64)",
      direct: { url: `${upstreamUrl}/embeddings`, body: JSON.stringify({ model: "bench-embed", input: "hello" }), headers: {} },
      gateway: {
        url: `${gatewayUrl}/v1/embeddings`,
        body: JSON.stringify({ model: "bench/bench-embed", input: "hello", encoding_format: "base64" }),
        headers: auth,
      },
    },
  ];
  try {
    // Warm up every path (JIT, connection pools, catalog).
    for (const scenario of scenarios) {
      await runLoad({ ...scenario.direct, connections, seconds: 1 });
      await runLoad({ ...scenario.gateway, connections, seconds: 1 });
    }
    const idleRss = rssMb(pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(pid));
    }, 250);
    const results = new Map<Scenario, Rounds>();
    for (const scenario of scenarios) {
      const entry: Rounds = { direct: [], gateway: [], cpuPerRequestUs: [] };
      for (let round = 0; round < rounds; round++) {
        entry.direct.push(await runLoad({ ...scenario.direct, connections, seconds }));
        const before = cpuMs(pid);
        const through = await runLoad({ ...scenario.gateway, connections, seconds });
        entry.gateway.push(through);
        entry.cpuPerRequestUs.push(((cpuMs(pid) - before) * 1000) / Math.max(1, through.requests));
      }
      results.set(scenario, entry);
    }
    clearInterval(sampler);

    console.log(
      `\nGateway overhead: ${connections} connections, closed loop, every feature on; medians of ${rounds} interleaved rounds of ${seconds} s`,
    );
    console.log(
      `  ${"".padEnd(28)} ${"direct".padStart(20)}   ${"through the gateway".padStart(22)}   ratio   added p50   added p99   gateway CPU/req`,
    );
    for (const [scenario, entry] of results) {
      const directRps = median(entry.direct.map((r) => r.rps));
      const gatewayRps = median(entry.gateway.map((r) => r.rps));
      const p50 = (list: LoadResult[]) => median(list.map((r) => r.latency.p50));
      const p99 = (list: LoadResult[]) => median(list.map((r) => r.latency.p99));
      const first = (list: LoadResult[]) => median(list.map((r) => r.ttfb.p50));
      const errors = entry.gateway.reduce((sum, r) => sum + r.errors, 0);
      console.log(
        `  ${scenario.name.padEnd(28)} ${`${directRps.toFixed(0)}/s p50 ${ms(p50(entry.direct))}`.padStart(20)}   ${`${gatewayRps.toFixed(0)}/s p50 ${ms(p50(entry.gateway))}`.padStart(22)}   ${`${((gatewayRps / directRps) * 100).toFixed(1)}%`.padStart(5)}   ${ms(p50(entry.gateway) - p50(entry.direct)).padStart(9)}   ${ms(p99(entry.gateway) - p99(entry.direct)).padStart(9)}   ${`${median(entry.cpuPerRequestUs).toFixed(0)} µs`.padStart(15)}${errors ? `  errors ${errors}` : ""}`,
      );
      if (scenario.name.includes("stream"))
        console.log(`  ${"".padEnd(28)} added time to first chunk p50: ${ms(first(entry.gateway) - first(entry.direct))}`);
    }
    console.log("  goals: ratio ≥ 30 %, added p50 < 1 ms");
    console.log(`  gateway RSS: idle ${idleRss.toFixed(0)} MB, peak under load ${peakRss.toFixed(0)} MB`);
  } finally {
    gateway.kill("SIGTERM");
    upstream.kill("SIGTERM");
    await state.cleanup();
  }
}
