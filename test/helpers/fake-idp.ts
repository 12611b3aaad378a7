import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake "Sign in with Chutes" IdP on 127.0.0.1 that enforces what test/fixtures/chutes-oauth.json
 * describes: PKCE S256, the state round trip, single-use codes bound to client and redirect,
 * and rotating refresh tokens (a used refresh token is dead).
 */
export interface FakeIdp {
  url: string;
  clientId: string;
  /** Answer the next authorizations with error=access_denied. */
  deny: boolean;
  expiresIn: number;
  /** Pause inside refresh grants (to make concurrent refreshes overlap). */
  refreshDelayMs: number;
  /** Answer refresh grants with this HTTP status (an IdP outage). */
  failRefreshWith: number | undefined;
  refreshCalls: number;
  /** When set, token grants must carry this client_secret (a confidential client). */
  clientSecret: string | undefined;
  revoked: string[];
  validAccess: Set<string>;
  /** Issue a token pair directly (as if signed in earlier). */
  issue(): { access: string; refresh: string };
  close(): Promise<void>;
}

const alnum = (length: number) => randomBytes(length).toString("base64url").replace(/[-_]/g, "x").slice(0, length);

export async function startFakeIdp(): Promise<FakeIdp> {
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; used: boolean; expiresAt: number }>();
  const refreshTokens = new Set<string>();
  const idp: FakeIdp = {
    url: "",
    clientId: `cid_${alnum(24).toLowerCase()}`,
    deny: false,
    expiresIn: 3600,
    refreshDelayMs: 0,
    failRefreshWith: undefined,
    refreshCalls: 0,
    clientSecret: undefined,
    revoked: [],
    validAccess: new Set(),
    issue() {
      const pair = { access: `cak_${alnum(64)}`, refresh: `crt_${alnum(64)}` };
      idp.validAccess.add(pair.access);
      refreshTokens.add(pair.refresh);
      return pair;
    },
    close: async () => undefined,
  };
  const json = (response: import("node:http").ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  const tokenResponse = () => {
    const pair = idp.issue();
    return {
      access_token: pair.access,
      token_type: "Bearer",
      expires_in: idp.expiresIn,
      refresh_token: pair.refresh,
      scope: "openid profile chutes:invoke",
    };
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    if (request.method === "GET" && url.pathname === "/idp/authorize") {
      const q = url.searchParams;
      const redirectUri = q.get("redirect_uri") ?? "";
      if (q.get("client_id") !== idp.clientId) return json(response, 400, { detail: "Invalid client_id" });
      if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge") || !q.get("state")) {
        return json(response, 400, { detail: "Missing required parameters" });
      }
      const target = new URL(redirectUri);
      if (idp.deny) {
        target.search = new URLSearchParams({
          error: "access_denied",
          error_description: "User denied the request",
          state: q.get("state") ?? "",
        }).toString();
      } else {
        const code = alnum(64);
        codes.set(code, {
          clientId: idp.clientId,
          redirectUri,
          challenge: q.get("code_challenge") ?? "",
          used: false,
          expiresAt: Date.now() + 600_000,
        });
        target.search = new URLSearchParams({ code, state: q.get("state") ?? "" }).toString();
      }
      response.writeHead(302, { location: target.toString() });
      response.end();
      return;
    }
    if (request.method === "POST" && url.pathname === "/idp/token") {
      const grant = form.get("grant_type");
      if (form.get("client_id") !== idp.clientId) return json(response, 400, { error: "invalid_client" });
      if (idp.clientSecret !== undefined && form.get("client_secret") !== idp.clientSecret) {
        return json(response, 401, { error: "invalid_client", error_description: "client authentication failed" });
      }
      if (grant === "authorization_code") {
        const code = codes.get(form.get("code") ?? "");
        const verifier = form.get("code_verifier") ?? "";
        const challenge = createHash("sha256").update(verifier).digest("base64url");
        if (
          !code ||
          code.used ||
          code.expiresAt < Date.now() ||
          code.redirectUri !== form.get("redirect_uri") ||
          code.challenge !== challenge
        ) {
          return json(response, 400, { error: "invalid_grant" });
        }
        code.used = true;
        return json(response, 200, tokenResponse());
      }
      if (grant === "refresh_token") {
        idp.refreshCalls++;
        if (idp.refreshDelayMs) await new Promise((resolve) => setTimeout(resolve, idp.refreshDelayMs));
        if (idp.failRefreshWith) return json(response, idp.failRefreshWith, { error: "temporarily_unavailable" });
        const token = form.get("refresh_token") ?? "";
        if (!refreshTokens.delete(token)) return json(response, 400, { error: "invalid_grant" });
        return json(response, 200, tokenResponse());
      }
      return json(response, 400, { error: "unsupported_grant_type" });
    }
    if (request.method === "GET" && url.pathname === "/idp/userinfo") {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      if (!token || !idp.validAccess.has(token)) return json(response, 401, { detail: "Invalid or expired token" });
      return json(response, 200, {
        sub: "5f4dcc3b-5aa7-5d61-9d32-7e0d1b1c2a3f",
        username: "alice",
        created_at: "2025-03-01T12:34:56.789000",
      });
    }
    if (request.method === "POST" && url.pathname === "/idp/token/revoke") {
      const token = form.get("token") ?? "";
      idp.revoked.push(token);
      idp.validAccess.delete(token);
      refreshTokens.delete(token);
      return json(response, 200, { revoked: true });
    }
    json(response, 404, { detail: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  idp.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return idp;
}

/** A free loopback port for a redirect URI. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
