import { DEFAULT_WRITER_IDLE_MS } from "../src/store/worker-store.js";
import { type LoadResult, type LoadTarget, runLoad } from "./load.js";
import { median, restingRssMb, rssMb, settledCpuMs, stop } from "./processes.js";
import { AUTH, startGateway, startProxy, withUpstream } from "./setup.js";

type Side = "direct" | "proxy" | "reader" | "gateway";
const LABEL: Record<Side, string> = {
  direct: "direct to upstream",
  proxy: "bare proxy (ceiling)",
  reader: "proxy reading usage",
  gateway: "gateway",
};
/** The sides a scenario runs: streams add the proxy that reads usage (see bare-proxy.ts `--read-usage`). */
const sidesOf = (scenario: Scenario): Side[] =>
  scenario.targets.reader ? ["direct", "proxy", "reader", "gateway"] : ["direct", "proxy", "gateway"];

interface Scenario {
  name: string;
  stream: boolean;
  /** The targets of a side, given the base URLs; the proxy's comparison may differ (responses: chat JSON). */
  targets: Record<Exclude<Side, "reader">, LoadTarget> & { reader?: LoadTarget };
  proxyNote?: string;
  /** Targets the issue sets: gateway CPU per request at most this many times the proxy's. */
  cpuTarget?: number;
}

interface Round {
  load: LoadResult;
  /** CPU per request of the process in the middle (proxy, gateway) and of the upstream, in µs. */
  cpuUs: number;
  upstreamCpuUs: number;
}

const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];
const json = (value: unknown) => JSON.stringify(value);

function scenarios(upstream: string, proxy: string, reader: string, gateway: string): Scenario[] {
  const chatBody = (stream: boolean) => json({ model: "bench-model", messages: MESSAGES, stream });
  const chat = (stream: boolean): Scenario => ({
    name: stream ? "chat, streamed (20 chunks)" : "chat, JSON",
    stream,
    cpuTarget: stream ? 2 : 1.5,
    targets: {
      direct: { url: `${upstream}/chat/completions`, body: chatBody(stream), headers: {} },
      proxy: { url: `${proxy}/v1/chat/completions`, body: chatBody(stream), headers: {} },
      ...(stream ? { reader: { url: `${reader}/v1/chat/completions`, body: chatBody(stream), headers: {} } } : {}),
      // No `user` and no session key: the default, stateless request (metadata recorded, content not kept).
      gateway: { url: `${gateway}/v1/chat/completions`, body: json({ model: "openclaw", messages: MESSAGES, stream }), headers: AUTH },
    },
  });
  const embedBody = json({ model: "bench-embed", input: "hello" });
  return [
    chat(false),
    chat(true),
    {
      name: "/v1/responses",
      stream: false,
      proxyNote: "direct and the proxy: chat JSON (the upstream has no /v1/responses)",
      targets: {
        ...chat(false).targets,
        gateway: {
          url: `${gateway}/v1/responses`,
          body: json({ model: "openclaw", input: "Say hello in one short sentence.", store: false }),
          headers: AUTH,
        },
      },
    },
    {
      name: "/v1/embeddings (base64)",
      stream: false,
      proxyNote: "direct and the proxy: float JSON, which the proxy parses and re-serialises (384 floats); the gateway answers base64",
      targets: {
        direct: { url: `${upstream}/embeddings`, body: embedBody, headers: {} },
        proxy: { url: `${proxy}/v1/embeddings`, body: embedBody, headers: {} },
        gateway: {
          url: `${gateway}/v1/embeddings`,
          body: json({ model: "bench/bench-embed", input: "hello", encoding_format: "base64" }),
          headers: AUTH,
        },
      },
    },
  ];
}

const us = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} µs` : "-");
const ms2 = (value: number) => `${value.toFixed(2)} ms`;
const pct = (value: number) => `${(value * 100).toFixed(0)}%`;

function printScenario(scenario: Scenario, rounds: Record<Side, Round[]>): void {
  const SIDES = sidesOf(scenario);
  const mid = (side: Side, pick: (round: Round) => number) => median(rounds[side].map(pick));
  const rps = (side: Side) => mid(side, (r) => r.load.rps);
  const p50 = (side: Side) => mid(side, (r) => r.load.latency.p50);
  console.log(`\n  ${scenario.name}${scenario.proxyNote ? ` — ${scenario.proxyNote}` : ""}`);
  console.log(
    `    ${"".padEnd(22)}${"req/s".padStart(8)}${"p50".padStart(10)}${"p99".padStart(10)}${scenario.stream ? "1st chunk".padStart(11) : ""}${"added p50".padStart(11)}${"CPU/req".padStart(9)}${"upstream".padStart(10)}${"loader".padStart(16)}`,
  );
  for (const side of SIDES) {
    const loaderUs = mid(side, (r) => (r.load.loaderCpuMs * 1000) / Math.max(1, r.load.requests));
    const loaderCore = mid(side, (r) => r.load.loaderCpuMs / (r.load.seconds * 1000));
    const errors = rounds[side].reduce((sum, r) => sum + r.load.errors, 0);
    console.log(
      `    ${LABEL[side].padEnd(22)}${rps(side).toFixed(0).padStart(8)}${ms2(p50(side)).padStart(10)}${ms2(mid(side, (r) => r.load.latency.p99)).padStart(10)}${scenario.stream ? ms2(mid(side, (r) => r.load.ttfb.p50)).padStart(11) : ""}${(side === "direct" ? "" : ms2(p50(side) - p50("direct"))).padStart(11)}${(side === "direct" ? "-" : us(mid(side, (r) => r.cpuUs))).padStart(9)}${us(mid(side, (r) => r.upstreamCpuUs)).padStart(10)}${`${us(loaderUs)} ${pct(loaderCore)}`.padStart(16)}${errors ? `  errors ${errors}` : ""}`,
    );
  }
  const cpuRatio = mid("gateway", (r) => r.cpuUs) / mid("proxy", (r) => r.cpuUs);
  const added = p50("gateway") - p50("direct");
  const targets = scenario.cpuTarget !== undefined;
  console.log(
    `    gateway ÷ proxy: CPU/req ${cpuRatio.toFixed(2)}×${targets ? ` (target ≤ ${scenario.cpuTarget}×)` : ""}, throughput ${pct(rps("gateway") / rps("proxy"))}${targets ? " (target ≥ 70%)" : ""}; gateway added p50 over direct ${ms2(added)}${targets ? " (target < 0.5 ms)" : ""}`,
  );
  if (scenario.stream)
    console.log(
      `    added time to first chunk p50: gateway ${ms2(mid("gateway", (r) => r.load.ttfb.p50) - mid("direct", (r) => r.load.ttfb.p50))}, proxy ${ms2(mid("proxy", (r) => r.load.ttfb.p50) - mid("direct", (r) => r.load.ttfb.p50))}`,
    );
  if (rounds.reader.length > 0)
    console.log(
      `    gateway ÷ proxy reading usage: CPU/req ${(mid("gateway", (r) => r.cpuUs) / mid("reader", (r) => r.cpuUs)).toFixed(2)}×, throughput ${pct(rps("gateway") / rps("reader"))}; proxy reading usage ÷ bare proxy: CPU/req ${(mid("reader", (r) => r.cpuUs) / mid("proxy", (r) => r.cpuUs)).toFixed(2)}×, throughput ${pct(rps("reader") / rps("proxy"))}`,
    );
}

/**
 * Latency with one connection, one request at a time: under the closed-loop load above, p50 is
 * mostly queueing (10 connections ÷ throughput), so "added p50" there measures throughput, not the
 * time a request spends in the gateway. Here nothing waits behind anything.
 */
async function printUnloadedLatency(list: Scenario[], rounds: number): Promise<void> {
  console.log("\n  Unloaded latency (1 connection, sequential requests; medians of rounds of 2 s): p50 / added p50 over direct");
  for (const scenario of list) {
    const SIDES = sidesOf(scenario);
    const p50s: Record<Side, number[]> = { direct: [], proxy: [], reader: [], gateway: [] };
    let errors = 0;
    for (let round = 0; round < rounds; round++)
      for (const side of SIDES) {
        const load = await runLoad({ ...(scenario.targets[side] as LoadTarget), connections: 1, seconds: 2 });
        if (load.requests > 0) p50s[side].push(load.latency.p50);
        errors += load.errors;
      }
    const direct = median(p50s.direct);
    const cell = (side: Side) =>
      `${LABEL[side]} ${ms2(median(p50s[side]))}${side === "direct" ? "" : ` (+${ms2(median(p50s[side]) - direct)})`}`;
    console.log(`    ${scenario.name.padEnd(28)}${SIDES.map(cell).join(", ")}${errors ? `  errors ${errors}` : ""}`);
  }
}

/**
 * Direct to the upstream, through the bare proxy (the ceiling) and through the gateway,
 * interleaved in rounds (direct, proxy, gateway, repeat) so that a noisy neighbour hits all three
 * alike; medians over rounds. Each process's CPU time per request is read from /proc: it moves
 * much less with the machine's load than throughput does.
 */
export async function benchGateway(options: { seconds: number; rounds: number; connections: number }): Promise<void> {
  const { seconds, rounds, connections } = options;
  await withUpstream(50, async (upstreamUrl, state, upstreamPid) => {
    const proxy = await startProxy(upstreamUrl);
    const reader = await startProxy(upstreamUrl, true);
    const gateway = await startGateway(state);
    try {
      const startRss = rssMb(gateway.pid);
      const proxyStartRss = rssMb(proxy.child.pid as number);
      const list = scenarios(upstreamUrl, proxy.url, reader.url, gateway.url);
      const pids: Record<Side, number | undefined> = {
        direct: undefined,
        proxy: proxy.child.pid,
        reader: reader.child.pid,
        gateway: gateway.pid,
      };
      // Warm up every path (JIT, connection pools, catalog), then read the idle gateway.
      for (const scenario of list)
        for (const side of sidesOf(scenario)) await runLoad({ ...(scenario.targets[side] as LoadTarget), connections, seconds: 1 });
      const idleRss = rssMb(gateway.pid);
      let peakRss = idleRss;
      let proxyPeakRss = proxyStartRss;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, rssMb(gateway.pid));
        proxyPeakRss = Math.max(proxyPeakRss, rssMb(proxy.child.pid as number));
      }, 100);
      console.log(
        `\nDirect vs bare proxy vs gateway: ${connections} connections, closed loop, every gateway feature on; medians of ${rounds} interleaved round(s) of ${seconds} s`,
      );
      console.log(
        "  CPU/req: user+system CPU of that process (all its threads) ÷ requests; upstream: the fake upstream's; loader: this process generating the load (µs/req, share of one core)",
      );
      let loaderPeak = 0;
      for (const scenario of list) {
        const results: Record<Side, Round[]> = { direct: [], proxy: [], reader: [], gateway: [] };
        for (let round = 0; round < rounds; round++)
          for (const side of sidesOf(scenario)) {
            const pid = pids[side];
            const before = pid ? await settledCpuMs(pid) : 0;
            const upstreamBefore = await settledCpuMs(upstreamPid);
            const load = await runLoad({ ...(scenario.targets[side] as LoadTarget), connections, seconds });
            const perRequest = (spent: number) => (spent * 1000) / Math.max(1, load.requests);
            loaderPeak = Math.max(loaderPeak, load.loaderCpuMs / (load.seconds * 1000));
            results[side].push({
              load,
              cpuUs: pid ? perRequest((await settledCpuMs(pid)) - before) : Number.NaN,
              upstreamCpuUs: perRequest((await settledCpuMs(upstreamPid)) - upstreamBefore),
            });
          }
        printScenario(scenario, results);
      }
      clearInterval(sampler);
      await printUnloadedLatency(list.slice(0, 2), rounds);
      // At rest after the load: the store's writer thread has stopped (idle) and RSS is steady.
      const restingRss = await restingRssMb(gateway.pid, DEFAULT_WRITER_IDLE_MS + 2_000);
      console.log(
        `\n  gateway RSS: just started ${startRss.toFixed(0)} MB, right after warm-up ${idleRss.toFixed(0)} MB, peak under load ${peakRss.toFixed(0)} MB (target < 150 MB), at rest after the load ${restingRss.toFixed(0)} MB`,
      );
      console.log("  (idle before any traffic, the < 60 MB target: see the start-up bench)");
      console.log(`  bare proxy RSS: just started ${proxyStartRss.toFixed(0)} MB, peak ${proxyPeakRss.toFixed(0)} MB`);
      console.log(
        `  load generator (this process, raw keep-alive sockets): at most ${pct(loaderPeak)} of one core in any round (it never saturated a core; on 2 cores it does take CPU the others could use)`,
      );
      console.log("  (a shared, noisy machine: CPU/req is the steadiest figure, throughput and latency the noisiest)");
    } finally {
      await stop(gateway.child);
      await stop(reader.child);
      await stop(proxy.child);
    }
  });
}
