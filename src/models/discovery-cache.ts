import { readFile } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import type { CatalogModel } from "../providers/provider.js";
import { writeFileAtomic } from "../shared/atomic-file.js";

/** Discovered model lists on disk, so `models list` is instant and works offline. */
export interface DiscoveryCacheEntry {
  version: 1;
  provider: string;
  baseUrl: string;
  fetchedAt: number;
  models: CatalogModel[];
}

export const DEFAULT_DISCOVERY_TTL_SECONDS = 4 * 60 * 60;

function cacheFile(paths: StatePaths, provider: string): string {
  return path.join(paths.stateDir, "cache", "models", `${provider}.json`);
}

/** The cached list for this provider and base URL, or undefined (missing, unreadable, other URL). */
export async function readDiscoveryCache(paths: StatePaths, provider: string, baseUrl: string): Promise<DiscoveryCacheEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(cacheFile(paths, provider), "utf8")) as DiscoveryCacheEntry;
    if (entry.version !== 1 || entry.baseUrl !== baseUrl || !Array.isArray(entry.models) || typeof entry.fetchedAt !== "number")
      return undefined;
    return entry;
  } catch {
    return undefined;
  }
}

export async function writeDiscoveryCache(paths: StatePaths, entry: DiscoveryCacheEntry): Promise<void> {
  const file = cacheFile(paths, entry.provider);
  ensurePrivateDir(path.dirname(file));
  await writeFileAtomic(file, JSON.stringify(entry), { mode: 0o600 });
}
