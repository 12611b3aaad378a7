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
