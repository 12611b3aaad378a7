import type { OpenClawConfig } from "../../config/schema.js";
import { InvalidRequestError } from "../../shared/errors.js";

export interface OAuthSettings {
  authorizeUrl: string;
  tokenUrl: string;
  userinfoUrl: string;
  revokeUrl: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  redirectUri: string;
  scopes: string;
}

export const DEFAULT_CHUTES_IDP = "https://api.chutes.ai";
export const DEFAULT_REDIRECT_URI = "http://127.0.0.1:1456/oauth-callback";
export const DEFAULT_SCOPES = "openid profile chutes:invoke";

/** Only `http` on a loopback address: the code must never travel to another machine. */
export function assertLoopbackRedirect(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidRequestError(`CHUTES_OAUTH_REDIRECT_URI is not a URL: ${uri}`, { param: "redirect_uri" });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "http:" || !loopback || !url.port) {
    throw new InvalidRequestError(
      `the OAuth redirect must be http on a loopback address with a port (like ${DEFAULT_REDIRECT_URI}), not ${uri}`,
      {
        param: "redirect_uri",
      },
    );
  }
  return url;
}

/**
 * "Sign in with Chutes" endpoints and client: environment first (CHUTES_CLIENT_ID,
 * CHUTES_CLIENT_SECRET, CHUTES_OAUTH_REDIRECT_URI, CHUTES_OAUTH_SCOPES), then
 * `models.providers.chutes.oauth`, then the defaults.
 */
export function resolveChutesOAuthSettings(config: OpenClawConfig, env: NodeJS.ProcessEnv = process.env): OAuthSettings {
  const oauth = config.models?.providers?.chutes?.oauth;
  const base = (oauth?.baseUrl ?? DEFAULT_CHUTES_IDP).replace(/\/+$/, "");
  const redirectUri = env.CHUTES_OAUTH_REDIRECT_URI?.trim() || oauth?.redirectUri || DEFAULT_REDIRECT_URI;
  assertLoopbackRedirect(redirectUri);
  return {
    authorizeUrl: `${base}/idp/authorize`,
    tokenUrl: `${base}/idp/token`,
    userinfoUrl: `${base}/idp/userinfo`,
    revokeUrl: `${base}/idp/token/revoke`,
    clientId: env.CHUTES_CLIENT_ID?.trim() || oauth?.clientId || undefined,
    clientSecret: env.CHUTES_CLIENT_SECRET?.trim() || undefined,
    redirectUri,
    scopes: env.CHUTES_OAUTH_SCOPES?.trim() || oauth?.scopes || DEFAULT_SCOPES,
  };
}

export function authorizeUrl(settings: OAuthSettings, clientId: string, state: string, challenge: string): string {
  const url = new URL(settings.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: settings.redirectUri,
    response_type: "code",
    scope: settings.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  return url.toString();
}
