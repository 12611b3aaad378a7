import { open } from "node:fs/promises";

/** The first read shows at most this much of the end of the file. */
export const TAIL_BYTES = 64 * 1024;
/** One poll reads at most this much; the page asks again for the rest. */
export const MAX_READ_BYTES = 256 * 1024;
/** Longest line kept (a longer one is cut, so one line cannot fill the page). */
const MAX_LINE_CHARS = 8 * 1024;

export interface LogTail {
  /** Whether the log file exists (the gateway may not write one: gateway.logs.file false). */
  present: boolean;
  /** Where to read from next time: `<inode>:<byte offset>`, so a rotated file starts over. */
  cursor: string;
  lines: Array<Record<string, unknown>>;
}

function parseLine(line: string): Record<string, unknown> {
  const text = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON (a cut line, or another format): shown as text
  }
  return { msg: text };
}

/**
 * The lines added to the log since `cursor` (or the end of the file without one). Reads only
 * whole lines, bounded per call; a cursor from a file that was since rotated starts at the new
 * file's beginning.
 */
export async function readLogTail(file: string, cursor: string | undefined): Promise<LogTail> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch {
    return { present: false, cursor: "", lines: [] };
  }
  try {
    const stat = await handle.stat();
    const [inode, offsetText] = (cursor ?? "").split(":");
    const offset = Number(offsetText);
    let start: number;
    if (inode === String(stat.ino) && Number.isSafeInteger(offset) && offset >= 0 && offset <= stat.size) start = offset;
    else if (cursor) start = 0;
    else start = Math.max(0, stat.size - TAIL_BYTES);
    const length = Math.min(stat.size - start, MAX_READ_BYTES);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = length > 0 ? await handle.read(buffer, 0, length, start) : { bytesRead: 0 };
    let chunk = buffer.subarray(0, bytesRead);
    let skipped = 0;
    // Starting mid-file: the first line is probably cut; begin after it.
    if (start > 0 && !cursor) {
      const firstNewline = chunk.indexOf(10);
      skipped = firstNewline < 0 ? chunk.length : firstNewline + 1;
      chunk = chunk.subarray(skipped);
    }
    const lastNewline = chunk.lastIndexOf(10);
    // A single line longer than a whole read would never end: skip past it.
    const whole = lastNewline < 0 ? (length === MAX_READ_BYTES ? chunk : Buffer.alloc(0)) : chunk.subarray(0, lastNewline + 1);
    const lines = whole
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map(parseLine);
    return { present: true, cursor: `${stat.ino}:${start + skipped + whole.length}`, lines };
  } finally {
    await handle.close();
  }
}
