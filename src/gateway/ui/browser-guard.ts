import type { IncomingMessage, ServerResponse } from "node:http";
import { PermissionError } from "../../shared/errors.js";

/**
 * On every /ui response. No inline script or style anywhere (the page is a bundle of files), no
 * framing (clickjacking), no other origin to talk to; uPlot draws on a canvas and sets styles
 * through the CSSOM, which `style-src 'self'` allows.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export function setSecurityHeaders(response: ServerResponse): void {
  for (const [name, value] of Object.entries(UI_SECURITY_HEADERS)) response.setHeader(name, value);
}

const one = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * A state-changing call must come from the dashboard itself: the browser's Sec-Fetch-Site must say
 * same-origin, and its Origin (when sent) must be this gateway's. Another port on the same host is
 * another origin but the same *site*, so SameSite=Strict alone would let its forms through; this
 * refuses them. A call that says neither is refused too (every browser sends at least one on a POST).
 */
export function assertSameOrigin(request: IncomingMessage): void {
  const site = one(request.headers["sec-fetch-site"]);
  const origin = one(request.headers.origin);
  if (site !== undefined && site !== "same-origin")
    throw new PermissionError(`cross-site call refused (Sec-Fetch-Site: ${site.slice(0, 20)})`, { code: "cross_site_request" });
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host !== one(request.headers.host))
      throw new PermissionError("cross-origin call refused: the Origin is not this gateway", { code: "cross_site_request" });
  }
  if (site === undefined && origin === undefined)
    throw new PermissionError("refused: a dashboard call must carry Origin or Sec-Fetch-Site", { code: "cross_site_request" });
}
