import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { waitUntil } from "./wait.js";

export const logFileOf = (stateDir: string) => path.join(stateDir, "logs", "gateway.log");

/** The gateway log file's JSON lines as they stand (the gateway keeps writing: a torn last line is left out). */
export function logFileEntries(stateDir: string, file = logFileOf(stateDir)): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.endsWith("}"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Waits (polling: the file is written in batches) for the request line with this id. */
export function waitForRequestLine(stateDir: string, requestId: string): Promise<Record<string, unknown>> {
  return waitUntil(() => logFileEntries(stateDir).find((entry) => entry.msg === "request" && entry.requestId === requestId), {
    what: `the log line of ${requestId}`,
  });
}

/**
 * Requests that each leave a ~2 KB line in the log (a 404 on a long path: the line keeps the path
 * and the error quoting it), until about `bytes` of lines were written.
 */
export async function floodLog(gatewayUrl: string, bytes: number, token: string): Promise<number> {
  const path = `/flood/${"x".repeat(1990)}`;
  // The line keeps 256 characters of the path and the whole error quoting it: more than path.length.
  const perLine = path.length;
  const total = Math.ceil(bytes / perLine);
  const headers = { authorization: `Bearer ${token}` };
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      const response = await fetch(`${gatewayUrl}${path}`, { headers });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return total;
}
