import { existsSync } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { resolveStatePaths } from "../../config/paths.js";
import { logFilePath, rotatedPath } from "../../gateway/logging/log-file.js";
import { formatLogLine } from "../../gateway/logging/pretty-line.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";

export interface LogsOptions {
  follow?: boolean;
  json?: boolean;
  lines?: string;
}

const DEFAULT_LINES = 20;
/** Rotated files looked through for the last lines (gateway.logs.keepFiles is at most 100). */
const MAX_ROTATED = 100;
const CHUNK_BYTES = 64 * 1024;
/** How often `-f` looks for new lines (and for a rotation): often enough to feel live, rarely enough to cost nothing. */
const FOLLOW_POLL_MS = 200;

function parseCount(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LINES;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 0)
    throw new InvalidRequestError(`-n must be a whole number of lines, not ${JSON.stringify(text)}`);
  return count;
}

/** The gateway's log, newest lines last: readable by default, the stored JSON lines with --json; -f keeps following it. */
export async function runLogs(options: LogsOptions): Promise<void> {
  const count = parseCount(options.lines);
  const file = logFilePath(resolveStatePaths().stateDir);
  if (!existsSync(file))
    throw new NotFoundError(`no gateway log at ${file}: it is written while \`openclaw gateway\` runs (unless gateway.logs.file is false)`);
  const colour = process.stdout.hasColors?.() === true;
  const print = (lines: string[]) => {
    if (lines.length > 0) process.stdout.write(`${lines.map((line) => (options.json ? line : formatLogLine(line, colour))).join("\n")}\n`);
  };
  const { lines, end } = await lastLines(file, count);
  print(lines);
  if (options.follow) await follow(file, end, print);
}

/** The last `count` complete lines (from rotated files too when the live one has fewer), and where the live one's end is. */
async function lastLines(file: string, count: number): Promise<{ lines: string[]; end: number }> {
  const live = await linesFromEnd(file, count);
  let lines = live.lines;
  for (let index = 1; lines.length < count && index <= MAX_ROTATED; index++) {
    const older = rotatedPath(file, index);
    if (!existsSync(older)) break;
    lines = [...(await linesFromEnd(older, count - lines.length)).lines, ...lines];
  }
  return { lines, end: live.end };
}

/** Reads backwards a chunk at a time: a 10 MB log costs a few reads, not a full one. */
async function linesFromEnd(file: string, count: number): Promise<{ lines: string[]; end: number }> {
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    let position = size;
    let tail = Buffer.alloc(0);
    // A line still being written (no newline yet) is left for -f.
    let end: number | undefined;
    while (position > 0) {
      const length = Math.min(CHUNK_BYTES, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      tail = Buffer.concat([chunk, tail]);
      if (end === undefined) {
        const lastNewline = tail.lastIndexOf(10);
        if (lastNewline >= 0) end = position + lastNewline + 1;
      }
      if (end !== undefined && countNewlines(tail) > count) break;
    }
    end ??= 0;
    const complete = tail.subarray(0, end - position).toString("utf8");
    const lines = complete.split("\n").slice(0, -1);
    return { lines: count === 0 ? [] : lines.slice(-count), end };
  } finally {
    await handle.close();
  }
}

function countNewlines(buffer: Buffer): number {
  let newlines = 0;
  for (let index = buffer.indexOf(10); index >= 0; index = buffer.indexOf(10, index + 1)) newlines++;
  return newlines;
}

/**
 * New lines as they are written, until the process is stopped (Ctrl-C). A rotation (the path now
 * names a new file) is noticed: the old file is read to its end, then the new one from its start.
 */
async function follow(file: string, from: number, print: (lines: string[]) => void): Promise<never> {
  let handle: FileHandle = await open(file, "r");
  let inode = (await handle.stat()).ino;
  let position = from;
  let partial = "";
  const readNew = async () => {
    const size = (await handle.stat()).size;
    if (size < position) position = 0;
    while (position < size) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, size - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const text = partial + chunk.subarray(0, bytesRead).toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      print(lines);
    }
  };
  for (;;) {
    await readNew();
    const current = await stat(file).catch(() => undefined);
    if (current && current.ino !== inode) {
      // Lines that reached the old file before the gateway reopened it.
      await readNew();
      await handle.close();
      handle = await open(file, "r");
      inode = (await handle.stat()).ino;
      position = 0;
      partial = "";
      continue;
    }
    await sleep(FOLLOW_POLL_MS);
  }
}
