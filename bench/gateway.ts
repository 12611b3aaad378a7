import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { CLI, createTestState, writeConfig } from "../test/helpers/cli.js";
import { type LoadResult, runLoad } from "./load.js";
import { ms } from "./stats.js";

const TOKEN = "bench-gateway-token-0123456789abcdef";

function firstLine(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const source = child[stream];
    if (!source) return reject(new Error("no stream"));
    const lines = createInterface({ input: source });
    lines.on("line", (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match[1] ?? line);
    });
    child.once("exit", () => reject(new Error(`process exited before printing ${pattern}`)));
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];

export async function benchGateway(seconds = 8, connections = 10): Promise<void> {
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
  try {
    const direct = (stream: boolean) => ({
      url: `${upstreamUrl}/chat/completions`,
      body: JSON.stringify({ model: "bench-model", messages: MESSAGES, stream }),
      headers: {},
      connections,
      seconds,
    });
    const through = (stream: boolean) => ({
      url: `${gatewayUrl}/v1/chat/completions`,
      body: JSON.stringify({ model: "openclaw", messages: MESSAGES, stream, user: "bench" }),
      headers: { authorization: `Bearer ${TOKEN}` },
      connections,
      seconds,
    });
    // Warm up both paths (JIT, connection pools, catalog).
    await runLoad({ ...direct(false), seconds: 2 });
    await runLoad({ ...through(false), seconds: 2 });
    await runLoad({ ...through(true), seconds: 1 });
    const idleRss = rssMb(pid);
    let peakRss = idleRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMb(pid));
    }, 250);
    const results: Record<string, LoadResult> = {};
    results.directJson = await runLoad(direct(false));
    results.gatewayJson = await runLoad(through(false));
    results.directStream = await runLoad(direct(true));
    results.gatewayStream = await runLoad(through(true));
    const short = Math.max(2, Math.round(seconds / 2));
    results.gatewayResponses = await runLoad({
      url: `${gatewayUrl}/v1/responses`,
      body: JSON.stringify({ model: "openclaw", input: "Say hello in one short sentence.", store: false }),
      headers: { authorization: `Bearer ${TOKEN}` },
      connections,
      seconds: short,
    });
    results.directEmbeddings = await runLoad({
      url: `${upstreamUrl}/embeddings`,
      body: JSON.stringify({ model: "bench-embed", input: "hello" }),
      headers: {},
      connections,
      seconds: short,
    });
    results.gatewayEmbeddings = await runLoad({
      url: `${gatewayUrl}/v1/embeddings`,
      body: JSON.stringify({ model: "bench/bench-embed", input: "hello", encoding_format: "base64" }),
      headers: { authorization: `Bearer ${TOKEN}` },
      connections,
      seconds: short,
    });
    clearInterval(sampler);

    const row = (name: string, result: LoadResult) =>
      `  ${name.padEnd(30)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${ms(result.latency.p50).padStart(9)}  p99 ${ms(result.latency.p99).padStart(9)}  first byte p50 ${ms(result.ttfb.p50).padStart(9)}${result.errors ? `  errors ${result.errors}` : ""}`;
    console.log(`\nGateway overhead: ${connections} connections, ${seconds} s per run, closed loop, every feature on`);
    console.log(row("direct, JSON", results.directJson as LoadResult));
    console.log(row("through gateway, JSON", results.gatewayJson as LoadResult));
    console.log(row("direct, stream (20 chunks)", results.directStream as LoadResult));
    console.log(row("through gateway, stream", results.gatewayStream as LoadResult));
    console.log(row("through gateway, /v1/responses", results.gatewayResponses as LoadResult));
    console.log(row("direct, embeddings", results.directEmbeddings as LoadResult));
    console.log(row("through gateway, embeddings", results.gatewayEmbeddings as LoadResult));
    const compare = (label: string, a: LoadResult, b: LoadResult) =>
      console.log(
        `  ${label.padEnd(9)} throughput ${((b.rps / a.rps) * 100).toFixed(1)}% of direct (goal ≥ 30%); added p50 ${ms(b.latency.p50 - a.latency.p50)} (goal < 1 ms); added p99 ${ms(b.latency.p99 - a.latency.p99)}; added first byte p50 ${ms(b.ttfb.p50 - a.ttfb.p50)}`,
      );
    compare("JSON", results.directJson as LoadResult, results.gatewayJson as LoadResult);
    compare("stream", results.directStream as LoadResult, results.gatewayStream as LoadResult);
    compare("responses", results.directJson as LoadResult, results.gatewayResponses as LoadResult);
    compare("embed", results.directEmbeddings as LoadResult, results.gatewayEmbeddings as LoadResult);
    console.log(`  gateway RSS: idle ${idleRss.toFixed(0)} MB, peak under load ${peakRss.toFixed(0)} MB`);
  } finally {
    gateway.kill("SIGTERM");
    upstream.kill("SIGTERM");
    await state.cleanup();
  }
}
