import { pino } from "pino";
import { RotatingLogFile } from "./logging/log-file.js";
import { formatLogLine } from "./logging/pretty-line.js";

/**
 * Log lines are written this many bytes at a time, and at least every LOG_FLUSH_MS: one write per
 * line cost ~5 % of the event loop under load (a string copy and a thread-pool hop each).
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 200;

export interface LogOptions {
  /** "pretty" (one readable, coloured line) or "json"; default pretty when stdout is a terminal. */
  format?: "pretty" | "json" | undefined;
  /** Also append every line, as JSON, to this file (rotated by size). */
  file?: { path: string; maxBytes: number; keepFiles: number } | undefined;
  /** Where a broken log file is reported (once). */
  onFileError?: (error: Error) => void;
}

type Flushable = { write(line: string): unknown; flush(done: () => void): void };

/**
 * One line per event on stdout (JSON, or readable on a terminal) and, as JSON, in the log file:
 * pino serialises each line once and both sinks buffer it and write asynchronously, on this
 * thread (a transport thread would copy every line across threads for nothing at these sizes).
 */
export function createLogger(verbose: boolean, options: LogOptions = {}) {
  const stdout = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
  const pretty = (options.format ?? (process.stdout.isTTY ? "pretty" : "json")) === "pretty";
  const file = options.file
    ? new RotatingLogFile({
        ...options.file,
        bufferBytes: LOG_BUFFER_BYTES,
        flushMs: LOG_FLUSH_MS,
        onError: options.onFileError ?? (() => undefined),
      })
    : undefined;
  const settings = {
    level: verbose ? "debug" : "info",
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (!pretty && !file) return pino(settings, stdout);
  const colour = pretty && process.stdout.hasColors?.() === true;
  const both: Flushable = {
    write(line: string) {
      stdout.write(pretty ? `${formatLogLine(line.trimEnd(), colour)}\n` : line);
      file?.write(line);
    },
    flush(done) {
      stdout.flush(() => (file ? file.flush(done) : done()));
    },
  };
  return pino(settings, both);
}
