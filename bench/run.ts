import { benchCliStartup } from "./cli-startup.js";
import { benchGateway } from "./gateway.js";
import { benchGatewayStartup } from "./gateway-startup.js";
import { benchKeyCheck } from "./key-check.js";
import { benchMetricsOverhead } from "./metrics-overhead.js";
import { benchMetricsPath } from "./metrics-path.js";
import { benchSlowStreams } from "./slow-streams.js";
import { benchTeeE2ee } from "./tee-e2ee.js";

// Benchmarks print figures; they never fail on timing (the machine is shared and noisy).
// `npm run bench -- <part>`: cli, gateway (throughput + keys + start-up + slow streams), throughput, keys, startup, streams, tee,
// metrics (two gateways, metrics on and off, side by side).
// BENCH_METRICS=off turns the gateway's metrics off (gateway.metrics.enabled: false) in the other parts.
// BENCH_API_KEY=1 sends the throughput requests with an API key (every limit set) instead of the gateway token.
// BENCH_REDIS=1 starts a redis-server and points the gateway at it (the shared limiter, with BENCH_API_KEY=1).
// BENCH_QUICK=1 is a smoke run in CI-like time; each figure can also be set on its own.
const quick = process.env.BENCH_QUICK === "1";
const setting = (name: string, normal: number, short: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : quick ? short : normal;
};
const only = process.argv[2];
const wants = (...parts: string[]) => !only || parts.includes(only);

if (wants("cli")) await benchCliStartup(setting("BENCH_CLI_RUNS", 20, 3));
if (wants("gateway", "throughput"))
  await benchGateway({
    seconds: setting("BENCH_SECONDS", 3, 1),
    rounds: setting("BENCH_ROUNDS", 3, 1),
    connections: setting("BENCH_CONNECTIONS", 10, 10),
  });
if (wants("gateway", "keys")) await benchKeyCheck(setting("BENCH_KEY_CHECKS", 200_000, 20_000));
if (wants("gateway", "startup")) await benchGatewayStartup(setting("BENCH_STARTS", 7, 3));
if (wants("gateway", "streams"))
  await benchSlowStreams({ streams: setting("BENCH_STREAMS", 1000, 200), events: setting("BENCH_STREAM_EVENTS", 100, 15) });
if (only === "metrics") await benchMetricsPath(setting("BENCH_METRIC_REQUESTS", 200_000, 20_000));
if (only === "metrics")
  await benchMetricsOverhead({
    seconds: setting("BENCH_SECONDS", 3, 1),
    rounds: setting("BENCH_ROUNDS", 3, 1),
    connections: setting("BENCH_CONNECTIONS", 10, 10),
  });
if (wants("tee")) await benchTeeE2ee(setting("BENCH_TEE_REQUESTS", 300, 50));
