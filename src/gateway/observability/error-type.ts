import { isOpenClawError } from "../../shared/errors.js";

/**
 * `error.type` as the GenAI conventions want it, with bounded values (it labels metrics): the
 * HTTP status an error maps to, a request's outcome ("error", "aborted"), or "_OTHER".
 */
export function errorType(error: unknown): string {
  if (error === undefined) return "";
  if (isOpenClawError(error)) return String(error.status);
  return typeof error === "string" && /^(error|aborted)$/.test(error) ? error : "_OTHER";
}
