import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { errorCode } from "../shared/errors.js";
import { substituteEnvReferences } from "./env-substitution.js";
import type { OpenClawConfig } from "./schema.js";

type EnvBlock = NonNullable<OpenClawConfig["env"]>;

/** Set variables that are not already set: the real environment always wins. */
function applyMissing(target: NodeJS.ProcessEnv, vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value !== undefined && (target[name] === undefined || target[name] === "")) target[name] = value;
  }
}

/** `<state>/.env` (0600 by convention) is where daemon-style setups keep tokens. */
export function applyDotEnvFile(file: string, env: NodeJS.ProcessEnv): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  applyMissing(env, parseEnv(text) as Record<string, string>);
}

/**
 * The config's `env` block: plain `NAME: value` entries and `vars`, then optionally the
 * login shell's environment (`shellEnv.enabled`), for variables a daemon would not inherit.
 */
export function applyEnvBlock(block: EnvBlock | undefined, env: NodeJS.ProcessEnv): void {
  if (!block) return;
  const { vars, shellEnv, ...direct } = block;
  applyMissing(env, substituteEnvReferences({ ...direct, ...vars }, env, ["env"]) as Record<string, string>);
  if (shellEnv?.enabled) applyMissing(env, readLoginShellEnv(env, shellEnv.timeoutMs ?? 15_000));
}

function readLoginShellEnv(env: NodeJS.ProcessEnv, timeoutMs: number): Record<string, string> {
  const shell = env.SHELL || "/bin/sh";
  const result = spawnSync(shell, ["-l", "-c", "env -0"], {
    env,
    timeout: timeoutMs,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  if (result.status !== 0 || !result.stdout) return {};
  const vars: Record<string, string> = {};
  for (const entry of result.stdout.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) vars[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return vars;
}
