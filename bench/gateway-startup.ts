import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { DEFAULT_WRITER_IDLE_MS } from "../src/store/worker-store.js";
import { firstLine, median, restingRssMb, rssMb, stop, threadCount } from "./processes.js";
import { AUTH, startGateway, withUpstream } from "./setup.js";
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

const mb = (value: number) => `${value.toFixed(1)} MB`;

/**
 * From spawning `openclaw gateway` to it printing that it listens, with a warm catalog cache
 * (the bench state ran `models list` first) and a session database from an earlier run, as a
 * user's gateway has them; median of `starts`, each start stopped before the next. Then one
 * more start, left alone without traffic: its RSS just started, while the retention pass at start
 * holds the store's writer thread, and at rest once that thread has stopped.
 */
export async function benchGatewayStartup(starts: number): Promise<void> {
  await withUpstream(1, async (_upstreamUrl, state) => {
    // One request, so the state has its session database (and the writer its retention pass at start).
    const first = await startGateway(state);
    const answer = await fetch(`${first.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...AUTH, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    });
    await answer.arrayBuffer();
    await stop(first.child);

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

    const idle = await startGateway(state);
    try {
      const justStarted = rssMb(idle.pid);
      const threads = threadCount(idle.pid);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const withWriter = rssMb(idle.pid);
      const resting = await restingRssMb(idle.pid, DEFAULT_WRITER_IDLE_MS + 2_000);
      console.log("  gateway RSS without traffic (no request since it started):");
      console.log(
        `    just started ${mb(justStarted)}; 1 s later, the writer thread running the retention pass at start: ${mb(withWriter)}`,
      );
      console.log(
        `    idle, settled (writer stopped after ${DEFAULT_WRITER_IDLE_MS / 1000} s idle, RSS steady): ${mb(resting)} (target < 60 MB); threads ${threads} → ${threadCount(idle.pid)}`,
      );
    } finally {
      await stop(idle.child);
    }
  });
}
