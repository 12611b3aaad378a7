import JSON5 from "json5";
import { getAtPath, type PathKey, resolveConfigPath, setAtPath, unsetAtPath } from "../../config/config-path.js";
import { describeConfigIssues, formatConfigPath } from "../../config/issues.js";
import { loadConfig, readRawConfig } from "../../config/load.js";
import { resolveStatePaths } from "../../config/paths.js";
import { OpenClawConfigSchema } from "../../config/schema.js";
import { findLiteralSecrets, redactConfigSecrets } from "../../config/secrets.js";
import { updateConfigFile } from "../../config/write.js";
import { ConfigError, InvalidRequestError, isOpenClawError, NotFoundError } from "../../shared/errors.js";
import { printJson } from "../output.js";

export async function runConfigGet(pathArg: string | undefined, options: { json?: boolean }): Promise<void> {
  const keys = pathArg === undefined ? [] : resolveConfigPath(pathArg);
  const { raw } = await readRawConfig(resolveStatePaths().configPath);
  const { found, value } = getAtPath(raw, keys);
  if (!found) throw new NotFoundError(`config path ${formatConfigPath(keys)} is not set`, { code: "config_path_not_set" });
  const safe = redactConfigSecrets(value, keys);
  if (!options.json && typeof safe === "string") process.stdout.write(`${safe}\n`);
  else printJson(safe);
}

/** Without --json, "true", "42" or "[1,2]" are typed when the schema wants that; else the text is a string. */
function candidateValues(text: string, json: boolean): unknown[] {
  if (json) {
    try {
      return [JSON5.parse(text)];
    } catch (error) {
      throw new InvalidRequestError(`--json value is not valid JSON: ${(error as Error).message.replace(/^JSON5: /, "")}`, {
        param: "value",
      });
    }
  }
  try {
    const parsed: unknown = JSON5.parse(text);
    if (typeof parsed !== "string") return [parsed, text];
  } catch {
    // Not JSON: a plain string.
  }
  return [text];
}

function secretHint(keys: PathKey[], secretPath: string): string {
  if (/ur[li]$/i.test(secretPath)) {
    return 'keep credentials out of URLs: store the key with `openclaw models auth paste-token`, or reference a variable, e.g. "https://host/v1?key=${NAME}"';
  }
  if (keys[0] === "models" && keys[1] === "providers") {
    const provider = String(keys[2]);
    return `store it with \`openclaw models auth paste-token --provider ${provider}\`, or reference an environment variable: "\${${provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_API_KEY}"`;
  }
  if (keys[0] === "gateway")
    return 'set OPENCLAW_GATEWAY_TOKEN / OPENCLAW_GATEWAY_PASSWORD in the environment or <state>/.env, or reference one: "${OPENCLAW_GATEWAY_TOKEN}"';
  return 'put it in the environment or <state>/.env (mode 0600) and reference it as "${NAME}"';
}

export async function runConfigSet(pathArg: string, valueArg: string, options: { json?: boolean }): Promise<void> {
  const keys = resolveConfigPath(pathArg);
  const candidates = candidateValues(valueArg, options.json === true);
  const secrets = candidates.flatMap((candidate) => findLiteralSecrets(candidate, keys));
  if (secrets.length > 0) {
    throw new InvalidRequestError(`refusing to write a secret into openclaw.json at ${secrets[0]}: ${secretHint(keys, secrets[0] ?? "")}`, {
      param: "value",
      code: "secret_in_config",
    });
  }
  const { configPath } = resolveStatePaths();
  await updateConfigFile(configPath, (raw) => {
    let firstProblem: string | undefined;
    for (const candidate of candidates) {
      const trial = structuredClone(raw);
      setAtPath(trial, keys, candidate);
      const result = OpenClawConfigSchema.safeParse(trial);
      if (result.success) {
        setAtPath(raw, keys, candidate);
        return;
      }
      firstProblem ??= describeConfigIssues(result.error.issues).join("; ");
    }
    throw new ConfigError(`refusing to set ${formatConfigPath(keys)}: ${firstProblem}; ${configPath} was not changed`, {
      code: "config_invalid",
    });
  });
  process.stdout.write(`Updated ${formatConfigPath(keys)} in ${configPath}\n`);
}

export async function runConfigUnset(pathArg: string): Promise<void> {
  const keys = resolveConfigPath(pathArg);
  const { configPath } = resolveStatePaths();
  let removed = false;
  await updateConfigFile(configPath, (raw) => {
    removed = unsetAtPath(raw, keys);
  });
  process.stdout.write(removed ? `Removed ${formatConfigPath(keys)} from ${configPath}\n` : `${formatConfigPath(keys)} was not set\n`);
}

export async function runConfigValidate(options: { json?: boolean }): Promise<void> {
  const paths = resolveStatePaths();
  try {
    const { file } = await loadConfig({ paths });
    if (options.json) printJson({ ok: true, path: paths.configPath, exists: file.exists });
    else process.stdout.write(`Config OK: ${paths.configPath}${file.exists ? "" : " (not created yet; defaults apply)"}\n`);
  } catch (error) {
    if (!options.json || !isOpenClawError(error)) throw error;
    printJson({ ok: false, path: paths.configPath, error: error.message });
    process.exitCode = error.exitCode;
  }
}

export async function runConfigFile(): Promise<void> {
  process.stdout.write(`${resolveStatePaths().configPath}\n`);
}
