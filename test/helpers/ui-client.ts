import assert from "node:assert/strict";

/** A dashboard session made the way the page makes one (JSON sign-in from its own origin), for calls outside the browser. */
export interface UiSession {
  cookie: string;
  csrf: string;
}

export async function uiSignIn(gatewayUrl: string, token: string): Promise<UiSession> {
  const response = await fetch(`${gatewayUrl}/ui/api/login`, {
    method: "POST",
    headers: { origin: gatewayUrl, "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie, "a session cookie");
  const { csrf } = (await response.json()) as { csrf: string };
  return { cookie, csrf };
}

/** A call to /ui/api with the session's cookie; `headers` adds or overrides (origin, CSRF…). */
export function uiCall(
  gatewayUrl: string,
  session: UiSession | undefined,
  route: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${gatewayUrl}/ui/api/${route}`, {
    method: init.method ?? "GET",
    headers: {
      ...(session ? { cookie: session.cookie } : {}),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}
