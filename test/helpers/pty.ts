import * as pty from "node-pty";
import { CLI } from "./cli.js";

export interface PtySession {
  output(): string;
  write(data: string): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<number>;
  kill(): void;
}

const live = new Set<pty.IPty>();
// A failed assertion must not leave a terminal (and the test run) hanging.
process.once("beforeExit", () => {
  for (const term of live) term.kill();
});

/** Run the built CLI inside a real pseudo-terminal, as a person at a keyboard would. */
export function spawnCliInPty(args: string[], env: NodeJS.ProcessEnv): PtySession {
  const term = pty.spawn(process.execPath, [CLI, ...args], { cols: 100, rows: 30, env: env as Record<string, string> });
  live.add(term);
  term.onExit(() => live.delete(term));
  // Nothing in these tests takes longer; a stuck session is killed rather than hanging the run.
  const guard = setTimeout(() => term.kill(), 30_000);
  guard.unref();
  term.onExit(() => clearTimeout(guard));
  let buffer = "";
  term.onData((data) => {
    buffer += data;
  });
  const exit = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    output: () => buffer,
    write: (data) => term.write(data),
    kill: () => term.kill(),
    exit,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(buffer)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in terminal output:\n${buffer}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
