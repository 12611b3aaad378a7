import { randomBytes } from "node:crypto";
import { chmod, copyFile, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { errorCode } from "./errors.js";

export { withFileLock } from "./file-lock.js";

export interface AtomicWriteOptions {
  mode?: number;
  /** Copy the current file to `<file>.bak` before replacing it. */
  backup?: boolean;
}

/** `.<name>.<pid>.<random>.tmp` beside the file: the pid lets a later writer remove a dead writer's leftovers. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Write a whole file or nothing: temp file in the same directory, fsync, rename.
 * A reader never sees a half-written file, and a crash leaves the old one in place.
 */
export async function writeFileAtomic(file: string, data: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  const temp = tempPathFor(file);
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
