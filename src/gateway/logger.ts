import { pino } from "pino";

/** One JSON line per event on stdout, written asynchronously off the request path. */
export function createLogger(verbose: boolean) {
  return pino(
    {
      level: verbose ? "debug" : "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
