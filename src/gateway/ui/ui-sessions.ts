import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/** The session cookie's name; scoped to Path=/ui, so the API routes never see it. */
export const SESSION_COOKIE = "openclaw_ui";
/** The header a mutating call carries the session's CSRF token in. */
export const CSRF_HEADER = "x-openclaw-csrf";

/** A sign-in lasts this long, whatever happens (a stolen cookie is not good forever). */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Most signed-in sessions kept; past it the oldest is signed out (memory stays bounded whoever signs in). */
export const DEFAULT_MAX_SESSIONS = 64;

interface UiSession {
  csrf: string;
  /** The gateway secret's digest when the session began: a new token or password ends the session. */
  secretDigest: Buffer;
  expiresAt: number;
}

export interface SignedIn {
  csrf: string;
  expiresAt: number;
}

const lookupKey = (id: string) => hash("sha256", id, "hex");

/**
 * Server-side sessions for the dashboard: the browser holds only an opaque random id (256 bits)
 * in an HttpOnly cookie; the map is keyed by its digest, so a lookup compares no secret byte by
 * byte. Bounded in count and in time.
 */
export class UiSessions {
  private readonly sessions = new Map<string, UiSession>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = DEFAULT_SESSION_TTL_MS,
    private readonly maxSessions = DEFAULT_MAX_SESSIONS,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for a caller that just presented the secret with this digest. */
  create(secretDigest: Buffer): { id: string } & SignedIn {
    const id = randomBytes(32).toString("base64url");
    const session: UiSession = {
      csrf: randomBytes(32).toString("base64url"),
      secretDigest: Buffer.from(secretDigest),
      expiresAt: this.now() + this.ttlMs,
    };
    this.sessions.set(lookupKey(id), session);
    for (const [key, entry] of this.sessions) {
      if (this.sessions.size <= this.maxSessions && entry.expiresAt > this.now()) break;
      this.sessions.delete(key);
    }
    return { id, csrf: session.csrf, expiresAt: session.expiresAt };
  }

  /** The live session for this id: not expired, and begun with the secret still in force. */
  find(id: string | undefined, currentDigest: Buffer): SignedIn | undefined {
    if (!id) return undefined;
    const key = lookupKey(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.now() || !timingSafeEqual(session.secretDigest, currentDigest)) {
      this.sessions.delete(key);
      return undefined;
    }
    return { csrf: session.csrf, expiresAt: session.expiresAt };
  }

  remove(id: string | undefined): void {
    if (id) this.sessions.delete(lookupKey(id));
  }
}

export function cookieValue(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The request came over TLS, to us or to a proxy in front that says so. */
export function cameOverTls(request: IncomingMessage): boolean {
  if ((request.socket as TLSSocket).encrypted) return true;
  const forwarded = request.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  return proto === "https";
}

export function sessionCookie(request: IncomingMessage, id: string, maxAgeMs: number): string {
  const secure = cameOverTls(request) ? "; Secure" : "";
  return `${SESSION_COOKIE}=${id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}${secure}`;
}

export function clearedCookie(request: IncomingMessage): string {
  return sessionCookie(request, "", 0);
}

/** Constant-time comparison of the CSRF token a call carried with its session's. */
export function csrfMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = hash("sha256", presented, "buffer");
  const b = hash("sha256", expected, "buffer");
  return timingSafeEqual(a, b);
}
