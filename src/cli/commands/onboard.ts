import { resolveStatePaths } from "../../config/paths.js";
import { applyOnboarding } from "../../models/apply-onboarding.js";
import type { OnboardingAuthChoice } from "../../providers/provider.js";
import { BUILTIN_PROVIDERS, providerDefinition } from "../../providers/registry.js";
import { CancelledError, InvalidRequestError } from "../../shared/errors.js";
import { redactSecret } from "../../shared/redact.js";
import { noteIfShadowed } from "../credential-notice.js";
import { describeSettings, resolveOffers } from "./onboard-offers.js";

export interface OnboardOptions {
  nonInteractive?: boolean;
  browser?: boolean;
  timeout?: string;
  acceptRisk?: boolean;
  mode?: string;
  authChoice?: string;
  model?: string;
  /** The providers' own flags, by option name: secrets (`chutesApiKey`) and offers (`e2ee`). */
  [option: string]: unknown;
}

/** An `--auth-choice` and the provider it belongs to. */
export interface AuthChoice {
  provider: string;
  choice: OnboardingAuthChoice;
}

/** Every way in, from the providers' definitions, in their order. */
export function authChoices(): AuthChoice[] {
  return Object.values(BUILTIN_PROVIDERS).flatMap((definition) =>
    (definition.onboarding?.authChoices ?? []).map((choice) => ({ provider: definition.id, choice })),
  );
}

const RISK =
  "Whoever holds the gateway's token can use your provider credentials and every model they reach. Keep the gateway on loopback or a private network.";

const choiceIds = () =>
  authChoices()
    .map(({ choice }) => choice.id)
    .join(", ");

function parseChoice(value: string | undefined): AuthChoice | undefined {
  if (value === undefined) return undefined;
  const found = authChoices().find(({ choice }) => choice.id === value);
  if (found) return found;
  throw new InvalidRequestError(`unknown --auth-choice ${JSON.stringify(value)}: use ${choiceIds()}`, { param: "auth-choice" });
}

export async function runOAuth(provider: string, options: OnboardOptions, interactive: boolean): Promise<void> {
  const { runOAuthOnboarding } = await import("./onboard-oauth.js");
  await runOAuthOnboarding(provider, options, interactive);
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
  // A secret flag names its way in: `--huggingface-api-key` alone means that choice.
  const choice =
    parseChoice(options.authChoice) ??
    authChoices().find(({ choice: entry }) => entry.option !== undefined && options[entry.option] !== undefined);
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

async function runNonInteractive(resolved: AuthChoice | undefined, options: OnboardOptions): Promise<void> {
  if (!resolved) throw new InvalidRequestError(`--non-interactive needs --auth-choice (${choiceIds()})`, { param: "auth-choice" });
  // `--mode local` (loopback only) is itself the acknowledgement the Hugging Face guide relies on.
  if (!options.acceptRisk && options.mode !== "local") {
    throw new InvalidRequestError(`--non-interactive needs --accept-risk (or --mode local): ${RISK} Nothing was written`, {
      param: "accept-risk",
    });
  }
  const { provider, choice } = resolved;
  if (choice.kind === "oauth") return runOAuth(provider, options, false);
  const flag = choice.flag ?? "--api-key";
  const envVars = choice.envVars ?? [];
  const envVar = envVars.find((name) => process.env[name]?.trim());
  const given = choice.option ? options[choice.option] : undefined;
  const raw = typeof given === "string" ? given : envVar ? process.env[envVar] : undefined;
  if (raw === undefined) {
    const env = envVars.length ? ` (or set ${envVars.join(" or ")})` : "";
    throw new InvalidRequestError(`${flag} is required with --non-interactive${env}; nothing was written`, { param: flag });
  }
  const secret = checkSecret(raw, typeof given === "string" ? flag : (envVar ?? flag));
  const model = options.model ?? providerDefinition(provider).defaultModel ?? "";
  const settings = await resolveOffers({ provider, model, flags: options, secret });
  await finish(provider, secret, options.model, settings);
}

export async function finish(
  provider: string,
  secret: string,
  model: string | undefined,
  providerSettings: Record<string, boolean> = {},
): Promise<void> {
  const paths = resolveStatePaths();
  const result = await applyOnboarding(paths, { provider, secret, providerSettings, ...(model ? { defaultModel: model } : {}) });
  const label = providerDefinition(provider).label;
  process.stdout.write(
    `${label} is set up: credential ${result.profileId} (${redactSecret(secret)}) in ${paths.authProfilesPath}\n` +
      `Default model: ${result.defaultModel}\n` +
      describeSettings(provider, providerSettings) +
      `Try: openclaw chat "Hello!"  ·  openclaw models list  ·  openclaw models status\n`,
  );
  await noteIfShadowed(paths, provider, result.profileId);
}

export { checkSecret, RISK };
export const cancelled = () => new CancelledError("onboarding cancelled; nothing was written");
