import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI } from "../test/helpers/cli.js";
import { runLoad } from "./load.js";
import { firstLine, rssMb, stop } from "./processes.js";
import { AUTH, withUpstream } from "./setup.js";

/**
 * What grows under load: the gateway under each scenario of the throughput bench in turn, its
 * RSS sampled every 100 ms beside V8's own heap figures (from `--trace-gc`), so that heap growth
 * and memory outside the heap (sockets, buffers, threads, malloc) can be told apart.
 * Usage: `node --import tsx bench/memory.ts [seconds] [node flags…]` (after `npm run build`).
 */
const seconds = Number(process.argv[2] ?? 5);
const flags = process.argv.slice(3);
const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];
const scenarios: Array<{ name: string; path: string; body: object }> = [
  { name: "chat, JSON", path: "/v1/chat/completions", body: { model: "openclaw", messages: MESSAGES, stream: false } },
  { name: "chat, streamed", path: "/v1/chat/completions", body: { model: "openclaw", messages: MESSAGES, stream: true } },
  { name: "/v1/responses", path: "/v1/responses", body: { model: "openclaw", input: "Say hello.", store: false } },
  { name: "/v1/embeddings", path: "/v1/embeddings", body: { model: "bench/bench-embed", input: "hello", encoding_format: "base64" } },
];

await withUpstream(50, async (_upstreamUrl, state) => {
  const child = spawn(process.execPath, ["--trace-gc", ...flags, CLI, "gateway", "--port", "0"], {
    env: state.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The last heap figure V8 printed: "<used before> (<committed>) -> <used after> (<committed>) MB".
  let heap = { used: 0, committed: 0, peakCommitted: 0, scavenges: 0, markCompacts: 0 };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    const match = /(Scavenge|Mark-Compact|Mark-sweep)[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
    if (!match) return;
    if (match[1] === "Scavenge") heap.scavenges++;
    else heap.markCompacts++;
    heap.used = Number(match[4]);
    heap.committed = Number(match[5]);
    heap.peakCommitted = Math.max(heap.peakCommitted, Number(match[3]), heap.committed);
  });
  const url = await firstLine(child, "stderr", /listening on (http:\/\/\S+)/);
  try {
    console.log(`gateway ${flags.join(" ") || "(default flags)"}: started at ${rssMb(child.pid as number).toFixed(0)} MB`);
    for (const scenario of scenarios) {
      heap = { ...heap, peakCommitted: heap.committed, scavenges: 0, markCompacts: 0 };
      let peak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(child.pid as number));
      }, 100);
      const result = await runLoad({
        url: `${url}${scenario.path}`,
        body: JSON.stringify(scenario.body),
        headers: AUTH,
        connections: 10,
        seconds,
      });
      clearInterval(sampler);
      console.log(
        `  ${scenario.name.padEnd(16)} ${result.rps.toFixed(0).padStart(6)} req/s  RSS peak ${peak.toFixed(0)} MB, after ${rssMb(child.pid as number).toFixed(0)} MB; heap committed peak ${heap.peakCommitted.toFixed(0)} MB, after last GC used ${heap.used.toFixed(0)} of ${heap.committed.toFixed(0)} MB; ${heap.scavenges} scavenges, ${heap.markCompacts} mark-compacts`,
      );
    }
  } finally {
    await stop(child);
  }
});
