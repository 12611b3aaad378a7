import path from "node:path";
import { JsonParser } from "@croct/json5-parser";
import { withFileLock, writeFileAtomic } from "../shared/atomic-file.js";
import { readRawConfig } from "./load.js";
import { ensurePrivateDir } from "./paths.js";
import type { OpenClawConfig } from "./schema.js";
import { validateRawConfig } from "./validate-config.js";

export type ConfigMutation = (raw: Record<string, unknown>) => void | Promise<void>;

/**
 * The only way the product writes `openclaw.json`: under the file's lock, re-read, mutate,
 * validate the whole result, then replace the file atomically (keeping `.bak`).
 * Nothing is written when the result is invalid. Comments survive where the file parses
 * with a lossless JSON5 parser.
 */
export async function updateConfigFile(configPath: string, mutate: ConfigMutation): Promise<OpenClawConfig> {
  ensurePrivateDir(path.dirname(configPath));
  return withFileLock(configPath, async () => {
    const current = await readRawConfig(configPath);
    const next = structuredClone(current.raw);
    await mutate(next);
    const validated = validateRawConfig(next, configPath);
    await writeFileAtomic(configPath, serializeConfig(current.text, next), { mode: 0o600, backup: current.exists });
    return validated;
  });
}

function serializeConfig(previousText: string, value: Record<string, unknown>): string {
  if (previousText.trim()) {
    try {
      const document = JsonParser.parse(previousText);
      document.update(value as Parameters<typeof document.update>[0]);
      const text = document.toString();
      return text.endsWith("\n") ? text : `${text}\n`;
    } catch {
      // Fall through: a plain rewrite loses comments but never the data.
    }
  }
  return `${JSON.stringify(value, null, 2)}\n`;
}
