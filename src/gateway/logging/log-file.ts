import { chmodSync, mkdirSync, statSync } from "node:fs";
import { rename } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";

/** The gateway's log file under the state dir; `openclaw logs` and the dashboard read it there. */
export function logFilePath(stateDir: string): string {
  return path.join(stateDir, "logs", "gateway.log");
}

/** gateway.log.1 is the newest rotated file, .N the oldest. */
export const rotatedPath = (file: string, index: number): string => `${file}.${index}`;

export interface LogFileOptions {
  path: string;
  /** Rotate once the file holds about this many bytes (counted as characters written: exact for ASCII). */
  maxBytes: number;
  /** Rotated files kept beside the live one. */
  keepFiles: number;
  /** Bytes buffered before a write, and the longest a line waits (see logger.ts). */
  bufferBytes: number;
  flushMs: number;
  /** Told once when the file cannot be written; lines for it are dropped from then on. */
  onError(error: Error): void;
}

/**
 * JSON lines appended to a 0600 file in a 0700 dir, buffered and written asynchronously. Past
 * maxBytes the files shift (gateway.log → .1 → .2 …, the oldest dropped) and the live file is
 * reopened; lines written meanwhile stay in the buffer, so none is lost or blocks a request.
 */
export class RotatingLogFile {
  private readonly sink: ReturnType<typeof pino.destination>;
  private size: number;
  private rotating = false;
  private failed = false;

  constructor(private readonly options: LogFileOptions) {
    const dir = path.dirname(options.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.size = sizeOf(options.path);
    this.sink = pino.destination({
      dest: options.path,
      sync: false,
      mode: 0o600,
      minLength: options.bufferBytes,
      periodicFlush: options.flushMs,
    });
    // A file made by an older version (or by hand) may be wider open.
    this.sink.once("ready", () => chmodSync(options.path, 0o600));
    this.sink.on("error", (error: Error) => {
      if (this.failed) return;
      this.failed = true;
      options.onError(error);
    });
  }

  write(line: string): void {
    if (this.failed) return;
    this.sink.write(line);
    this.size += line.length;
    if (this.size >= this.options.maxBytes && !this.rotating) void this.rotate();
  }

  flush(done: () => void): void {
    if (this.failed) done();
    else this.sink.flush(() => done());
  }

  private async rotate(): Promise<void> {
    this.rotating = true;
    this.size = 0;
    const file = this.options.path;
    try {
      // Each rename replaces its target: the oldest (.keepFiles) is dropped by the first one.
      for (let index = this.options.keepFiles - 1; index >= 1; index--)
        await rename(rotatedPath(file, index), rotatedPath(file, index + 1)).catch(ignoreMissing);
      await rename(file, rotatedPath(file, 1));
      this.sink.reopen();
    } catch (error) {
      this.sink.emit("error", error);
    } finally {
      this.rotating = false;
    }
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}
