import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
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
  lock?: RefreshLock,
): Promise<Credential | undefined> {
  if (lock) return refreshUnderSharedLock(store, profileId, settings, now, lock);
  return refreshUnderStoreLock(store, profileId, settings, now);
}

/** One machine: the store's own lock is held across the IdP call, and the profile re-read under it. */
async function refreshUnderStoreLock(
  store: CredentialStore,
  profileId: string,
  settings: OAuthSettings,
  now: () => number,
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
  if (refused) throw signInEnded(profileId, refused);
  return result;
}

function signInEnded(profileId: string, cause: Error): AuthenticationError {
  return new AuthenticationError(
    `the Chutes sign-in ${profileId} has expired or was revoked: sign in again with \`openclaw onboard --auth-choice chutes\``,
    // 503, not 401: the gateway's client presented a good token; the provider sign-in is what ended.
    { code: "oauth_needs_signin", status: 503, cause },
  );
}

/**
 * A lock every process sees (Redis: SET NX PX + a token, released by compare-and-delete), for
 * replicas and CLIs on several machines sharing one credential store.
 */
export interface RefreshLock {
  /** The lock, or undefined while another process holds it. Throws when the lock service is unreachable. */
  acquire(name: string, ttlMs: number): Promise<HeldLock | undefined>;
  /**
   * Compare-and-set on the refresh token about to be spent (`version`, a digest): true for the one
   * caller that moves `name` to it, false when it was already spent (by a holder whose lock ran out).
   */
  claim(name: string, version: string, ttlMs: number): Promise<boolean>;
}

export interface HeldLock {
  /** Keeps the lock while the IdP call lasts; false when it was lost. */
  extend(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/** The lock lives this long unless extended (every third of it) while its holder refreshes. */
const LOCK_TTL_MS = 15_000;
/** A spent refresh token stays claimed past any IdP call (REFRESH_TIMEOUT_MS is 120 s). */
const CLAIM_TTL_MS = 10 * 60_000;
/** How long a process waits for another's refresh before it gives up (the caller's own wait is shorter). */
const WAIT_FOR_OTHER_MS = 150_000;

const versionOf = (refresh: string) => createHash("sha256").update(refresh).digest("base64url");

/**
 * Several machines: the shared lock single-flights the refresh, the claim makes sure a refresh
 * token is spent once even when a lock expired under a slow holder, and the pair is written
 * only if the store still holds the token that was spent (compare-and-set). The store's own
 * lock is held only for that write, never across the IdP call. Everyone else waits and re-reads
 * the store. A lock service that does not answer: the store's lock, as on one machine.
 */
async function refreshUnderSharedLock(
  store: CredentialStore,
  profileId: string,
  settings: OAuthSettings,
  now: () => number,
  lock: RefreshLock,
): Promise<Credential | undefined> {
  const name = `oauth-refresh:${profileId}`;
  const giveUpAt = Date.now() + WAIT_FOR_OTHER_MS;
  for (let round = 0; ; round++) {
    const current = await store.getProfile(profileId);
    if (current?.type !== "oauth" || !needsRefresh(current, now()) || !current.refresh) return current;
    if (round > 0 && Date.now() > giveUpAt)
      throw new Error(`another process has been refreshing ${profileId} for too long; try again shortly`);
    let held: HeldLock | undefined;
    try {
      held = await lock.acquire(name, LOCK_TTL_MS);
    } catch {
      return refreshUnderStoreLock(store, profileId, settings, now);
    }
    if (!held) {
      // Another process is refreshing: its pair will be in the store.
      await sleep(Math.min(50 * 2 ** Math.min(round, 3), 400));
      continue;
    }
    try {
      const result = await refreshHolding(store, profileId, settings, now, lock, held, name);
      if (result !== "spent") return result;
    } finally {
      await held.release().catch(() => undefined);
    }
    await sleep(Math.min(50 * 2 ** Math.min(round, 3), 400));
  }
}

async function refreshHolding(
  store: CredentialStore,
  profileId: string,
  settings: OAuthSettings,
  now: () => number,
  lock: RefreshLock,
  held: HeldLock,
  name: string,
): Promise<Credential | undefined | "spent"> {
  // Re-read under the lock: the previous holder may have just written the new pair.
  const current = await store.getProfile(profileId);
  if (current?.type !== "oauth" || !needsRefresh(current, now()) || !current.refresh) return current;
  const clientId = current.clientId ?? settings.clientId;
  if (!clientId) return current;
  const spent = current.refresh;
  if (!(await lock.claim(name, versionOf(spent), CLAIM_TTL_MS))) return "spent";
  const keepAlive = setInterval(() => void held.extend(LOCK_TTL_MS).catch(() => false), LOCK_TTL_MS / 3);
  let tokens: Awaited<ReturnType<typeof refreshTokens>>;
  try {
    tokens = await refreshTokens(clientSettings(settings, current), clientId, spent, now);
  } catch (error) {
    if (!(error instanceof InvalidGrantError)) throw error;
    await store.update((data) => {
      const stored = data.profiles[profileId];
      if (stored?.type === "oauth" && stored.refresh === spent) data.profiles[profileId] = { ...stored, needsReauth: true };
    });
    throw signInEnded(profileId, error);
  } finally {
    clearInterval(keepAlive);
  }
  // Always written (it holds the only live refresh token), unless the profile changed meanwhile (a new sign-in).
  return store.update((data) => {
    const stored = data.profiles[profileId];
    if (stored?.type !== "oauth" || stored.refresh !== spent) return stored;
    const next: Credential = { ...stored, access: tokens.access, refresh: tokens.refresh ?? stored.refresh };
    if (tokens.expires !== undefined) next.expires = tokens.expires;
    if (tokens.lifetimeMs !== undefined) next.lifetimeMs = tokens.lifetimeMs;
    data.profiles[profileId] = next;
    return next;
  });
}
