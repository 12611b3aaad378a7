import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CLI } from "../test/helpers/cli.js";
import { runLoad } from "./load.js";
import { firstLine, stop } from "./processes.js";
import { AUTH, withUpstream } from "./setup.js";

/**
 * Where the gateway's main thread spends its time under the bench's load: the real gateway with
 * `--cpu-prof`, one scenario for a few seconds, then the heaviest functions by self time.
 * Usage: `node --import tsx bench/profile.ts [json|stream|responses] [seconds]` (after `npm run build`).
 */
const scenario = process.argv[2] ?? "json";
const seconds = Number(process.argv[3] ?? 10);
const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];
const targets: Record<string, { path: string; body: object }> = {
  json: { path: "/v1/chat/completions", body: { model: "openclaw", messages: MESSAGES, stream: false } },
  stream: { path: "/v1/chat/completions", body: { model: "openclaw", messages: MESSAGES, stream: true } },
  responses: { path: "/v1/responses", body: { model: "openclaw", input: "Say hello in one short sentence.", store: false } },
};
const target = targets[scenario];
if (!target) throw new Error(`unknown scenario ${scenario}: json, stream or responses`);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

await withUpstream(50, async (upstreamUrl, state) => {
  void upstreamUrl;
  const dir = await mkdtemp(path.join(tmpdir(), "openclaw-prof-"));
  const child = spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, CLI, "gateway", "--port", "0"], {
    env: state.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await firstLine(child, "stderr", /listening on (http:\/\/\S+)/);
  const load = { url: `${url}${target.path}`, body: JSON.stringify(target.body), headers: AUTH, connections: 10 };
  await runLoad({ ...load, seconds: 2 }); // warm-up (JIT), inside the profile but small beside the run
  const result = await runLoad({ ...load, seconds });
  await stop(child);
  console.log(
    `${scenario}: ${result.requests} requests in ${result.seconds.toFixed(1)} s (${result.rps.toFixed(0)} req/s), ${result.errors} errors`,
  );
  // The main thread's profile is the largest file (workers write their own).
  const files = await Promise.all((await readdir(dir)).map(async (name) => ({ name, text: await readFile(path.join(dir, name), "utf8") })));
  const main = files.sort((a, b) => b.text.length - a.text.length)[0];
  if (!main) throw new Error("no profile written");
  summarize(JSON.parse(main.text) as Profile);
  console.log(`  profiles in ${dir}`);
});

function summarize(profile: Profile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const busy = profile.samples.filter((id) => byId.get(id)?.callFrame.functionName !== "(idle)").length;
  const byFunction = new Map<string, number>();
  for (const [id, count] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist|src)\//, "$1/")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName || "(anonymous)"} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  console.log(`  ${total} samples, ${((busy / total) * 100).toFixed(0)}% not idle; self time, % of non-idle samples:`);
  const rows = [...byFunction].filter(([key]) => !key.startsWith("(idle)")).sort((a, b) => b[1] - a[1]);
  for (const [key, count] of rows.slice(0, 40)) console.log(`  ${((count / busy) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
