import { AuthenticationError } from "../../shared/errors.js";
import type { Credential, CredentialStore } from "../credential-store.js";
import { InvalidGrantError, refreshTokens } from "./idp-client.js";
import type { OAuthSettings } from "./oauth-settings.js";

type OAuthCredential = Extract<Credential, { type: "oauth" }>;

/**
 * The client a profile signed in with: its stored secret, unless the environment names the same
 * client with a (perhaps rotated) secret of its own.
 */
export function clientSettings(settings: OAuthSettings, credential: OAuthCredential): OAuthSettings {
  const sameClient = !settings.clientId || !credential.clientId || settings.clientId === credential.clientId;
  const clientSecret = (sameClient ? settings.clientSecret : undefined) ?? credential.clientSecret;
  return { ...settings, clientSecret };
}

/** Refresh at most this long before the access token expires. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * How early to refresh: five minutes, or half the token's lifetime when it is shorter (a 60 s
 * token is refreshed at 30 s, not on every request as a fixed five-minute margin would).
 */
export function refreshMargin(credential: Credential): number {
  const lifetime = credential.type === "oauth" ? credential.lifetimeMs : undefined;
  return lifetime !== undefined && lifetime > 0 ? Math.min(REFRESH_MARGIN_MS, lifetime / 2) : REFRESH_MARGIN_MS;
}

export function needsRefresh(credential: Credential, now: number, marginMs = refreshMargin(credential)): boolean {
  return credential.type === "oauth" && !credential.needsReauth && credential.expires !== undefined && credential.expires - now <= marginMs;
}

/**
 * Refresh an OAuth profile whose access token is about to expire. Chutes rotates refresh tokens
 * (the old one dies on use), so this runs under the store's lock and re-reads the profile
 * first: when another process refreshed meanwhile, its new pair is used and the IdP is not called.
 * The IdP's answer is always written, however long it takes: it holds the only live refresh token.
 * A refused grant marks the profile as needing sign-in and says how.
 */
export async function refreshOAuthProfile(
  store: CredentialStore,
  profileId: string,
  settings: OAuthSettings,
  now: () => number = Date.now,
): Promise<Credential | undefined> {
  let refused: InvalidGrantError | undefined;
  const result = await store.update(async (data) => {
    const current = data.profiles[profileId];
    if (current?.type !== "oauth" || !needsRefresh(current, now()) || !current.refresh) return current;
    const clientId = current.clientId ?? settings.clientId;
    if (!clientId) return current;
    try {
      const tokens = await refreshTokens(clientSettings(settings, current), clientId, current.refresh, now);
      const next: Credential = { ...current, access: tokens.access, refresh: tokens.refresh ?? current.refresh };
      if (tokens.expires !== undefined) next.expires = tokens.expires;
      if (tokens.lifetimeMs !== undefined) next.lifetimeMs = tokens.lifetimeMs;
      data.profiles[profileId] = next;
      return next;
    } catch (error) {
      if (!(error instanceof InvalidGrantError)) throw error;
      refused = error;
      data.profiles[profileId] = { ...current, needsReauth: true };
      return data.profiles[profileId];
    }
  });
  if (refused) {
    throw new AuthenticationError(
      `the Chutes sign-in ${profileId} has expired or was revoked: sign in again with \`openclaw onboard --auth-choice chutes\``,
      // 503, not 401: the gateway's client presented a good token; the provider sign-in is what ended.
      { code: "oauth_needs_signin", status: 503, cause: refused },
    );
  }
  return result;
}
