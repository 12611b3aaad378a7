import type { Server } from "node:http";
import { providersSetUp } from "../../agents/route-request.js";
import { ModelCooldowns, routingPolicy } from "../../agents/routing.js";
import { CredentialStore, openCredentialStore } from "../../auth/credential-store.js";
import { resolveGatewaySecret } from "../../auth/gateway-secret.js";
import { redisUrlOf } from "../../backends/redis/connection.js";
import { loadConfig } from "../../config/load.js";
import { ensurePrivateDir } from "../../config/paths.js";
import type { OpenClawConfig } from "../../config/schema.js";
import type { GatewayContext } from "../../gateway/context.js";
import type { GatewayKeys } from "../../gateway/key-guard.js";
import { InMemoryKeyLimiter } from "../../gateway/limits/key-limiter.js";
import { buildLiveSettings, fingerprint, watchFiles } from "../../gateway/live-settings.js";
import { createLogger, type LogOptions } from "../../gateway/logger.js";
import { logFilePath } from "../../gateway/logging/log-file.js";
import { ensureObserver } from "../../gateway/observability/start.js";
import { localUrl, removeGatewayRecord, writeGatewayRecord } from "../../gateway/runtime-record.js";
import { applyTimeouts, createGatewayServer, loadRoutes } from "../../gateway/server.js";
import { assertServable } from "../../gateway/startup-check.js";
import { DEFAULT_DISCOVERY_TTL_SECONDS, shareDiscoveryCache } from "../../models/discovery-cache.js";
import { ConfigError, errorCode, InvalidRequestError } from "../../shared/errors.js";
import { VERSION } from "../../shared/version.js";
import { flushVerdictRecorders } from "../../store/attestation-verdicts.js";
import { LiveKeyIndex } from "../../store/key-index.js";
import { LocalKeyStore } from "../../store/key-store-file.js";
import { openConfiguredPostgres } from "../../store/postgres/configured.js";
import type { PostgresBackends } from "../../store/postgres/index.js";
import type { StateStore } from "../../store/state-store.js";
import { WorkerStore } from "../../store/worker-store.js";

export interface GatewayOptions {
  port?: string;
  bind?: string;
  enableEndpoints?: boolean;
  drainTimeout?: string;
  logFormat?: string;
  verbose?: boolean;
}

export const DEFAULT_GATEWAY_PORT = 18789;

/** After the connections are closed, how long shutdown waits for request handlers to record their turns. */
const HANDLER_SETTLE_MS = 5_000;

function bindAddress(bind: string): string {
  if (bind === "loopback" || bind === "localhost") return "127.0.0.1";
  if (bind === "lan" || bind === "all") return "0.0.0.0";
  return bind;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidRequestError(`--port must be a whole number from 0 to 65535, not ${JSON.stringify(text)}`);
  return port;
}

function parseMilliseconds(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidRequestError(`${flag} must be a whole number of milliseconds, not ${JSON.stringify(text)}`);
  return value;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error) => {
      if (errorCode(error) === "EADDRINUSE")
        reject(new ConfigError(`port ${port} on ${host} is in use: stop the other process or pass --port`, { cause: error }));
      else reject(new ConfigError(`cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error }));
    });
    server.listen(port, host, () => resolve());
  });
}

function parseLogFormat(text: string | undefined): "pretty" | "json" | undefined {
  if (text === undefined || text === "pretty" || text === "json") return text;
  throw new InvalidRequestError(`--log-format must be pretty or json, not ${JSON.stringify(text)}`);
}

const MB = 1024 * 1024;

/** The log's settings (gateway.logs): stdout's format, and the file under <state>/logs unless turned off. */
function logOptions(config: OpenClawConfig, stateDir: string, formatFlag: "pretty" | "json" | undefined): LogOptions {
  const logs = config.gateway?.logs;
  return {
    format: formatFlag ?? logs?.format,
    file:
      logs?.file === false
        ? undefined
        : { path: logFilePath(stateDir), maxBytes: (logs?.maxFileMb ?? 10) * MB, keepFiles: logs?.keepFiles ?? 5 },
    onFileError: (error) => process.stderr.write(`openclaw: cannot write the log file (${error.message}); logging to stdout only\n`),
  };
}

export async function runGateway(options: GatewayOptions, verbose: boolean): Promise<void> {
  // Every flag is checked before anything starts.
  const logFormat = parseLogFormat(options.logFormat);
  const drainMs = options.drainTimeout !== undefined ? parseMilliseconds(options.drainTimeout, "--drain-timeout") : 10_000;
  const portFlag = options.port !== undefined ? parsePort(options.port) : undefined;
  const { config, paths } = await loadConfig();
  // SQLite runs on its own thread (retention too), started on first use: nothing on the request
  // path waits for the disk, and start-up does not wait for the thread. An unusable database
  // still stops the gateway here.
  const logger = createLogger(verbose, logOptions(config, paths.stateDir, logFormat));
  // With gateway.state.postgres: sessions, responses, usage, keys (and credentials, with a key) are shared by every replica.
  const postgres = await openConfiguredPostgres(config, logger);
  const sqlite = postgres ? undefined : WorkerStore.create(paths.stateDir, { retention: config.gateway?.sessions });
  const store: StateStore = postgres?.state ?? (sqlite as WorkerStore);
  const credentials: CredentialStore = postgres?.credentials ?? CredentialStore.fromPaths(paths);
  const enableEndpoints = options.enableEndpoints === true;
  const { secret, ...live } = await buildLiveSettings({ config, paths, credentials, enableEndpoints, logger });
  assertServable(live.runtime);
  if (sqlite) {
    sqlite.onWriteError = (error, dropped) => logger.error({ err: error.message, dropped }, "could not record session turns");
    sqlite.onDropped = (dropped) =>
      logger.warn({ dropped }, "the store's queue is full (the disk is not keeping up): oldest records dropped");
    sqlite.onMaintenanceError = (error) => logger.warn({ err: error.message }, "session retention failed");
  }
  // Virtual keys: `openclaw keys create/update/revoke` apply without a restart (the index reloads on change).
  const keyStore = postgres?.keys ?? LocalKeyStore.inStateDir(paths.stateDir);
  let keyIndex: LiveKeyIndex;
  try {
    keyIndex = await LiveKeyIndex.open(keyStore, {
      onError: (error) => logger.error({ err: error.message }, "could not reload the API keys; the previous ones stay in force"),
      onReload: (index) => logger.info({ keys: index.size }, "API keys reloaded"),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  live.auth.keys = keyIndex;
  const spendSince = (id: string, since: number) => store.keySpend(id, since);
  const localLimiter = new InMemoryKeyLimiter({ spendSince });
  // Shared state for replicas (gateway.state.redis): loaded only when configured.
  const redis = redisUrlOf(config.gateway?.state)
    ? await (await import("../../backends/redis/index.js")).connectRedisBackends(config, logger)
    : undefined;
  if (redis) {
    live.auth.shareFailures(redis.lockouts);
    shareDiscoveryCache(redis.cache);
  }
  const keys: GatewayKeys = {
    store: keyStore,
    limiter: redis ? redis.keyLimiter(localLimiter, spendSince) : localLimiter,
    now: Date.now,
    reload: () => keyIndex.reload(),
  };
  const cooldowns = redis ? new ModelCooldowns(redis.cooldowns) : undefined;
  const ctx: GatewayContext = { ...live, store, logger, keys, routing: routingPolicy(config, undefined, Date.now, cooldowns) };
  const { server, settled, websockets } = createGatewayServer(ctx);
  const host = bindAddress(options.bind ?? config.gateway?.bind ?? "loopback");
  const port = portFlag ?? config.gateway?.port ?? DEFAULT_GATEWAY_PORT;
  try {
    await listen(server, port, host);
  } catch (error) {
    // Its file watch would keep the process alive after the error.
    keyIndex.close();
    await store.close();
    await redis?.close();
    throw error;
  }
  // The retention pass at start runs once the gateway listens.
  sqlite?.startMaintenance();

  // Warm the catalog now, and keep it fresh without a cron job. With no provider set up there is
  // nothing to discover (and nothing to warn about).
  const setUp = () => providersSetUp(ctx.runtime).length > 0;
  const refresh = () => {
    if (setUp()) ctx.runtime.refreshCatalog().catch((error: Error) => logger.warn({ err: error.message }, "catalog refresh failed"));
  };
  if (setUp()) void ctx.runtime.catalog();

  // `config set`, `paste-token` and onboarding apply without a restart (the listening address excepted).
  ensurePrivateDir(paths.credentialsDir);
  let seen = await fingerprint([paths.configPath, paths.authProfilesPath]);
  const reloadSettings = async (shared = false) => {
    try {
      // Our own writes (an OAuth refresh) and no-op saves change nothing that needs rebuilding.
      const now = await fingerprint([paths.configPath, paths.authProfilesPath]);
      if (now === seen && !shared) return;
      seen = now;
      const { config: next } = await loadConfig({ paths });
      const { secret: _secret, ...rebuilt } = await buildLiveSettings({
        config: next,
        paths,
        credentials,
        enableEndpoints,
        logger,
        auth: ctx.auth,
      });
      assertServable(rebuilt.runtime);
      Object.assign(ctx, rebuilt, { routing: routingPolicy(next, ctx.routing) });
      applyTimeouts(server, ctx.clientLimits);
      if (setUp()) void ctx.runtime.catalog();
      logger.info({ chatCompletions: ctx.endpoints.chatCompletions, responses: ctx.endpoints.responses }, "config reloaded");
      if (
        (next.gateway?.port ?? DEFAULT_GATEWAY_PORT) !== (config.gateway?.port ?? DEFAULT_GATEWAY_PORT) ||
        next.gateway?.bind !== config.gateway?.bind
      ) {
        logger.warn("gateway.port / gateway.bind changed: restart the gateway to listen there");
      }
    } catch (error) {
      logger.error({ err: (error as Error).message }, "config reload failed; the running config stays");
    }
  };
  const stopWatchingFiles = watchFiles([paths.configPath, paths.authProfilesPath], () => void reloadSettings());
  // A shared credential store tells of changes made on any machine (its own writes excepted).
  const stopWatchingCredentials = credentials.watch?.(() => void reloadSettings(true));
  const stopWatching = () => {
    stopWatchingFiles();
    stopWatchingCredentials?.();
  };
  setInterval(refresh, (config.models?.discoveryTtlSeconds ?? DEFAULT_DISCOVERY_TTL_SECONDS) * 1000).unref();

  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const backends = redis
    ? [`  shared state:  Redis ${redis.shownUrl} (limits, lockouts, cooldowns, caches, OAuth refresh lock; fail ${redis.failMode})`]
    : [];
  process.stderr.write(
    `${[...startBanner(ctx, secret, `http://${shownHost}:${actualPort}`, setUp(), postgres), ...backends].join("\n")}\n\n`,
  );

  // `openclaw gateway status` finds it through this record (no secret in it).
  const recorded = writeGatewayRecord(paths, {
    pid: process.pid,
    url: localUrl(host, actualPort),
    host,
    port: actualPort,
    version: VERSION,
    startedAt: new Date().toISOString(),
  }).catch((error: Error) => logger.warn({ err: error.message }, "could not record the gateway for `openclaw gateway status`"));
  // Listening and announced: now the route handlers (see loadRoutes).
  loadRoutes().catch((error: Error) => logger.error({ err: error.message }, "could not load the route handlers"));
  // Metrics and traces load after listening too, and only when on (prom-client, OpenTelemetry).
  ensureObserver(ctx).catch((error: Error) => logger.error({ err: error.message }, "could not start metrics or traces"));

  let stopping = false;
  let cut = false;
  const cutConnections = () => {
    if (cut) return;
    cut = true;
    logger.warn("cutting the remaining connections; their streams are recorded as aborted");
    server.closeAllConnections();
    websockets.cut();
  };
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      cutConnections();
      return;
    }
    stopping = true;
    stopWatching();
    keyIndex.close();
    logger.info({ signal, drainMs }, "shutting down: no new connections; in-flight requests may finish");
    server.close(() => {
      // The connections are gone, but the handlers of cut streams are still recording them:
      // wait for them (bounded), then close the store, which writes what is queued.
      // An OAuth refresh in flight carries the only live refresh token (Chutes rotates them): let it land.
      void Promise.all([settled(HANDLER_SETTLE_MS), ctx.runtime.settleRefreshes()])
        // Spans still queued leave now (the exporter's own time-out bounds it).
        .then(() => ctx.observer?.close())
        .then(() => store.close())
        .then(() => redis?.close())
        .then(() => recorded)
        .then(() => flushVerdictRecorders())
        .then(() => removeGatewayRecord(paths))
        .catch(() => undefined)
        .finally(() => logger.flush(() => process.exit(0)));
    });
    server.closeIdleConnections();
    // WebSockets close (1001) once their response in flight has ended.
    websockets.drain();
    // Idle keep-alive connections keep closing as their requests finish; past the deadline, cut the rest.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    idle.unref();
    setTimeout(cutConnections, drainMs).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** What a person starting the gateway needs to know: where, what it serves, with which models, and how to get in. */
function startBanner(
  ctx: GatewayContext,
  secret: { mode: string; origin: string; generated?: boolean },
  address: string,
  setUp: boolean,
  postgres?: PostgresBackends,
): string[] {
  const state = (on: boolean, key: string) => (on ? "on" : `off (enable: openclaw config set ${key} true, or --enable-endpoints)`);
  const providers = providersSetUp(ctx.runtime).map((id) => {
    const credential = ctx.runtime.credential(id);
    // `origin` names where it came from (a profile id, an env variable, a config path), never the secret.
    return credential ? `${id} (${credential.origin})` : `${id} (no credential needed)`;
  });
  let defaultModel: string;
  try {
    const chosen = ctx.runtime.defaultModel();
    const ref = chosen ? ctx.runtime.resolveRef(chosen).ref : undefined;
    defaultModel = chosen ? `${chosen}${ref && ref !== chosen ? ` → ${ref}` : ""}` : "(none: clients must name a model)";
  } catch (error) {
    defaultModel = `(invalid: ${(error as Error).message})`;
  }
  return [
    `OpenClaw gateway listening on ${address}`,
    `  providers:     ${providers.join(", ") || "none"}`,
    `  default model: ${defaultModel}`,
    `  POST /v1/chat/completions: ${state(ctx.endpoints.chatCompletions, "gateway.http.endpoints.chatCompletions.enabled")}`,
    `  POST /v1/responses:        ${state(ctx.endpoints.responses, "gateway.http.endpoints.responses.enabled")}`,
    "  GET /v1/models, POST /v1/embeddings: on",
    `  auth: bearer ${secret.mode} from ${secret.origin}${secret.generated ? " (generated now)" : ""}; print it with: openclaw gateway token`,
    ...(postgres ? [`  state:         ${postgres.describe()}${migrated(postgres)}`] : []),
    ...(setUp ? [] : ["  no provider credential yet: run `openclaw onboard` to add one (the gateway picks it up without a restart)"]),
  ];
}

const migrated = ({ migration }: PostgresBackends) =>
  migration.to > migration.from ? `; schema migrated v${migration.from} → v${migration.to}` : "";

export async function runGatewayToken(): Promise<void> {
  const { config, paths } = await loadConfig();
  const secret = await resolveGatewaySecret(config, await openCredentialStore(paths, config));
  if (secret.mode === "password")
    throw new InvalidRequestError("the gateway uses password mode (gateway.auth.mode): clients send that password as the bearer");
  process.stdout.write(`${secret.secret}\n`);
}
