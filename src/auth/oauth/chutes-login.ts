import { AuthenticationError } from "../../shared/errors.js";
import { checkCallback, parseCallbackInput } from "./callback.js";
import { type Account, exchangeCode, fetchAccount, type TokenSet } from "./idp-client.js";
import { listenForCallback } from "./loopback-server.js";
import { authorizeUrl, type OAuthSettings } from "./oauth-settings.js";
import { createPkce, randomState } from "./pkce.js";

/** How the sign-in talks to the person: the CLI supplies these. */
export interface LoginIO {
  show(message: string): void;
  /** Best effort; never throws. */
  openBrowser(url: string): Promise<void>;
  /** Ask for the redirect URL (or its query string). */
  askForRedirect(): Promise<string>;
}

export interface LoginOptions {
  settings: OAuthSettings;
  clientId: string;
  /** "local": loopback listener + browser; "paste": print the URL, read the redirect back. */
  mode: "local" | "paste";
  timeoutMs: number;
  io: LoginIO;
}

export interface LoginResult {
  tokens: TokenSet;
  account: Account | undefined;
}

async function waitForBrowser(options: LoginOptions, url: string, state: string): Promise<string | undefined> {
  let listener: Awaited<ReturnType<typeof listenForCallback>>;
  try {
    listener = await listenForCallback(options.settings.redirectUri, state);
  } catch (error) {
    options.io.show(`Could not listen for the browser (${(error as Error).message}); paste the redirect instead.`);
    return undefined;
  }
  try {
    options.io.show(`Opening your browser to sign in with Chutes. If it does not open, visit:\n${url}`);
    await options.io.openBrowser(url);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), options.timeoutMs);
    });
    const params = await Promise.race([listener.result, timeout]);
    clearTimeout(timer);
    if (!params) {
      options.io.show("No answer from the browser in time; paste the redirect instead.");
      return undefined;
    }
    return checkCallback(params, state);
  } finally {
    listener.close();
  }
}

/**
 * "Sign in with Chutes": OAuth 2.0 authorization code with PKCE (S256) and a random state.
 * Local: a loopback listener catches the redirect; remote/headless (or when listening fails or
 * times out): the user pastes the redirect URL. Nothing is stored here.
 */
export async function signInWithChutes(options: LoginOptions): Promise<LoginResult> {
  const { verifier, challenge } = createPkce();
  const state = randomState();
  const url = authorizeUrl(options.settings, options.clientId, state, challenge);
  let code = options.mode === "local" ? await waitForBrowser(options, url, state) : undefined;
  if (!code) {
    options.io.show(`Open this URL in a browser, sign in, then paste the URL it sends you to (it may not load):\n${url}`);
    code = parseCallbackInput(await options.io.askForRedirect(), state);
  }
  const tokens = await exchangeCode(options.settings, options.clientId, code, verifier);
  if (!tokens.access) throw new AuthenticationError("Chutes did not issue an access token");
  return { tokens, account: await fetchAccount(options.settings, tokens.access) };
}
