import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { CLI, createTestState, runCli, writeConfig } from "../test/helpers/cli.js";
import { startFakeChutes } from "../test/helpers/fake-upstream.js";
import { ms, summarize } from "./stats.js";

/** Wall time of whole CLI processes, against bare `node` started the same way in the same run. */
function time(args: string[], env: NodeJS.ProcessEnv, runs: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    samples.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  }
  return samples;
}

export async function benchCliStartup(runs = 20): Promise<void> {
  const chutes = await startFakeChutes();
  const state = await createTestState({ CHUTES_API_KEY: "cpk_bench_key_0000000000" });
  try {
    await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
    await runCli(state, ["models", "list"]); // warm the discovery cache
    const rows = [
      ["node -e 0 (floor)", summarize(time(["-e", "0"], state.env, runs))],
      ["openclaw --help", summarize(time([CLI, "--help"], state.env, runs))],
      ["openclaw models list (warm cache)", summarize(time([CLI, "models", "list"], state.env, runs))],
      ["openclaw models status", summarize(time([CLI, "models", "status"], state.env, runs))],
    ] as const;
    console.log(`\nCLI start-up, ${runs} runs each (wall time of the whole process)`);
    for (const [name, stats] of rows)
      console.log(
        `  ${name.padEnd(36)} p50 ${ms(stats.p50).padStart(9)}  p90 ${ms(stats.p90).padStart(9)}  min ${ms(stats.min).padStart(9)}`,
      );
    const floor = rows[0][1].p50;
    const list = rows[2][1].p50;
    console.log(`  models list over bare node: +${ms(list - floor)} (goal: well under 300 ms in all)`);
  } finally {
    await state.cleanup();
    await chutes.close();
  }
}
