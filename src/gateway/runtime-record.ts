import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir, type StatePaths } from "../config/paths.js";
import { writeFileAtomic } from "../shared/atomic-file.js";

/** What a running gateway tells other processes of the same state dir (`openclaw gateway status`). No secret. */
export interface GatewayRecord {
  pid: number;
  /** Where clients on this machine reach it (a wildcard bind is shown as loopback). */
  url: string;
  /** The address it listens on, as configured. */
  host: string;
  port: number;
  version: string;
  startedAt: string;
}

export function gatewayRecordPath(paths: Pick<StatePaths, "stateDir">): string {
  return path.join(paths.stateDir, "run", "gateway.json");
}

/** The URL a local client uses for a listening address: `0.0.0.0` / `::` are reached on loopback. */
export function localUrl(host: string, port: number): string {
  const local = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${local.includes(":") ? `[${local}]` : local}:${port}`;
}

export async function writeGatewayRecord(paths: Pick<StatePaths, "stateDir">, record: GatewayRecord): Promise<void> {
  const file = gatewayRecordPath(paths);
  ensurePrivateDir(path.dirname(file));
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** Remove the record if it is still this process's (a newer gateway may have replaced it). */
export async function removeGatewayRecord(paths: Pick<StatePaths, "stateDir">, pid = process.pid): Promise<void> {
  const current = await readGatewayRecord(paths);
  if (current?.pid === pid) await rm(gatewayRecordPath(paths), { force: true });
}

/** The record, or undefined when there is none or it is unreadable (a gateway being replaced). */
export async function readGatewayRecord(paths: Pick<StatePaths, "stateDir">): Promise<GatewayRecord | undefined> {
  let text: string;
  try {
    text = await readFile(gatewayRecordPath(paths), "utf8");
  } catch {
    return undefined;
  }
  if (text.length > 4096) return undefined;
  try {
    const value = JSON.parse(text) as Partial<GatewayRecord>;
    if (
      typeof value.pid !== "number" ||
      typeof value.url !== "string" ||
      typeof value.port !== "number" ||
      typeof value.host !== "string" ||
      typeof value.version !== "string" ||
      typeof value.startedAt !== "string"
    ) {
      return undefined;
    }
    return value as GatewayRecord;
  } catch {
    return undefined;
  }
}
