import { resolveStatePaths } from "../../config/paths.js";
import { applyOnboarding } from "../../models/apply-onboarding.js";
import { providerDefinition } from "../../providers/registry.js";
import { CancelledError, InvalidRequestError } from "../../shared/errors.js";
import { redactSecret } from "../../shared/redact.js";
import { noteIfShadowed } from "../credential-notice.js";

export type AuthChoice = "chutes" | "chutes-api-key" | "huggingface-api-key";

export interface OnboardOptions {
  nonInteractive?: boolean;
  browser?: boolean;
  timeout?: string;
  acceptRisk?: boolean;
  mode?: string;
  authChoice?: string;
  chutesApiKey?: string;
  huggingfaceApiKey?: string;
  model?: string;
}

const CHOICES: Record<AuthChoice, { provider: string; label: string; envVars: string[] }> = {
  chutes: { provider: "chutes", label: "Chutes: Sign in with Chutes (OAuth)", envVars: [] },
  "chutes-api-key": { provider: "chutes", label: "Chutes: API key", envVars: ["CHUTES_API_KEY"] },
  "huggingface-api-key": { provider: "huggingface", label: "Hugging Face: access token", envVars: ["HF_TOKEN", "HUGGINGFACE_HUB_TOKEN"] },
};

const RISK =
  "Whoever holds the gateway's token can use your provider credentials and every model they reach. Keep the gateway on loopback or a private network.";

function parseChoice(value: string | undefined): AuthChoice | undefined {
  if (value === undefined) return undefined;
  if (value in CHOICES) return value as AuthChoice;
  throw new InvalidRequestError(`unknown --auth-choice ${JSON.stringify(value)}: use ${Object.keys(CHOICES).join(", ")}`, {
    param: "auth-choice",
  });
}

export async function runOAuth(options: OnboardOptions, interactive: boolean): Promise<void> {
  const { runChutesOAuthOnboarding } = await import("./onboard-oauth.js");
  await runChutesOAuthOnboarding({
    interactive,
    browser: options.browser !== false,
    ...(options.timeout ? { timeoutSeconds: options.timeout } : {}),
    ...(options.model ? { model: options.model } : {}),
  });
}

function flagKey(choice: AuthChoice, options: OnboardOptions): string | undefined {
  const value = choice === "huggingface-api-key" ? options.huggingfaceApiKey : options.chutesApiKey;
  return value;
}

function checkSecret(secret: string, flag: string): string {
  const trimmed = secret.trim();
  if (!trimmed) throw new InvalidRequestError(`${flag} is empty; nothing was written`, { param: flag });
  if (/\s/.test(trimmed)) throw new InvalidRequestError(`${flag} contains whitespace; nothing was written`, { param: flag });
  return trimmed;
}

export async function runOnboard(options: OnboardOptions): Promise<void> {
  if (options.mode !== undefined && options.mode !== "local") {
    throw new InvalidRequestError(`--mode ${options.mode} is not supported: this gateway runs locally (--mode local)`, { param: "mode" });
  }
  let choice = parseChoice(options.authChoice);
  if (!choice && options.huggingfaceApiKey !== undefined) choice = "huggingface-api-key";
  if (!choice && options.chutesApiKey !== undefined) choice = "chutes-api-key";
  if (options.nonInteractive) return runNonInteractive(choice, options);
  // Prompts drawn into a pipe answer nothing: a script or CI job would wait on input it never gets.
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new InvalidRequestError(
      "onboard asks its questions on a terminal; without one (a script, CI, a pipe) use --non-interactive with the flags in `openclaw onboard --help`; nothing was written",
      { param: "non-interactive", code: "terminal_required", exitCode: 2 },
    );
  }
  const { runInteractiveOnboarding } = await import("./onboard-interactive.js");
  await runInteractiveOnboarding(choice, options);
}

async function runNonInteractive(choice: AuthChoice | undefined, options: OnboardOptions): Promise<void> {
  if (!choice)
    throw new InvalidRequestError(`--non-interactive needs --auth-choice (${Object.keys(CHOICES).join(", ")})`, { param: "auth-choice" });
  // `--mode local` (loopback only) is itself the acknowledgement the Hugging Face guide relies on.
  if (!options.acceptRisk && options.mode !== "local") {
    throw new InvalidRequestError(`--non-interactive needs --accept-risk (or --mode local): ${RISK} Nothing was written`, {
      param: "accept-risk",
    });
  }
  if (choice === "chutes") return runOAuth(options, false);
  const flag = choice === "huggingface-api-key" ? "--huggingface-api-key" : "--chutes-api-key";
  const envVar = CHOICES[choice].envVars.find((name) => process.env[name]?.trim());
  const given = flagKey(choice, options);
  const raw = given ?? (envVar ? process.env[envVar] : undefined);
  if (raw === undefined) {
    throw new InvalidRequestError(
      `${flag} is required with --non-interactive (or set ${CHOICES[choice].envVars.join(" or ")}); nothing was written`,
      { param: flag },
    );
  }
  const secret = checkSecret(raw, given === undefined ? (envVar ?? flag) : flag);
  await finish(CHOICES[choice].provider, secret, options.model);
}

export async function finish(provider: string, secret: string, model: string | undefined): Promise<void> {
  const paths = resolveStatePaths();
  const result = await applyOnboarding(paths, { provider, secret, ...(model ? { defaultModel: model } : {}) });
  const label = providerDefinition(provider).label;
  process.stdout.write(
    `${label} is set up: credential ${result.profileId} (${redactSecret(secret)}) in ${paths.authProfilesPath}\n` +
      `Default model: ${result.defaultModel}\n` +
      `Try: openclaw chat "Hello!"  ·  openclaw models list  ·  openclaw models status\n`,
  );
  await noteIfShadowed(paths, provider, result.profileId);
}

export { CHOICES, checkSecret, RISK };
export const cancelled = () => new CancelledError("onboarding cancelled; nothing was written");
