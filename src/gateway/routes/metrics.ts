import { hash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { GatewayContext, RouteHandler } from "../context.js";
import type { Caller } from "../key-guard.js";
import { ensureObserver } from "../observability/start.js";

const digest = (value: string) => hash("sha256", value, "buffer");

/**
 * `gateway.metrics.token` opens /metrics and nothing else, so a scraper never holds the
 * operator's token; the gateway token works too. Anything else goes through the gateway's auth
 * (a wrong token counts towards the lockout; an API key is then refused as not the operator).
 */
export function authenticateScrape(ctx: GatewayContext, request: IncomingMessage): Caller {
  const token = ctx.runtime.config.gateway?.metrics?.token;
  const match = token ? /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "") : null;
  if (token && match && timingSafeEqual(digest((match[1] as string).trim()), digest(token))) return null;
  return ctx.auth.check(request);
}

export const metricsDisabledBy = (ctx: GatewayContext): string | undefined =>
  ctx.runtime.config.gateway?.metrics?.enabled === false ? "gateway.metrics.enabled" : undefined;

/** Prometheus text exposition of the gateway's metrics (loaded on the first scrape if they were not yet). */
export const handleMetrics: RouteHandler = async (ctx, _request, response) => {
  const observer = await ensureObserver(ctx);
  const scraped = await observer?.scrape?.();
  const body = scraped?.body ?? "";
  response.writeHead(200, {
    "content-type": scraped?.contentType ?? "text/plain; version=0.0.4; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  response.end(body);
};
