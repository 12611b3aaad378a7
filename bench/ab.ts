import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { CLI } from "../test/helpers/cli.js";
import { runLoad } from "./load.js";
import { firstLine, median, settledCpuMs, stop } from "./processes.js";
import { AUTH, startProxy, withUpstream } from "./setup.js";

/**
 * Two builds of the gateway side by side, for an optimisation's number: the build in `dist/` (B)
 * and another one (A, a copy of an earlier `dist/` beside its package.json), plus the bare proxy,
 * interleaved in rounds under the same load so that a noisy neighbour hits all alike. Prints the
 * median CPU per request of each and the ratios.
 * Usage: `node --import tsx bench/ab.ts <other root> [json|stream] [rounds] [seconds]`.
 */
const [otherRoot, scenario = "stream", rounds = "7", seconds = "2"] = process.argv.slice(2);
if (!otherRoot) throw new Error("usage: bench/ab.ts <root holding dist/ and package.json> [json|stream] [rounds] [seconds]");
const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];
const stream = scenario === "stream";

async function gateway(cli: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cli, "gateway", "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
  return { child, url: await firstLine(child, "stderr", /listening on (http:\/\/\S+)/) };
}

await withUpstream(50, async (upstreamUrl, state) => {
  const proxy = await startProxy(upstreamUrl);
  const a = await gateway(path.resolve(otherRoot, "dist/cli/main.js"), state.env);
  const b = await gateway(CLI, state.env);
  const sides = [
    { name: "proxy", pid: proxy.child.pid as number, url: `${proxy.url}/v1/chat/completions`, model: "bench-model", headers: {} },
    { name: `A (${otherRoot})`, pid: a.child.pid as number, url: `${a.url}/v1/chat/completions`, model: "openclaw", headers: AUTH },
    { name: "B (dist/)", pid: b.child.pid as number, url: `${b.url}/v1/chat/completions`, model: "openclaw", headers: AUTH },
  ];
  const cpu: number[][] = sides.map(() => []);
  const rps: number[][] = sides.map(() => []);
  try {
    for (let round = -1; round < Number(rounds); round++)
      for (const [index, side] of sides.entries()) {
        const body = JSON.stringify({ model: side.model, messages: MESSAGES, stream });
        const before = await settledCpuMs(side.pid);
        const load = await runLoad({ url: side.url, body, headers: side.headers, connections: 10, seconds: Number(seconds) });
        if (round < 0) continue; // warm-up
        cpu[index]?.push((((await settledCpuMs(side.pid)) - before) * 1000) / Math.max(1, load.requests));
        rps[index]?.push(load.rps);
      }
    const cpuOf = (index: number) => median(cpu[index] ?? []);
    for (const [index, side] of sides.entries())
      console.log(
        `${side.name.padEnd(28)} CPU/req ${cpuOf(index).toFixed(0).padStart(5)} µs, ${median(rps[index] ?? []).toFixed(0)} req/s`,
      );
    // Per round ratios, then their median: each round's sides ran under the same neighbours.
    const ratio = (x: number, y: number) => median((cpu[x] ?? []).map((value, round) => value / (cpu[y]?.[round] ?? Number.NaN)));
    console.log(
      `${scenario}: A ÷ proxy ${ratio(1, 0).toFixed(2)}×, B ÷ proxy ${ratio(2, 0).toFixed(2)}×, B ÷ A ${ratio(2, 1).toFixed(3)}×`,
    );
  } finally {
    await stop(b.child);
    await stop(a.child);
    await stop(proxy.child);
  }
});
