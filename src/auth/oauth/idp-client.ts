import { AuthenticationError, OpenClawError } from "../../shared/errors.js";
import type { OAuthSettings } from "./oauth-settings.js";

export interface TokenSet {
  access: string;
  refresh?: string;
  /** Epoch ms. */
  expires?: number;
  /** How long the access token was issued for (`expires_in`), in ms: sets how early it is refreshed. */
  lifetimeMs?: number;
  scope?: string;
}

export interface Account {
  id?: string;
  username?: string;
  email?: string;
}

const TIMEOUT_MS = 8_000;
/**
 * A refresh grant's answer carries the only copy of the rotated refresh token (the old one dies
 * when the IdP processes the request), so a slow answer is waited for far longer than other calls:
 * giving up on it would lose the sign-in. Callers stop waiting sooner; the refresh goes on.
 */
export const REFRESH_TIMEOUT_MS = 120_000;

/** The IdP refused a grant: the refresh token is spent or revoked; the user must sign in again. */
export class InvalidGrantError extends AuthenticationError {
  constructor(message: string) {
    super(message, { code: "invalid_grant" });
  }
}

async function post(url: string, form: Record<string, string | undefined>, now: () => number, timeoutMs = TIMEOUT_MS): Promise<TokenSet> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value);
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", body, headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new OpenClawError(`cannot reach the Chutes sign-in service (${(error as Error).message})`, {
      status: 502,
      code: "idp_unreachable",
      cause: error,
    });
  }
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // handled below
  }
  if (!response.ok) {
    const code = typeof json.error === "string" ? json.error : `http_${response.status}`;
    const description = typeof json.error_description === "string" ? `: ${json.error_description}` : "";
    if (code === "invalid_grant") throw new InvalidGrantError(`Chutes refused the grant (invalid_grant${description})`);
    if (response.status >= 500) {
      throw new OpenClawError(`the Chutes sign-in service is unavailable (HTTP ${response.status})`, {
        status: 503,
        type: "upstream_error",
        code: "idp_unavailable",
      });
    }
    throw new AuthenticationError(`Chutes sign-in failed (${code}${description})`, { code });
  }
  if (typeof json.access_token !== "string")
    throw new OpenClawError("Chutes sign-in answered without an access token", { status: 502, code: "idp_bad_response" });
  return {
    access: json.access_token,
    ...(typeof json.refresh_token === "string" ? { refresh: json.refresh_token } : {}),
    ...(typeof json.expires_in === "number" && json.expires_in > 0
      ? { expires: now() + json.expires_in * 1000, lifetimeMs: json.expires_in * 1000 }
      : {}),
    ...(typeof json.scope === "string" ? { scope: json.scope } : {}),
  };
}

export function exchangeCode(
  settings: OAuthSettings,
  clientId: string,
  code: string,
  verifier: string,
  now: () => number = Date.now,
): Promise<TokenSet> {
  return post(
    settings.tokenUrl,
    {
      grant_type: "authorization_code",
      client_id: clientId,
      client_secret: settings.clientSecret,
      code,
      redirect_uri: settings.redirectUri,
      code_verifier: verifier,
    },
    now,
  );
}

export function refreshTokens(
  settings: OAuthSettings,
  clientId: string,
  refresh: string,
  now: () => number = Date.now,
  timeoutMs = REFRESH_TIMEOUT_MS,
): Promise<TokenSet> {
  return post(
    settings.tokenUrl,
    { grant_type: "refresh_token", client_id: clientId, client_secret: settings.clientSecret, refresh_token: refresh },
    now,
    timeoutMs,
  );
}

/** Who signed in, for `models status`; never fatal. */
export async function fetchAccount(settings: OAuthSettings, access: string): Promise<Account | undefined> {
  try {
    const response = await fetch(settings.userinfoUrl, {
      headers: { authorization: `Bearer ${access}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    const info = (await response.json()) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
    const account: Account = {};
    const id = text(info.sub);
    const username = text(info.username) ?? text(info.preferred_username);
    const email = text(info.email);
    if (id) account.id = id;
    if (username) account.username = username;
    if (email) account.email = email;
    return account;
  } catch {
    return undefined;
  }
}

/** Best effort: a revocation that fails must not stop a logout. */
export async function revokeToken(
  settings: OAuthSettings,
  token: string,
  hint: "access_token" | "refresh_token",
  clientId?: string,
): Promise<boolean> {
  try {
    const body = new URLSearchParams({ token, token_type_hint: hint });
    if (clientId) body.set("client_id", clientId);
    if (settings.clientSecret) body.set("client_secret", settings.clientSecret);
    const response = await fetch(settings.revokeUrl, { method: "POST", body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}
