import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Everything lives under one state dir so tests and users can move it with one variable. */
export interface StatePaths {
  stateDir: string;
  configPath: string;
  credentialsDir: string;
  authProfilesPath: string;
  dotEnvPath: string;
}

export function resolveStatePaths(env: NodeJS.ProcessEnv = process.env): StatePaths {
  const stateDir = path.resolve(expandHome(env.OPENCLAW_STATE_DIR?.trim() || path.join(os.homedir(), ".openclaw"), env));
  const configPath = env.OPENCLAW_CONFIG_PATH?.trim()
    ? path.resolve(expandHome(env.OPENCLAW_CONFIG_PATH.trim(), env))
    : path.join(stateDir, "openclaw.json");
  const credentialsDir = path.join(stateDir, "credentials");
  return {
    stateDir,
    configPath,
    credentialsDir,
    authProfilesPath: path.join(credentialsDir, "auth-profiles.json"),
    dotEnvPath: path.join(stateDir, ".env"),
  };
}

function expandHome(value: string, env: NodeJS.ProcessEnv): string {
  if (value === "~" || value.startsWith("~/")) return path.join(env.HOME || os.homedir(), value.slice(1));
  return value;
}

/** Create a private directory (0700). An existing directory is left as the user made it. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
