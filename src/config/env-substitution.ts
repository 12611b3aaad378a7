import { ConfigError } from "../shared/errors.js";
import { formatConfigPath } from "./issues.js";

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replace `${VAR}` in every string of a config value. `$$` escapes a literal `$`.
 * A reference to an unset (or empty) variable is an error naming the key that holds it.
 */
export function substituteEnvReferences<T>(value: T, env: NodeJS.ProcessEnv, path: (string | number)[] = []): T {
  if (typeof value === "string") return substituteString(value, env, path) as T;
  if (Array.isArray(value)) return value.map((item, index) => substituteEnvReferences(item, env, [...path, index])) as T;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnvReferences(item, env, [...path, key]);
    return out as T;
  }
  return value;
}

function substituteString(text: string, env: NodeJS.ProcessEnv, path: (string | number)[]): string {
  if (!text.includes("$")) return text;
  return text.replace(REFERENCE, (_match, name: string | undefined) => {
    if (name === undefined) return "$";
    const resolved = env[name];
    if (resolved === undefined || resolved === "") {
      throw new ConfigError(`config key ${formatConfigPath(path)} references \${${name}}, but ${name} is not set in the environment`, {
        code: "config_env_missing",
      });
    }
    return resolved;
  });
}
