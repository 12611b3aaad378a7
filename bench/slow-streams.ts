import { performance } from "node:perf_hooks";
import { runOnce } from "./load.js";
import { rssMb, stop } from "./processes.js";
import { AUTH, startGateway, withUpstream } from "./setup.js";
import { ms } from "./stats.js";

const until = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = performance.now() + timeoutMs;
  while (!condition() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
};

/**
 * `streams` slow chat streams held through the gateway at once (the upstream sends one small event
 * every 200 ms, `events` times). Reports how many completed (none may be dropped) and how much the
 * gateway's RSS grew per stream while all were open.
 */
export async function benchSlowStreams(options: { streams: number; events: number }): Promise<void> {
  const { streams, events } = options;
  await withUpstream(events, async (_upstreamUrl, state) => {
    const gateway = await startGateway(state);
    try {
      const target = {
        url: `${gateway.url}/v1/chat/completions`,
        body: JSON.stringify({ model: "bench/bench-slow", messages: [{ role: "user", content: "Think slowly." }], stream: true }),
        headers: AUTH,
      };
      // Warm the path (a few streams), then let the gateway settle before the baseline.
      await runOnce({ ...target, connections: 10 }).result;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const baseline = rssMb(gateway.pid);
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(gateway.pid));
      }, 100);
      const started = performance.now();
      const { progress, result } = runOnce({ ...target, connections: streams });
      await until(() => progress.firstBytes + progress.errors >= streams, 60_000);
      const allOpen = performance.now() - started;
      // Half-way through, every stream open: the memory they hold.
      await until(() => performance.now() - started > (events * 200) / 2, 60_000);
      const held = rssMb(gateway.pid);
      const heldStreams = progress.firstBytes - progress.completed;
      const outcome = await result;
      clearInterval(sampler);
      const perStream = ((held - baseline) * 1024 * 1024) / Math.max(1, heldStreams);
      console.log(
        `\n${streams} concurrent slow streams through the gateway (one event every 200 ms, ${events} events, ~${((events * 200) / 1000).toFixed(0)} s each)`,
      );
      console.log(
        `  completed ${outcome.requests}/${streams}, errors ${outcome.errors}${outcome.requests === streams ? " (none dropped)" : " (SOME DROPPED)"}; all open after ${ms(allOpen)}; stream duration p50 ${ms(outcome.latency.p50)}, p99 ${ms(outcome.latency.p99)}`,
      );
      console.log(
        `  gateway RSS: ${baseline.toFixed(0)} MB before, ${held.toFixed(0)} MB with ${heldStreams} streams open, peak ${peak.toFixed(0)} MB: ~${(perStream / 1024).toFixed(1)} KB per stream`,
      );
    } finally {
      await stop(gateway.child);
    }
  });
}
