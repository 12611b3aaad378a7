import type { IncomingMessage } from "node:http";
import { parseKeyName, resolveKeyAgents, resolveKeyModels } from "../../agents/key-scope.js";
import { InvalidRequestError, NotFoundError, OpenClawError } from "../../shared/errors.js";
import {
  BUDGET_PERIODS,
  type BudgetPeriod,
  budgetWindow,
  type KeyPatch,
  type KeyRecord,
  type KeyScope,
  keyState,
} from "../../store/key-store.js";
import { USAGE_GROUPS, type UsageGroup } from "../../store/usage-ledger.js";
import type { GatewayContext, RouteHandler } from "../context.js";
import { expectObject, readJsonBody, sendJson } from "../http.js";

/**
 * The operator's HTTP surface (gateway token only; the server refuses API keys with 403):
 *   GET    /v1/openclaw/usage?by=key|model|agent|provider|day&since=7d&until=…&key=<id or name>
 *   GET    /v1/openclaw/keys                 list (never a secret)
 *   POST   /v1/openclaw/keys                 create: 201 {key, secret} — the secret is shown once
 *   GET    /v1/openclaw/keys/{id or name}
 *   PATCH  /v1/openclaw/keys/{id or name}    a value sets a field, null clears it
 *   DELETE /v1/openclaw/keys/{id or name}    revoke (the record stays, for usage)
 * Fields use the API's snake_case: name, models, agents, rpm, tpm, max_parallel,
 * budget {usd, period}, expires_at (epoch seconds) or expires_in (seconds).
 */

function keysOf(ctx: GatewayContext) {
  if (!ctx.keys) throw new NotFoundError("this gateway has no key store", { code: "unknown_url" });
  return ctx.keys;
}

const DURATION = /^(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d` (before now), an ISO date, or epoch seconds. */
function timePoint(text: string, param: string, now: number): number {
  const duration = DURATION.exec(text);
  if (duration) return now - Number(duration[1]) * (UNIT_MS[duration[2] as string] as number);
  if (/^\d{9,11}$/.test(text)) return Number(text) * 1000;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(at)) return at;
  throw new InvalidRequestError(`${param} must be a duration (7d, 12h), a date (2026-11-01) or epoch seconds`, { param });
}

/** A key as the API shows it: no hash, no salt; times in epoch seconds; its state and current spend. */
async function keyView(ctx: GatewayContext, key: KeyRecord, now: number) {
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 1000));
  const spent = key.budget ? await ctx.store.keySpend(key.id, budgetWindow(key, now).start) : null;
  return {
    id: key.id,
    object: "openclaw.key",
    name: key.name,
    prefix: key.prefix,
    state: keyState(key, now),
    created_at: seconds(key.createdAt),
    expires_at: seconds(key.expiresAt),
    revoked_at: seconds(key.revokedAt),
    models: key.models ?? null,
    agents: key.agents ?? null,
    rpm: key.rpm ?? null,
    tpm: key.tpm ?? null,
    max_parallel: key.maxParallel ?? null,
    budget: key.budget ?? null,
    budget_spent_usd: spent,
  };
}

function positiveInt(value: unknown, param: string): number | null {
  if (value === null) return null;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 1) return value;
  throw new InvalidRequestError(`${param} must be a whole number of at least 1 (or null to clear it)`, { param });
}

function stringList(value: unknown, param: string): string[] | null {
  if (value === null) return null;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string")) return value;
  throw new InvalidRequestError(`${param} must be a non-empty list of strings (or null for any)`, { param });
}

/** The body as a patch, every field checked before anything is written (the same checks as `openclaw keys`). */
async function patchFromBody(ctx: GatewayContext, body: Record<string, unknown>, now: number, current?: KeyRecord): Promise<KeyPatch> {
  const known = ["name", "models", "agents", "rpm", "tpm", "max_parallel", "budget", "expires_at", "expires_in"];
  const unknown = Object.keys(body).find((field) => !known.includes(field));
  if (unknown) throw new InvalidRequestError(`unknown field ${unknown}; fields are ${known.join(", ")}`, { param: unknown });
  const patch: KeyPatch = {};
  if (body.name !== undefined) {
    if (typeof body.name !== "string") throw new InvalidRequestError("name must be a string", { param: "name" });
    patch.name = parseKeyName(body.name);
  }
  if (body.rpm !== undefined) patch.rpm = positiveInt(body.rpm, "rpm");
  if (body.tpm !== undefined) patch.tpm = positiveInt(body.tpm, "tpm");
  if (body.max_parallel !== undefined) patch.maxParallel = positiveInt(body.max_parallel, "max_parallel");
  if (body.models !== undefined) {
    const models = stringList(body.models, "models");
    patch.models = models && (await resolveKeyModels(ctx.runtime, models));
  }
  if (body.agents !== undefined) {
    const agents = stringList(body.agents, "agents");
    patch.agents = agents && resolveKeyAgents(ctx.runtime, agents);
  }
  if (body.budget !== undefined) {
    const budget = body.budget as { usd?: unknown; period?: unknown } | null;
    if (budget === null) patch.budget = null;
    else {
      const period = budget?.period ?? current?.budget?.period ?? "30d";
      if (typeof budget?.usd !== "number" || !(budget.usd >= 0) || !BUDGET_PERIODS.includes(period as BudgetPeriod))
        throw new InvalidRequestError(`budget must be {usd: number ≥ 0, period: ${BUDGET_PERIODS.join("|")}} or null`, { param: "budget" });
      patch.budget = { usd: budget.usd, period: period as BudgetPeriod };
    }
  }
  if (body.expires_at !== undefined && body.expires_in !== undefined)
    throw new InvalidRequestError("send one of expires_at and expires_in", { param: "expires_in" });
  if (body.expires_in !== undefined)
    patch.expiresAt = body.expires_in === null ? null : now + positiveInt(body.expires_in, "expires_in")! * 1000;
  if (body.expires_at !== undefined) patch.expiresAt = body.expires_at === null ? null : positiveInt(body.expires_at, "expires_at")! * 1000;
  return patch;
}

function scopeOf(patch: KeyPatch): KeyScope {
  const scope: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) if (field !== "name" && value !== null && value !== undefined) scope[field] = value;
  return scope as KeyScope;
}

function keyIdOf(request: IncomingMessage): string {
  const raw = (request.url ?? "").split("?")[0]?.slice("/v1/openclaw/keys/".length) ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

async function findKey(ctx: GatewayContext, request: IncomingMessage): Promise<KeyRecord> {
  return findKeyById(ctx, keyIdOf(request));
}

async function findKeyById(ctx: GatewayContext, id: string): Promise<KeyRecord> {
  const key = await keysOf(ctx).store.find(id);
  if (!key) throw new NotFoundError(`no key ${JSON.stringify(id)}`, { code: "key_not_found" });
  return key;
}

/** After a change: this gateway applies it before answering (others see it through the store's watch). */
async function changed(ctx: GatewayContext): Promise<void> {
  await keysOf(ctx).reload?.();
}

export const handleUsage: RouteHandler = async (ctx, request, response) => {
  const query = new URL(request.url ?? "/", "http://gateway").searchParams;
  const now = Date.now();
  const by = (query.get("by") ?? "key") as UsageGroup;
  if (!USAGE_GROUPS.includes(by)) throw new InvalidRequestError(`by must be one of ${USAGE_GROUPS.join(", ")}`, { param: "by" });
  const since = timePoint(query.get("since") ?? "7d", "since", now);
  const untilText = query.get("until");
  const until = untilText === null ? undefined : timePoint(untilText, "until", now);
  if (until !== undefined && until <= since) throw new InvalidRequestError("until must be after since", { param: "until" });
  const keys = ctx.keys ? await ctx.keys.store.list() : [];
  const keyText = query.get("key");
  const key = keyText === null ? undefined : (keys.find((entry) => entry.id === keyText) ?? keys.find((entry) => entry.name === keyText));
  if (keyText !== null && !key) throw new NotFoundError(`no key ${JSON.stringify(keyText)}`, { code: "key_not_found", param: "key" });
  const rows = await ctx.store.aggregateRequests({
    by,
    since,
    ...(until === undefined ? {} : { until }),
    ...(key ? { keyId: key.id } : {}),
  });
  const names = new Map(keys.map((entry) => [entry.id, entry.name]));
  sendJson(response, 200, {
    object: "openclaw.usage",
    by,
    since: new Date(since).toISOString(),
    until: until === undefined ? null : new Date(until).toISOString(),
    rows: by === "key" ? rows.map((row) => ({ ...row, name: row.group === null ? null : (names.get(row.group) ?? null) })) : rows,
  });
};

export const handleListKeys: RouteHandler = async (ctx, _request, response) => {
  const now = Date.now();
  const keys = await keysOf(ctx).store.list();
  sendJson(response, 200, { object: "list", data: await Promise.all(keys.map((key) => keyView(ctx, key, now))) });
};

export const handleCreateKey: RouteHandler = async (ctx, request, response) => {
  const now = Date.now();
  const body = expectObject<Record<string, unknown>>(await readJsonBody(request, ctx.maxBodyBytes));
  if (typeof body.name !== "string") throw new InvalidRequestError("name is required", { param: "name" });
  const patch = await patchFromBody(ctx, body, now);
  const created = await keysOf(ctx).store.create(patch.name as string, scopeOf(patch), now);
  await changed(ctx);
  sendJson(response, 201, { key: await keyView(ctx, created.record, now), secret: created.secret });
};

export const handleGetKey: RouteHandler = async (ctx, request, response) => {
  sendJson(response, 200, await keyView(ctx, await findKey(ctx, request), Date.now()));
};

export const handleUpdateKey: RouteHandler = async (ctx, request, response) => {
  const now = Date.now();
  const current = await findKey(ctx, request);
  const body = expectObject<Record<string, unknown>>(await readJsonBody(request, ctx.maxBodyBytes));
  const patch = await patchFromBody(ctx, body, now, current);
  if (patch.models?.length === 0 || patch.agents?.length === 0) throw new InvalidRequestError("an empty list would allow nothing");
  const updated = await keysOf(ctx).store.update(current.id, patch);
  await changed(ctx);
  sendJson(response, 200, await keyView(ctx, updated, now));
};

/** Revoke a key by id or name; the answer is its view (the dashboard revokes through this too). */
export async function revokeKey(ctx: GatewayContext, idOrName: string) {
  const now = Date.now();
  const current = await findKeyById(ctx, idOrName);
  if (current.revokedAt !== undefined)
    throw new OpenClawError(`key ${current.name} is already revoked`, { status: 409, type: "invalid_request_error", code: "key_revoked" });
  const revoked = await keysOf(ctx).store.revoke(current.id, now);
  await changed(ctx);
  return keyView(ctx, revoked, now);
}

export const handleRevokeKey: RouteHandler = async (ctx, request, response) => {
  sendJson(response, 200, await revokeKey(ctx, keyIdOf(request)));
};
