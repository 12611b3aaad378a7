import { randomBytes } from "node:crypto";
import { chmod, copyFile, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { errorCode, OpenClawError } from "./errors.js";

export interface AtomicWriteOptions {
  mode?: number;
  /** Copy the current file to `<file>.bak` before replacing it. */
  backup?: boolean;
}

/**
 * Write a whole file or nothing: temp file in the same directory, fsync, rename.
 * A reader never sees a half-written file, and a crash leaves the old one in place.
 */
export async function writeFileAtomic(file: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", mode);
  try {
    await handle.writeFile(data, "utf8");
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    // open() honours the umask; the mode of a file holding secrets must not.
    await chmod(temp, mode);
    if (options.backup) await backupExisting(file, mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function backupExisting(file: string, mode: number): Promise<void> {
  try {
    await copyFile(file, `${file}.bak`);
    await chmod(`${file}.bak`, mode);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
}

/**
 * Run `task` while holding an exclusive lock on `file` (a `<file>.lock` directory, so it
 * works across processes and does not need the file to exist). Stale locks from crashed
 * processes are taken over after `staleMs`.
 */
export async function withFileLock<T>(file: string, task: () => Promise<T>, staleMs = 10_000): Promise<T> {
  let release: () => Promise<void>;
  try {
    const { default: lockfile } = await import("proper-lockfile");
    release = await lockfile.lock(file, {
      realpath: false,
      stale: staleMs,
      retries: { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 250, randomize: true },
    });
  } catch (error) {
    throw new OpenClawError(`could not lock ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await task();
  } finally {
    await release().catch(() => undefined);
  }
}
