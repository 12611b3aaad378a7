import { performance } from "node:perf_hooks";
import { type LoadTarget, runOnce } from "./load.js";
import { cpuMs, rssMb, stop } from "./processes.js";
import { AUTH, startGateway, startProxy, withUpstream } from "./setup.js";
import { ms } from "./stats.js";

const INTERVAL_MS = 200; // upstream-server.ts sends a slow stream's events this far apart

/** Holds `streams` streams through the process `pid` and reads its memory and CPU while they are open. */
async function hold(pid: number, target: LoadTarget, streams: number) {
  // Warm the path (a few streams), then let the process settle before the baseline.
  await runOnce({ ...target, connections: 10 }).result;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const baseline = rssMb(pid);
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const { progress, result } = runOnce({ ...target, connections: streams, batch: 250 });
  // The memory the streams hold: RSS when the most of them were open at once (sampled every 100 ms).
  let peak = baseline;
  let held = baseline;
  let heldStreams = 0;
  let allOpen = Number.NaN;
  const sampler = setInterval(() => {
    const rss = rssMb(pid);
    peak = Math.max(peak, rss);
    const open = progress.firstBytes - progress.completed;
    if (open >= heldStreams) {
      heldStreams = open;
      held = rss;
    }
    if (Number.isNaN(allOpen) && progress.firstBytes + progress.errors >= streams) allOpen = performance.now() - started;
  }, 100);
  const outcome = await result;
  clearInterval(sampler);
  return {
    outcome,
    allOpen,
    cpuPerStreamUs: ((cpuMs(pid) - cpuBefore) * 1000) / streams,
    baseline,
    held,
    heldStreams,
    peak,
    bytesPerStream: ((held - baseline) * 1024 * 1024) / Math.max(1, heldStreams),
  };
}

/**
 * `streams` slow chat streams held at once (the upstream sends one small event every 200 ms,
 * `events` times), through the bare proxy and through the gateway. Reports how many completed
 * (none may be dropped) and how much each process's RSS grew per stream while all were open.
 * Connections open 250 at a time (see runOnce), so "all open after" is the process's speed.
 */
export async function benchSlowStreams(options: { streams: number; events: number }): Promise<void> {
  const { streams, events } = options;
  await withUpstream(events, async (upstreamUrl, state) => {
    const messages = [{ role: "user", content: "Think slowly." }];
    console.log(
      `\n${streams} concurrent slow streams (one event every ${INTERVAL_MS} ms, ${events} events, ~${((events * INTERVAL_MS) / 1000).toFixed(0)} s each)`,
    );
    const print = (name: string, figures: Awaited<ReturnType<typeof hold>>) => {
      const { outcome } = figures;
      console.log(
        `  ${name.padEnd(21)} completed ${outcome.requests}/${streams}, errors ${outcome.errors}${outcome.requests === streams ? " (none dropped)" : " (SOME DROPPED)"}; all open after ${ms(figures.allOpen)}, at most ${figures.heldStreams} open at once; CPU ${figures.cpuPerStreamUs.toFixed(0)} µs per stream (its whole life); duration p50 ${ms(outcome.latency.p50)}, p99 ${ms(outcome.latency.p99)}`,
      );
      console.log(
        `  ${"".padEnd(21)} RSS ${figures.baseline.toFixed(0)} MB before, ${figures.held.toFixed(0)} MB with the most open, peak ${figures.peak.toFixed(0)} MB: ~${(figures.bytesPerStream / 1024).toFixed(1)} KB per stream`,
      );
    };
    const proxy = await startProxy(upstreamUrl);
    try {
      const body = JSON.stringify({ model: "bench-slow", messages, stream: true });
      print(
        "bare proxy (ceiling)",
        await hold(proxy.child.pid as number, { url: `${proxy.url}/v1/chat/completions`, body, headers: {} }, streams),
      );
    } finally {
      await stop(proxy.child);
    }
    const gateway = await startGateway(state);
    try {
      const body = JSON.stringify({ model: "bench/bench-slow", messages, stream: true });
      print("gateway", await hold(gateway.pid, { url: `${gateway.url}/v1/chat/completions`, body, headers: AUTH }, streams));
    } finally {
      await stop(gateway.child);
    }
  });
}
