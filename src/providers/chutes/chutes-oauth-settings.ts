import { assertLoopbackRedirect, DEFAULT_REDIRECT_URI, type OAuthSettings } from "../../auth/oauth/oauth-settings.js";
import type { OpenClawConfig } from "../../config/schema.js";

export const DEFAULT_CHUTES_IDP = "https://api.chutes.ai";
export const DEFAULT_SCOPES = "openid profile chutes:invoke";

/**
 * "Sign in with Chutes" endpoints and client: environment first (CHUTES_CLIENT_ID,
 * CHUTES_CLIENT_SECRET, CHUTES_OAUTH_REDIRECT_URI, CHUTES_OAUTH_SCOPES), then
 * `models.providers.chutes.oauth`, then the defaults.
 */
export function resolveChutesOAuthSettings(config: OpenClawConfig, env: NodeJS.ProcessEnv = process.env): OAuthSettings {
  const oauth = config.models?.providers?.chutes?.oauth;
  const base = (oauth?.baseUrl ?? DEFAULT_CHUTES_IDP).replace(/\/+$/, "");
  const redirectUri = env.CHUTES_OAUTH_REDIRECT_URI?.trim() || oauth?.redirectUri || DEFAULT_REDIRECT_URI;
  assertLoopbackRedirect(redirectUri, "CHUTES_OAUTH_REDIRECT_URI");
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
