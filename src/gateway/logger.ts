import { pino } from "pino";

/**
 * Log lines are written this many bytes at a time, and at least every LOG_FLUSH_MS: one write per
 * line cost ~5 % of the event loop under load (a string copy and a thread-pool hop each).
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 200;

/** One JSON line per event on stdout, buffered and written asynchronously off the request path. */
export function createLogger(verbose: boolean) {
  return pino(
    {
      level: verbose ? "debug" : "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
}
