import { readConfig, writeConfig } from "../test/helpers/cli.js";
import { type LoadResult, runLoad } from "./load.js";
import { median, settledCpuMs, stop } from "./processes.js";
import { AUTH, createBenchState, startGateway, startProxy, withUpstream } from "./setup.js";

type Side = "proxy" | "metrics on" | "metrics off";
const SIDES: Side[] = ["proxy", "metrics on", "metrics off"];

const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];

/**
 * What metrics cost: two gateways (every feature on, tracing off), one with `gateway.metrics`
 * on (the default) and one with `enabled: false`, interleaved with the bare proxy in rounds so a
 * noisy neighbour hits all alike; CPU per request from /proc (the steady figure) and req/s. The
 * metrics-on gateway is scraped once per round, as Prometheus would.
 */
export async function benchMetricsOverhead(options: { seconds: number; rounds: number; connections: number }): Promise<void> {
  const { seconds, rounds, connections } = options;
  // Tracing stays off whatever this shell has set: this measures metrics alone.
  for (const name of Object.keys(process.env)) if (name.startsWith("OTEL_")) delete process.env[name];
  await withUpstream(50, async (upstreamUrl, state) => {
    const offState = await createBenchState(upstreamUrl);
    const config = await readConfig(offState);
    await writeConfig(offState, { ...config, gateway: { ...config.gateway, metrics: { enabled: false } } });
    const proxy = await startProxy(upstreamUrl);
    const on = await startGateway(state);
    const off = await startGateway(offState);
    const pids: Record<Side, number> = { proxy: proxy.child.pid as number, "metrics on": on.pid, "metrics off": off.pid };
    const scrape = () => fetch(`${on.url}/metrics`, { headers: AUTH }).then((response) => response.text());
    try {
      console.log(
        `\nMetrics on vs off (tracing off): ${connections} connections, medians of ${rounds} interleaved round(s) of ${seconds} s`,
      );
      for (const stream of [false, true]) {
        const body = (model: string) => JSON.stringify({ model, messages: MESSAGES, stream });
        const targets: Record<Side, { url: string; body: string; headers: Record<string, string> }> = {
          proxy: { url: `${proxy.url}/v1/chat/completions`, body: body("bench-model"), headers: {} },
          "metrics on": { url: `${on.url}/v1/chat/completions`, body: body("openclaw"), headers: AUTH },
          "metrics off": { url: `${off.url}/v1/chat/completions`, body: body("openclaw"), headers: AUTH },
        };
        for (const side of SIDES) await runLoad({ ...targets[side], connections, seconds: 1 });
        const results: Record<Side, Array<{ load: LoadResult; cpuUs: number }>> = { proxy: [], "metrics on": [], "metrics off": [] };
        for (let round = 0; round < rounds; round++) {
          await scrape();
          for (const side of SIDES) {
            const before = await settledCpuMs(pids[side]);
            const load = await runLoad({ ...targets[side], connections, seconds });
            results[side].push({ load, cpuUs: (((await settledCpuMs(pids[side])) - before) * 1000) / Math.max(1, load.requests) });
          }
        }
        const cpu = (side: Side) => median(results[side].map((round) => round.cpuUs));
        const rps = (side: Side) => median(results[side].map((round) => round.load.rps));
        console.log(`\n  chat, ${stream ? "streamed (20 chunks)" : "JSON"}`);
        for (const side of SIDES) {
          const errors = results[side].reduce((sum, round) => sum + round.load.errors, 0);
          console.log(
            `    ${side.padEnd(14)}${rps(side).toFixed(0).padStart(8)} req/s${cpu(side).toFixed(0).padStart(8)} µs CPU/req${errors ? `  errors ${errors}` : ""}`,
          );
        }
        const ratio = (side: Side) => cpu(side) / cpu("proxy");
        console.log(
          `    gateway ÷ proxy CPU/req: metrics on ${ratio("metrics on").toFixed(2)}×, off ${ratio("metrics off").toFixed(2)}× (on ÷ off ${(cpu("metrics on") / cpu("metrics off")).toFixed(3)}); throughput on ÷ off ${((rps("metrics on") / rps("metrics off")) * 100).toFixed(0)}%`,
        );
      }
      const text = await scrape();
      const counted = [...text.matchAll(/^openclaw_http_request_duration_seconds_count\{[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
      console.log(`\n  the metrics-on gateway counted ${counted} requests; a scrape is ${(Buffer.byteLength(text) / 1024).toFixed(1)} KB`);
    } finally {
      await stop(on.child);
      await stop(off.child);
      await stop(proxy.child);
      await offState.cleanup();
    }
  });
}
