import { inspect } from "node:util";
import { isOpenClawError } from "../shared/errors.js";

/** One readable line on stderr; the cause and stack only when asked for. Returns the exit code. */
export function reportError(error: unknown, verbose: boolean): number {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.replace(/\s*\n\s*/g, " ").trim();
  if (isOpenClawError(error)) {
    process.stderr.write(`openclaw: ${line}\n`);
  } else {
    process.stderr.write(`openclaw: unexpected error: ${line}${verbose ? "" : " (run with --verbose for details)"}\n`);
  }
  if (verbose) process.stderr.write(`${inspect(error, { depth: 6 })}\n`);
  return isOpenClawError(error) ? error.exitCode : 1;
}
