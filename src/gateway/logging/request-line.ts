import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { scrubErrorText } from "../../shared/scrub.js";
import type { RequestLog } from "../context.js";

/** The log keeps at most this much of a path (longer ones are refused before routing anyway). */
const LOGGED_PATH_LENGTH = 256;
const NO_SECRETS: readonly string[] = [];

/**
 * The request's one log line (`msg: "request"`), once its response is closed and its handler
 * has returned (so the ledger's tokens and cost are in). Paths never carry their query string,
 * and a path or error that looks like a credential is scrubbed: log files get copied around.
 */
export function logRequestWhenDone(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  log: RequestLog,
  started: number,
  handled: Promise<unknown>,
): void {
  let pending = 2;
  // The time is the response's (when it closed), even if recording the turn takes a moment longer.
  let ms = 0;
  const done = () => {
    if (--pending > 0) return;
    const path = (request.url ?? "/").split("?")[0]?.slice(0, LOGGED_PATH_LENGTH) ?? "/";
    logger.info(
      {
        method: request.method,
        path: scrubErrorText(path, NO_SECRETS),
        status: response.headersSent ? response.statusCode : 499,
        ms,
        ...log,
        ...(log.error === undefined ? {} : { error: scrubErrorText(log.error, NO_SECRETS) }),
        ...(response.writableFinished ? {} : { aborted: true }),
      },
      "request",
    );
  };
  response.once("close", () => {
    ms = Math.round((performance.now() - started) * 100) / 100;
    done();
  });
  void handled.then(done, done);
}
