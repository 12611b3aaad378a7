import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/cli/main.js");
/** Fixture files kept in the repository (sources in test/fixtures/SOURCES.md). */
export const FIXTURES = path.join(ROOT, "test/fixtures");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables that would leak the developer's real credentials or state into a test. */
const SCRUBBED = /^(OPENCLAW_|CHUTES_|HF_|HUGGINGFACE_|OPENAI_|DEBUG$)/;

export interface TestState {
  root: string;
  stateDir: string;
  configPath: string;
  authProfilesPath: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** A private temp HOME and state dir, and an env that points the CLI at them (never the real home). */
export async function createTestState(extraEnv: NodeJS.ProcessEnv = {}): Promise<TestState> {
  const root = await mkdtemp(path.join(os.tmpdir(), "openclaw-test-"));
  const stateDir = path.join(root, "state");
  const home = path.join(root, "home");
  const bin = path.join(root, "bin");
  await mkdir(home);
  await mkdir(bin);
  await symlink(CLI, path.join(bin, "openclaw"));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!SCRUBBED.test(name)) env[name] = value;
  Object.assign(env, { HOME: home, OPENCLAW_STATE_DIR: stateDir, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1" }, extraEnv);
  return {
    root,
    stateDir,
    configPath: path.join(stateDir, "openclaw.json"),
    authProfilesPath: path.join(stateDir, "credentials", "auth-profiles.json"),
    env,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

function collect(child: ReturnType<typeof spawn>, input: string | undefined): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  child.stdin?.end(input ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Run the built CLI as a real process. */
export function runCli(
  state: Pick<TestState, "env">,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...state.env, ...options.env }, stdio: "pipe" });
  return collect(child, options.input);
}

/** Run a shell script with `openclaw` on PATH, so seed commands are tested exactly as written. */
export function runShell(state: Pick<TestState, "env" | "root">, script: string, options: { input?: string } = {}): Promise<CliResult> {
  const child = spawn("bash", ["-euo", "pipefail", "-c", script], { env: state.env, cwd: state.root, stdio: "pipe" });
  return collect(child, options.input);
}

/** A CLI error is one line on stderr, never a stack trace. */
export function isOneLineError(stderr: string): boolean {
  const lines = stderr.trim().split("\n");
  return lines.length === 1 && lines[0]!.startsWith("openclaw: ") && !/\n\s+at /.test(stderr);
}

/** Write `openclaw.json` directly (as a user editing the file would). */
export async function writeConfig(state: TestState, config: unknown): Promise<void> {
  const { mkdir, writeFile } = await import("node:fs/promises");
  await mkdir(state.stateDir, { recursive: true, mode: 0o700 });
  await writeFile(state.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected by assertions
export async function readConfig(state: TestState): Promise<Record<string, any>> {
  const { readFile } = await import("node:fs/promises");
  const JSON5 = (await import("json5")).default;
  return JSON5.parse(await readFile(state.configPath, "utf8"));
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected by assertions
export async function readStore(state: TestState): Promise<{ profiles: Record<string, any> }> {
  const { readFile } = await import("node:fs/promises");
  return JSON.parse(await readFile(state.authProfilesPath, "utf8"));
}
