import { isEnvReference, redactSecret } from "../shared/redact.js";
import type { PathKey } from "./config-path.js";
import { formatConfigPath } from "./issues.js";

/** Config keys that hold a secret when given a literal value. */
const SECRET_KEYS = new Set(["apiKey", "token", "password", "secret", "clientSecret", "accessToken", "refreshToken"]);
/** Variables in the `env` block named like secrets (`CHUTES_API_KEY`, `HF_TOKEN`). */
const SECRET_ENV_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD)$/i;

/** `Bearer ${TOKEN}`: a reference with at most a short scheme word around it is no secret. */
function isTemplated(value: string): boolean {
  const references = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;
  return references.test(value) && value.replace(references, "").trim().length <= 12;
}

/** Request headers that carry credentials (`Authorization`, `X-Api-Key`, `…-Token`). */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|(api[-_]?key|token|secret|password)/i;

function isSecretPath(path: readonly PathKey[]): boolean {
  const last = path[path.length - 1];
  if (typeof last !== "string") return false;
  if (path[0] === "env") return path.length >= 2 && SECRET_ENV_NAME.test(last);
  if (path[path.length - 2] === "headers") return SECRET_HEADER.test(last);
  return SECRET_KEYS.has(last);
}

function walk(value: unknown, path: PathKey[], visit: (text: string, path: PathKey[]) => unknown): unknown {
  if (typeof value === "string") return isSecretPath(path) && !isEnvReference(value) && !isTemplated(value) ? visit(value, path) : value;
  if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index], visit));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key], visit);
    return out;
  }
  return value;
}

/** A copy safe to print: literal secrets become `cpk_…a1b2`; `${VAR}` references stay. */
export function redactConfigSecrets(value: unknown, basePath: PathKey[] = []): unknown {
  return walk(value, basePath, (text) => redactSecret(text));
}

/** Paths under `value` that would put a literal secret into `openclaw.json`. */
export function findLiteralSecrets(value: unknown, basePath: PathKey[]): string[] {
  const found: string[] = [];
  walk(value, basePath, (text, path) => {
    if (text.trim()) found.push(formatConfigPath(path));
    return text;
  });
  return found;
}
