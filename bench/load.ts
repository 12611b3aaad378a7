import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { summarize } from "./stats.js";

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  latency: ReturnType<typeof summarize>;
  /** Time to the first body chunk (streams). */
  ttfb: ReturnType<typeof summarize>;
}

/**
 * A closed-loop load generator: `connections` workers, each sending the next request as soon
 * as the previous one has been read to the end, for `seconds`. Records latency and time to
 * the first body chunk (for streams, the first token).
 */
export async function runLoad(options: {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}): Promise<LoadResult> {
  const dispatcher = new Agent({ connections: options.connections, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const response = await request(options.url, {
          method: "POST",
          body: options.body,
          headers: { "content-type": "application/json", ...options.headers },
          dispatcher,
        });
        let first = 0;
        for await (const _ of response.body) if (!first) first = performance.now();
        const end = performance.now();
        if (response.statusCode !== 200) errors++;
        else {
          latencies.push(end - t0);
          ttfbs.push((first || end) - t0);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    latency: summarize(latencies),
    ttfb: summarize(ttfbs),
  };
}
