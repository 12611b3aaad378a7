import { readFile } from "node:fs/promises";
import JSON5 from "json5";
import { ConfigError, errorCode } from "../shared/errors.js";
import { applyDotEnvFile, applyEnvBlock } from "./env-block.js";
import { substituteEnvReferences } from "./env-substitution.js";
import { resolveStatePaths, type StatePaths } from "./paths.js";
import type { OpenClawConfig } from "./schema.js";
import { ValidationMemo } from "./validation-memo.js";

export interface RawConfigFile {
  path: string;
  exists: boolean;
  /** The file's text as read (empty when missing), kept so edits can preserve comments. */
  text: string;
  /** The parsed document: no substitution, no defaults. */
  raw: Record<string, unknown>;
}

export async function readRawConfig(file: string): Promise<RawConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return { path: file, exists: false, text: "", raw: {} };
    throw new ConfigError(`cannot read config ${file}: ${(error as Error).message}`, { cause: error });
  }
  return { path: file, exists: true, text, raw: parseConfigText(text, file) };
}

export function parseConfigText(text: string, file: string): Record<string, unknown> {
  if (!text.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${file} is not valid JSON5: ${(error as Error).message.replace(/^JSON5: /, "")}`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config ${file} must hold an object at the top level`);
  }
  return parsed as Record<string, unknown>;
}

/** The schema (and zod) is loaded only for a document the memo does not know. */
function validateWith(memo: ValidationMemo, raw: unknown, file: string): Promise<OpenClawConfig> {
  return memo.validate("config", raw, async () => (await import("./validate-config.js")).validateRawConfig(raw, file));
}

export interface LoadedConfig {
  config: OpenClawConfig;
  file: RawConfigFile;
  paths: StatePaths;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  paths?: StatePaths;
}

/**
 * Read, apply `<state>/.env` and the `env` block to `env` (never overriding what is set),
 * substitute `${VAR}` references, validate. The result is what the product runs on.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const paths = options.paths ?? resolveStatePaths(env);
  const file = await readRawConfig(paths.configPath);
  const memo = ValidationMemo.forState(paths.stateDir);
  // Validate the document's shape first so an unknown key is reported as such.
  const shaped = await validateWith(memo, file.raw, paths.configPath);
  applyDotEnvFile(paths.dotEnvPath, env);
  applyEnvBlock(shaped.env, env);
  const { env: envBlock, ...rest } = file.raw;
  const substituted = { ...substituteEnvReferences(rest, env), ...(envBlock === undefined ? {} : { env: envBlock }) };
  return { config: await validateWith(memo, substituted, paths.configPath), file, paths };
}
