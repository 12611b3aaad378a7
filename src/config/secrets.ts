import { isEnvReference, redactSecret } from "../shared/redact.js";
import { CREDENTIAL_NAME } from "../shared/scrub.js";
import type { PathKey } from "./config-path.js";
import { formatConfigPath } from "./issues.js";

/** Config keys that hold a secret when given a literal value. */
const SECRET_KEYS = new Set(["apiKey", "token", "password", "secret", "clientSecret", "accessToken", "refreshToken", "credentialsKey"]);
/** Variables in the `env` block named like secrets (`CHUTES_API_KEY`, `HF_TOKEN`). */
const SECRET_ENV_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD)$/i;
/**
 * Request headers that may carry credentials. Providers invent their own names
 * (`X-Custom-Auth`, `Ocp-Apim-Subscription-Key`), so any name that mentions one of these words is
 * treated as a secret: a harmless header caught by it only needs a `${VAR}`.
 */
const SECRET_HEADER = CREDENTIAL_NAME;
/** Keys holding a URL (`baseUrl`, `embeddingsBaseUrl`, `oauth.baseUrl`): secret in their userinfo or query. */
const URL_KEY = /ur[li]$/i;
/** Query parameters that carry credentials (`?key=`, `?api_key=`, `?access_token=`, `?sig=`). */
const SECRET_PARAM = /key|token|secret|passw|auth|sig|credential|session/i;

/** `Bearer ${TOKEN}`: a reference with at most a short scheme word around it is no secret. */
function isTemplated(value: string): boolean {
  const references = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;
  return references.test(value) && value.replace(references, "").trim().length <= 12;
}

const isLiteral = (text: string) => text.trim() !== "" && !isEnvReference(text) && !isTemplated(text);

/**
 * A URL with its credentials redacted (`https://user:…a1b2@host`, `?key=…a1b2`), or undefined when it
 * carries none. Works on the text, so `${VAR}` parts and the rest of the URL stay exactly as written.
 */
export function redactUrlCredentials(url: string): string | undefined {
  let changed = false;
  const redact = (text: string) => {
    if (!isLiteral(decodeSafely(text))) return text;
    changed = true;
    return redactSecret(decodeSafely(text));
  };
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    // A user name alone is often the token itself (`https://TOKEN@host`).
    if (colon < 0) return `${scheme}${redact(userinfo)}@`;
    return `${scheme}${userinfo.slice(0, colon)}:${redact(userinfo.slice(colon + 1))}@`;
  });
  out = out.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (whole, separator: string, name: string, value: string) =>
    SECRET_PARAM.test(decodeSafely(name)) ? `${separator}${name}=${redact(value)}` : whole,
  );
  return changed ? out : undefined;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The printable form of a secret-bearing value at `path`, or undefined when it is not one. */
function redactedForm(text: string, path: readonly PathKey[]): string | undefined {
  const last = path[path.length - 1];
  if (typeof last !== "string") return undefined;
  if (path[0] === "env") {
    if (path.length >= 2 && SECRET_ENV_NAME.test(last)) return isLiteral(text) ? redactSecret(text) : undefined;
    // `DATABASE_URL=postgres://user:pass@host`: a URL variable may carry credentials too.
    return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? redactUrlCredentials(text) : undefined;
  }
  // `gateway.state.redis` / `.postgres` are connection URLs too (`postgres://user:pass@db`).
  if (URL_KEY.test(last) || (path[0] === "gateway" && path[1] === "state" && (last === "redis" || last === "postgres")))
    return redactUrlCredentials(text);
  const secret = path[path.length - 2] === "headers" ? SECRET_HEADER.test(last) : SECRET_KEYS.has(last);
  return secret && isLiteral(text) ? redactSecret(text) : undefined;
}

function walk(value: unknown, path: PathKey[], visit: (text: string, redacted: string, path: PathKey[]) => unknown): unknown {
  if (typeof value === "string") {
    const redacted = redactedForm(value, path);
    return redacted === undefined ? value : visit(value, redacted, path);
  }
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
  return walk(value, basePath, (_text, redacted) => redacted);
}

/** Paths under `value` that would put a literal secret into `openclaw.json`. */
export function findLiteralSecrets(value: unknown, basePath: PathKey[]): string[] {
  const found: string[] = [];
  walk(value, basePath, (text, _redacted, path) => {
    found.push(formatConfigPath(path));
    return text;
  });
  return found;
}
