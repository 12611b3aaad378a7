import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { errorCode, OpenClawError } from "./errors.js";

export interface FileLockOptions {
  /** A lock whose owner cannot be checked (no owner record, another host) is taken over once untouched this long. */
  staleMs?: number;
  /** How long to wait for a live owner before giving up. */
  waitMs?: number;
}

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

const OWNER_FILE = "owner.json";

/** True unless the process is certainly gone (EPERM: it exists, under another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM";
  }
}

async function readOwner(lockDir: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path.join(lockDir, OWNER_FILE), "utf8")) as Partial<LockOwner>;
    if (typeof owner.pid === "number" && typeof owner.host === "string" && typeof owner.token === "string") return owner as LockOwner;
  } catch {
    // Missing or half-written: the caller falls back to the lock's age.
  }
  return undefined;
}

/** `mkdir` is the atomic step; the owner record follows so that waiters can see whether its owner lives. */
async function tryAcquire(lockDir: string, owner: LockOwner): Promise<boolean> {
  try {
    await mkdir(lockDir);
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await writeFile(path.join(lockDir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
  } catch (error) {
    await rm(lockDir, { recursive: true, force: true });
    throw error;
  }
  return true;
}

type Holder = { owner: LockOwner; abandoned: boolean } | { owner: undefined; abandoned: boolean; mtimeMs: number } | "gone";

async function inspect(lockDir: string, staleMs: number): Promise<Holder> {
  const owner = await readOwner(lockDir);
  // An owner on this host is checked directly: a killed CLI's lock is free at once, a live one never goes stale.
  if (owner && owner.host === os.hostname()) return { owner, abandoned: !isProcessAlive(owner.pid) };
  try {
    const { mtimeMs } = await stat(lockDir);
    return { owner: undefined, abandoned: Date.now() - mtimeMs > staleMs, mtimeMs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "gone";
    throw error;
  }
}

/**
 * Move the abandoned lock aside (atomic), then check it was the one judged abandoned: another
 * waiter may have taken it over and locked anew in between, and then its lock is put back.
 */
async function takeOver(lockDir: string, seen: Exclude<Holder, "gone">): Promise<void> {
  const aside = `${lockDir}.abandoned.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockDir, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  const moved = await readOwner(aside);
  const same = seen.owner ? moved?.token === seen.owner.token : moved === undefined;
  if (same) await rm(aside, { recursive: true, force: true });
  else await rename(aside, lockDir).catch(() => rm(aside, { recursive: true, force: true }));
}

/** Temp files and set-aside locks of writers that died (their pid is in the name) are removed under the lock. */
async function removeLeftovers(file: string): Promise<void> {
  const dir = path.dirname(file);
  const base = path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const leftover = new RegExp(`^(?:\\.${base}\\.(\\d+)\\.[0-9a-f]+\\.tmp|${base}\\.lock\\.abandoned\\.(\\d+)\\.[0-9a-f]+)$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = leftover.exec(name);
    const pid = Number(match?.[1] ?? match?.[2]);
    if (match && !isProcessAlive(pid)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Run `task` while holding an exclusive lock on `file`: a `<file>.lock` directory (works across
 * processes, and with older versions that used proper-lockfile) holding its owner's pid and host.
 * A lock whose owner died on this host is taken over at once; one that cannot be checked after
 * `staleMs` untouched (the holder keeps it touched).
 */
export async function withFileLock<T>(file: string, task: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? 10_000;
  const deadline = Date.now() + (options.waitMs ?? Math.max(30_000, staleMs * 2));
  const lockDir = `${file}.lock`;
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), token: randomBytes(8).toString("hex") };
  let delay = 5;
  try {
    while (!(await tryAcquire(lockDir, owner))) {
      const holder = await inspect(lockDir, staleMs);
      if (holder === "gone") continue;
      if (holder.abandoned) {
        await takeOver(lockDir, holder);
        continue;
      }
      if (Date.now() > deadline) {
        const who = holder.owner ? `process ${holder.owner.pid} on ${holder.owner.host} holds it` : "another process holds it";
        throw new OpenClawError(`could not lock ${file}: ${who}; try again when it is done`);
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 250);
    }
  } catch (error) {
    if (error instanceof OpenClawError) throw error;
    throw new OpenClawError(`could not lock ${file}: ${(error as Error).message}`, { cause: error });
  }
  const touch = setInterval(() => {
    const now = new Date();
    utimes(lockDir, now, now).catch(() => undefined);
  }, staleMs / 3);
  touch.unref();
  try {
    await removeLeftovers(file);
    return await task();
  } finally {
    clearInterval(touch);
    // Only our own lock is removed: one taken over after overrunning staleMs belongs to someone else now.
    if ((await readOwner(lockDir))?.token === owner.token) await rm(lockDir, { recursive: true, force: true });
  }
}
