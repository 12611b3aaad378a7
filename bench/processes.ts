import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Resolves with the first line (or its first capture group) of a child's output that matches. */
export function firstLine(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const source = child[stream];
    if (!source) return reject(new Error("no stream"));
    const lines = createInterface({ input: source });
    lines.on("line", (line) => {
      const match = pattern.exec(line);
      if (match) resolve(match[1] ?? line);
    });
    child.once("exit", () => reject(new Error(`process exited before printing ${pattern}`)));
  });
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * A bench helper written in TypeScript (one file, importing packages only), compiled to plain
 * JavaScript under .tmp/ and run by bare `node`: under tsx the ceiling would carry the loader's
 * memory and hooks, and its figures would not be a bare Node process's.
 */
async function compile(file: string): Promise<string> {
  const source = fileURLToPath(new URL(file, import.meta.url));
  const out = path.join(ROOT, ".tmp", "bench", path.basename(source).replace(/\.ts$/, ".mjs"));
  const { outputText } = ts.transpileModule(await readFile(source, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, outputText);
  return out;
}

/** A bench helper process (see compile), printing its URL on stdout. */
export async function startScript(file: string, args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [await compile(file), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await firstLine(child, "stdout", /^(http:\/\/\S+)$/);
  return { child, url };
}

/** Stops a child we started and waits for it to be gone. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

const proc = (pid: number, file: string) => (existsSync(`/proc/${pid}/${file}`) ? readFileSync(`/proc/${pid}/${file}`, "utf8") : "");

/** Resident set size in MB (Linux; 0 elsewhere). */
export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(proc(pid, "status"))?.[1] ?? 0) / 1024;

/** User + system CPU time of a process and all its threads, in ms (Linux; 0 elsewhere). Clock ticks are 10 ms. */
export function cpuMs(pid: number): number {
  const fields = proc(pid, "stat").split(") ")[1]?.split(" ");
  return fields ? (Number(fields[11]) + Number(fields[12])) * 10 : 0;
}

/**
 * CPU time once the process has gone quiet (no tick in 100 ms, at most 2 s): work a request leaves
 * behind (batched writes, a storage thread, GC) belongs to the round that caused it.
 */
export async function settledCpuMs(pid: number): Promise<number> {
  let last = cpuMs(pid);
  for (let waited = 0; waited < 2_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = cpuMs(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

export const median = (values: number[]) =>
  values.length ? ([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number) : Number.NaN;

/** Threads of a process (Linux; 0 elsewhere): the gateway's store writer is one while it runs. */
export const threadCount = (pid: number) => Number(/Threads:\s+(\d+)/.exec(proc(pid, "status"))?.[1] ?? 0);

/**
 * RSS at rest: after `waitMs` (long enough for the store's writer thread to stop when idle), once
 * RSS has moved less than 0.5 MB in 2 s (at most 20 s more).
 */
export async function restingRssMb(pid: number, waitMs: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  let last = rssMb(pid);
  for (let waited = 0; waited < 20_000; waited += 2_000) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const now = rssMb(pid);
    if (Math.abs(now - last) < 0.5) return now;
    last = now;
  }
  return last;
}
