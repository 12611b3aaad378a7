import { readFile } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import type { CatalogModel } from "../providers/provider.js";
import { writeFileAtomic } from "../shared/atomic-file.js";
import type { SharedCache } from "../shared/shared-cache.js";

/** Discovered model lists on disk, so `models list` is instant and works offline. */
export interface DiscoveryCacheEntry {
  version: 1;
  provider: string;
  baseUrl: string;
  fetchedAt: number;
  models: CatalogModel[];
}

export const DEFAULT_DISCOVERY_TTL_SECONDS = 4 * 60 * 60;

/** Lists written to the shared cache live this long there (the catalog judges staleness by `fetchedAt`). */
const SHARED_TTL_MS = 7 * 24 * 60 * 60 * 1000;

let shared: SharedCache | undefined;

/**
 * Replicas share discovered lists (one discovery serves all): read from the shared cache first,
 * written to it as well as to the file. Set once by the gateway when Redis is configured.
 */
export function shareDiscoveryCache(cache: SharedCache | undefined): void {
  shared = cache;
}

const sharedKey = (provider: string, baseUrl: string) => `discovery:${provider}:${baseUrl}`;

function validEntry(entry: DiscoveryCacheEntry | undefined, baseUrl: string): entry is DiscoveryCacheEntry {
  return (
    entry !== undefined &&
    entry.version === 1 &&
    entry.baseUrl === baseUrl &&
    Array.isArray(entry.models) &&
    typeof entry.fetchedAt === "number"
  );
}

async function readShared(provider: string, baseUrl: string): Promise<DiscoveryCacheEntry | undefined> {
  const text = await shared?.get(sharedKey(provider, baseUrl)).catch(() => undefined);
  if (!text) return undefined;
  try {
    const entry = JSON.parse(text) as DiscoveryCacheEntry;
    return validEntry(entry, baseUrl) ? entry : undefined;
  } catch {
    return undefined;
  }
}

function cacheFile(paths: StatePaths, provider: string): string {
  return path.join(paths.stateDir, "cache", "models", `${provider}.json`);
}

/** The cached list for this provider and base URL, or undefined (missing, unreadable, other URL). */
export async function readDiscoveryCache(paths: StatePaths, provider: string, baseUrl: string): Promise<DiscoveryCacheEntry | undefined> {
  const [fromShared, fromFile] = await Promise.all([readShared(provider, baseUrl), readCacheFile(paths, provider, baseUrl)]);
  // The newer of the two: another replica may have discovered since this one wrote its file.
  if (fromShared && (!fromFile || fromShared.fetchedAt > fromFile.fetchedAt)) return fromShared;
  return fromFile;
}

async function readCacheFile(paths: StatePaths, provider: string, baseUrl: string): Promise<DiscoveryCacheEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(cacheFile(paths, provider), "utf8")) as DiscoveryCacheEntry;
    return validEntry(entry, baseUrl) ? entry : undefined;
  } catch {
    return undefined;
  }
}

export async function writeDiscoveryCache(paths: StatePaths, entry: DiscoveryCacheEntry): Promise<void> {
  const file = cacheFile(paths, entry.provider);
  ensurePrivateDir(path.dirname(file));
  const text = JSON.stringify(entry);
  await Promise.all([
    writeFileAtomic(file, text, { mode: 0o600 }),
    shared?.set(sharedKey(entry.provider, entry.baseUrl), text, SHARED_TTL_MS).catch(() => undefined),
  ]);
}
