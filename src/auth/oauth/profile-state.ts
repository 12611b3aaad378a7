import type { Credential } from "../credential-store.js";

export type OAuthState = "ok" | "expiring" | "expired" | "needs sign-in";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How a signed-in profile stands. With a refresh token the short-lived access token renews
 * itself, so only a refused refresh ends it; without one, its expiry is the profile's.
 */
export function oauthState(credential: Extract<Credential, { type: "oauth" }>, now: number): OAuthState {
  if (credential.needsReauth) return "needs sign-in";
  if (credential.refresh || credential.expires === undefined) return "ok";
  if (credential.expires <= now) return "expired";
  return credential.expires - now <= DAY_MS ? "expiring" : "ok";
}
