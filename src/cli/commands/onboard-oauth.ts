import { createInterface } from "node:readline";
import type { Credential } from "../../auth/credential-store.js";
import { signInWithChutes } from "../../auth/oauth/chutes-login.js";
import { resolveChutesOAuthSettings } from "../../auth/oauth/chutes-oauth-settings.js";
import { loadConfig } from "../../config/load.js";
import { applyOnboarding } from "../../models/apply-onboarding.js";
import { CancelledError, InvalidRequestError } from "../../shared/errors.js";
import { noteIfShadowed } from "../credential-notice.js";

export interface OAuthOnboardOptions {
  interactive: boolean;
  browser: boolean;
  timeoutSeconds?: string;
  model?: string;
}

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

async function askClientId(interactive: boolean): Promise<string> {
  if (!interactive || !process.stdin.isTTY) {
    throw new InvalidRequestError("set CHUTES_CLIENT_ID to your Sign in with Chutes app's client id (cid_…); nothing was written", {
      param: "CHUTES_CLIENT_ID",
    });
  }
  const { text, isCancel } = await import("@clack/prompts");
  const answer = await text({
    message: "Chutes OAuth client id (cid_…; from your app at chutes.ai)",
    validate: (value) => (value?.trim() ? undefined : "required"),
  });
  if (isCancel(answer)) throw new CancelledError("sign-in cancelled; nothing was written");
  return String(answer).trim();
}

/** `openclaw onboard --auth-choice chutes`: sign in, then write exactly what the API-key path writes. */
export async function runChutesOAuthOnboarding(options: OAuthOnboardOptions): Promise<void> {
  const { config, paths } = await loadConfig();
  const settings = resolveChutesOAuthSettings(config);
  const clientId = settings.clientId ?? (await askClientId(options.interactive));
  const timeoutSeconds = options.timeoutSeconds ? Number(options.timeoutSeconds) : 300;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new InvalidRequestError("--timeout must be a positive number of seconds", { param: "timeout" });
  const { tokens, account } = await signInWithChutes({
    settings,
    clientId,
    mode: !options.browser || isHeadless(process.env) ? "paste" : "local",
    timeoutMs: timeoutSeconds * 1000,
    io: { show: (message) => process.stderr.write(`${message}\n`), openBrowser, askForRedirect },
  });
  const credential: Credential = {
    type: "oauth",
    provider: "chutes",
    access: tokens.access,
    ...(tokens.refresh ? { refresh: tokens.refresh } : {}),
    ...(tokens.expires ? { expires: tokens.expires } : {}),
    ...(tokens.lifetimeMs ? { lifetimeMs: tokens.lifetimeMs } : {}),
    clientId,
    // Kept beside the tokens (0600) so a later refresh works without the variable.
    ...(settings.clientSecret ? { clientSecret: settings.clientSecret } : {}),
    ...(account ? { account } : {}),
  };
  const result = await applyOnboarding(paths, {
    provider: "chutes",
    secret: credential,
    profileId: "chutes:oauth",
    ...(options.model ? { defaultModel: options.model } : {}),
  });
  const who = account?.username ?? account?.email ?? account?.id ?? "your account";
  process.stdout.write(
    `Signed in to Chutes as ${who}: credential ${result.profileId} in ${paths.authProfilesPath} (refreshed automatically)\n` +
      `Default model: ${result.defaultModel}\n` +
      `Try: openclaw chat "Hello!"  ·  openclaw models status\n`,
  );
  await noteIfShadowed(paths, "chutes", result.profileId);
}
