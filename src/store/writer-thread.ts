import { closeSync, openSync, readSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { ConfigError, errorCode } from "../shared/errors.js";
import type { WriterSettings } from "./worker-protocol.js";

/**
 * From dist/ the writer is the compiled JS beside this file. Run from the sources (tsx), a worker
 * does not inherit tsx's loader, so it registers it before importing the .ts writer.
 */
export function startWriter(settings: WriterSettings): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./store-worker.js", here), { workerData: settings });
  const entry = JSON.stringify(new URL("./store-worker.ts", here).href);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const code = `import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`;
  return new Worker(code, { eval: true, workerData: settings });
}

const SQLITE_HEADER = "SQLite format 3\0";

/**
 * The writer thread opens the database only when there is something to write, so the gateway
 * checks at start, without loading SQLite, what would stop it later: an existing file it cannot
 * open for writing, or one that is not a SQLite database.
 */
export function assertDatabaseUsable(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, "r+");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw new ConfigError(`cannot open the session database ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, header, 0, header.length, 0);
    // An empty file is what the writer creates before SQLite initialises it.
    if (read > 0 && header.toString("latin1", 0, read) !== SQLITE_HEADER.slice(0, read))
      throw new ConfigError(`the session database ${file} is not a SQLite database: move it away, and the gateway starts a new one`);
  } finally {
    closeSync(fd);
  }
}
