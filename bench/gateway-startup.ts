import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { firstLine, median, stop } from "./processes.js";
import { startGateway, withUpstream } from "./setup.js";
import { ms } from "./stats.js";

/** Wall time from spawning bare `node` to its first line on stderr: what no Node program can beat. */
async function nodeFloor(): Promise<number> {
  const start = performance.now();
  const child = spawn(process.execPath, ["-e", "process.stderr.write('listening on http://floor\\n')"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await firstLine(child, "stderr", /listening on (http:\/\/\S+)/);
  const elapsed = performance.now() - start;
  await stop(child);
  return elapsed;
}

/**
 * From spawning `openclaw gateway` to it printing that it listens, with a warm catalog cache
 * (the bench state ran `models list` first); median of `starts`, each start stopped before the next.
 */
export async function benchGatewayStartup(starts: number): Promise<void> {
  await withUpstream(1, async (_upstreamUrl, state) => {
    const gateway: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < starts; i++) {
      floor.push(await nodeFloor());
      const start = performance.now();
      const started = await startGateway(state);
      gateway.push(performance.now() - start);
      await stop(started.child);
    }
    console.log(`\nGateway start-up, warm catalog cache, median of ${starts} (wall time from spawn to "listening")`);
    console.log(`  openclaw gateway   ${ms(median(gateway)).padStart(9)}  (min ${ms(Math.min(...gateway))}, target < 300 ms)`);
    console.log(`  bare node (floor)  ${ms(median(floor)).padStart(9)}`);
  });
}
