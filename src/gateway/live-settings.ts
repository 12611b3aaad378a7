import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { CredentialStore } from "../auth/credential-store.js";
import { type GatewaySecret, resolveGatewaySecret } from "../auth/gateway-secret.js";
import type { StatePaths } from "../config/paths.js";
import type { OpenClawConfig } from "../config/schema.js";
import { ModelRuntime } from "../models/model-runtime.js";
import type { CreateProviderOptions } from "../providers/registry.js";
import { DEFAULT_MAX_JSON_DEPTH } from "../shared/json-depth.js";
import { GatewayAuth, type RateLimitPolicy } from "./auth.js";
import type { ClientLimits, GatewayContext } from "./context.js";
import { DEFAULT_MAX_BODY_BYTES } from "./http.js";

export function rateLimitPolicy(config: OpenClawConfig): RateLimitPolicy | undefined {
  const limit = config.gateway?.auth?.rateLimit;
  if (!limit) return undefined;
  const maxAttempts = limit.maxAttempts ?? 10;
  return {
    maxAttempts,
    windowMs: limit.windowMs ?? 60_000,
    lockoutMs: limit.lockoutMs ?? 300_000,
    // Ten clients' worth: a few users mistyping at once never trip it; rotating addresses gains 10x at most.
    globalMaxAttempts: limit.globalMaxAttempts ?? maxAttempts * 10,
    exemptLoopback: limit.exemptLoopback ?? false,
  };
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256;

export function clientLimits(config: OpenClawConfig): ClientLimits {
  const http = config.gateway?.http;
  const requestTimeoutMs = http?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    maxJsonDepth: http?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
    requestTimeoutMs,
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeoutMs: Math.min(http?.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs),
    maxConnectionsPerClient: http?.maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
  };
}

/** The provider client's bounds from `gateway.http.*` (unset keys keep the client's defaults). */
function upstreamClientOptions(config: OpenClawConfig): NonNullable<CreateProviderOptions["upstream"]> {
  const http = config.gateway?.http;
  return {
    ...(http?.upstreamMaxConnections ? { maxConnections: http.upstreamMaxConnections } : {}),
    ...(http?.upstreamQueueTimeoutMs ? { queueTimeoutMs: http.upstreamQueueTimeoutMs } : {}),
    ...(http?.maxUpstreamBodyBytes ? { maxBodyBytes: http.maxUpstreamBodyBytes } : {}),
  };
}

export interface LiveSettings
  extends Pick<GatewayContext, "runtime" | "auth" | "endpoints" | "maxBodyBytes" | "clientLimits" | "corsOrigins"> {
  secret: GatewaySecret;
}

function reuse(auth: GatewayAuth | undefined, secret: GatewaySecret, policy: RateLimitPolicy | undefined): GatewayAuth {
  if (!auth) return new GatewayAuth(secret.secret, secret.mode, policy);
  auth.update(secret.secret, secret.mode, policy);
  return auth;
}

/** What the gateway derives from the config and the credential store; rebuilt when either changes. */
export async function buildLiveSettings(options: {
  config: OpenClawConfig;
  paths: StatePaths;
  credentials: CredentialStore;
  enableEndpoints: boolean;
  logger: Logger;
  /** On a reload: the running authenticator, updated in place so lockouts survive. */
  auth?: GatewayAuth;
}): Promise<LiveSettings> {
  const { config, credentials, logger } = options;
  const secret = await resolveGatewaySecret(config, credentials);
  const runtime = new ModelRuntime({
    config,
    paths: options.paths,
    store: await credentials.read(),
    credentialStore: credentials,
    warn: (message) => logger.warn(message),
    ...(config.gateway?.http?.upstreamTimeoutMs ? { timeoutMs: config.gateway.http.upstreamTimeoutMs } : {}),
    upstream: upstreamClientOptions(config),
  });
  return {
    secret,
    runtime,
    auth: reuse(options.auth, secret, rateLimitPolicy(config)),
    endpoints: {
      chatCompletions: options.enableEndpoints || config.gateway?.http?.endpoints?.chatCompletions?.enabled === true,
      responses: options.enableEndpoints || config.gateway?.http?.endpoints?.responses?.enabled === true,
    },
    maxBodyBytes: config.gateway?.http?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    clientLimits: clientLimits(config),
    corsOrigins: config.gateway?.http?.cors?.origins ?? [],
  };
}

/**
 * Call `onChange` (debounced) when any of `files` is replaced or edited. Watches their
 * directories, because atomic writes replace the file rather than change it.
 */
export function watchFiles(files: string[], onChange: () => void, delayMs = 150): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((file) => path.dirname(file)))) {
    const names = new Set(files.filter((file) => path.dirname(file) === dir).map((file) => path.basename(file)));
    try {
      const watcher = watch(dir, (_event, name) => {
        if (!name || !names.has(name.toString())) return;
        clearTimeout(timer);
        timer = setTimeout(onChange, delayMs);
      });
      watcher.on("error", () => undefined);
      watchers.push(watcher);
    } catch {
      // A directory that does not exist yet: nothing to reload from.
    }
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}

/** A digest of the files' contents (missing files count as empty), to skip reloads that change nothing. */
export async function fingerprint(files: string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files) hash.update(await readFile(file).catch(() => Buffer.alloc(0))).update("\0");
  return hash.digest("hex");
}
