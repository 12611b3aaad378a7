import { createInterface } from "node:readline";
import type { Credential } from "../../auth/credential-store.js";
import { signInWithChutes } from "../../auth/oauth/chutes-login.js";
import { loadConfig } from "../../config/load.js";
import { applyOnboarding } from "../../models/apply-onboarding.js";
import { providerDefinition } from "../../providers/registry.js";
import { CancelledError, InvalidRequestError } from "../../shared/errors.js";
import { noteIfShadowed } from "../credential-notice.js";
import type { OnboardOptions } from "./onboard.js";
import { describeSettings, resolveOffers } from "./onboard-offers.js";

/** No display, or an SSH session: the browser cannot reach our loopback listener. */
function isHeadless(env: NodeJS.ProcessEnv): boolean {
  if (env.SSH_CONNECTION || env.SSH_TTY) return true;
  return process.platform === "linux" && !env.DISPLAY && !env.WAYLAND_DISPLAY && !env.BROWSER;
}

/** `$BROWSER` (the usual convention; `none` to skip), else the system's default browser. Never fails. */
async function openBrowser(url: string): Promise<void> {
  const command = process.env.BROWSER?.trim();
  if (command === "none") return;
  try {
    if (command) {
      const { spawn } = await import("node:child_process");
      spawn(command, [url], { stdio: "ignore", detached: true })
        .on("error", () => undefined)
        .unref();
      return;
    }
    const { default: open } = await import("open");
    const child = await open(url, { wait: false });
    child.on("error", () => undefined);
  } catch {
    // No browser: the URL is on screen.
  }
}

async function askForRedirect(): Promise<string> {
  if (process.stdin.isTTY) {
    const { text, isCancel } = await import("@clack/prompts");
    const answer = await text({ message: "Paste the URL your browser was sent to (or its ?code=…&state=… part)" });
    if (isCancel(answer)) throw new CancelledError("sign-in cancelled; nothing was written");
    return String(answer ?? "");
  }
  // Piped: the first line of stdin.
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new InvalidRequestError("no redirect URL on stdin; nothing was written", { code: "oauth_no_input" });
}

async function askClientId(interactive: boolean, label: string, oauth: { clientIdEnv?: string; clientIdPrompt?: string }): Promise<string> {
  const variable = oauth.clientIdEnv ?? "the client id variable";
  if (!interactive || !process.stdin.isTTY) {
    throw new InvalidRequestError(`set ${variable} to your Sign in with ${label} app's client id; nothing was written`, {
      param: variable,
    });
  }
  const { text, isCancel } = await import("@clack/prompts");
  const answer = await text({
    message: oauth.clientIdPrompt ?? `${label} OAuth client id`,
    validate: (value) => (value?.trim() ? undefined : "required"),
  });
  if (isCancel(answer)) throw new CancelledError("sign-in cancelled; nothing was written");
  return String(answer).trim();
}

/** `openclaw onboard --auth-choice chutes`: sign in, then write exactly what the API-key path writes. */
export async function runOAuthOnboarding(provider: string, options: OnboardOptions, interactive: boolean): Promise<void> {
  const definition = providerDefinition(provider);
  if (!definition.oauth) throw new InvalidRequestError(`${definition.label} has no sign-in; use an API key`, { param: "auth-choice" });
  const { config, paths } = await loadConfig();
  const settings = definition.oauth.settings(config, process.env);
  const clientId = settings.clientId ?? (await askClientId(interactive, definition.label, definition.oauth));
  const timeoutSeconds = options.timeout ? Number(options.timeout) : 300;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new InvalidRequestError("--timeout must be a positive number of seconds", { param: "timeout" });
  const { tokens, account } = await signInWithChutes({
    settings,
    clientId,
    mode: options.browser === false || isHeadless(process.env) ? "paste" : "local",
    timeoutMs: timeoutSeconds * 1000,
    io: { show: (message) => process.stderr.write(`${message}\n`), openBrowser, askForRedirect },
  });
  const credential: Credential = {
    type: "oauth",
    provider,
    access: tokens.access,
    ...(tokens.refresh ? { refresh: tokens.refresh } : {}),
    ...(tokens.expires ? { expires: tokens.expires } : {}),
    ...(tokens.lifetimeMs ? { lifetimeMs: tokens.lifetimeMs } : {}),
    clientId,
    // Kept beside the tokens (0600) so a later refresh works without the variable.
    ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}),
    ...(account ? { account } : {}),
  };
  const model = options.model ?? definition.defaultModel ?? "";
  const ask = interactive && process.stdin.isTTY ? (await import("./onboard-interactive.js")).askOffer : undefined;
  const providerSettings = await resolveOffers({ provider, model, flags: options, secret: tokens.access, ...(ask ? { ask } : {}) });
  const result = await applyOnboarding(paths, {
    provider,
    secret: credential,
    profileId: `${provider}:oauth`,
    providerSettings,
    ...(options.model ? { defaultModel: options.model } : {}),
  });
  const who = account?.username ?? account?.email ?? account?.id ?? "your account";
  process.stdout.write(
    `Signed in to ${definition.label} as ${who}: credential ${result.profileId} in ${paths.authProfilesPath} (refreshed automatically)\n` +
      `Default model: ${result.defaultModel}\n` +
      describeSettings(provider, providerSettings) +
      `Try: openclaw chat "Hello!"  ·  openclaw models status\n`,
  );
  await noteIfShadowed(paths, provider, result.profileId);
}
