import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type WebSocket from "ws";
import type { WebSocketServer } from "ws";
import { InvalidRequestError, NotFoundError, OpenClawError, RateLimitError } from "../../shared/errors.js";
import type { GatewayContext } from "../context.js";
import type { Caller } from "../key-guard.js";
import { errorEvent } from "./client-events.js";
import type { ConnectionSettings, ResponsesConnection } from "./connection.js";
import { adoptProtocolToken, checkOrigin, credentialKey, refuseUpgrade, selectProtocol } from "./handshake.js";

/**
 * One gateway token is usually one person's or one app's: a few agent loops in parallel, each
 * holding at most gateway.http.maxBodyBytes of cached conversation.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_CREDENTIAL = 32;
/** OpenAI's own limit for a Responses WebSocket. */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 60 * 60 * 1000;
export const DEFAULT_PING_INTERVAL_MS = 30_000;

const PATH = "/v1/responses";

/** `ws` and the connection code (the whole responses pipeline) load on the first upgrade, not at start-up. */
type Loaded = { wss: WebSocketServer; connection: typeof import("./connection.js") };
let loading: Promise<{ ws: typeof import("ws"); connection: Loaded["connection"] }> | undefined;
const loadWebSocketCode = () => {
  loading ??= Promise.all([import("ws"), import("./connection.js")]).then(([ws, connection]) => ({ ws, connection }));
  return loading;
};

function settingsOf(ctx: GatewayContext): ConnectionSettings & { maxPerCredential: number } {
  const websocket = ctx.runtime.config.gateway?.http?.websocket;
  return {
    maxPerCredential: websocket?.maxConnectionsPerCredential ?? DEFAULT_MAX_CONNECTIONS_PER_CREDENTIAL,
    maxAgeMs: websocket?.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS,
    pingIntervalMs: websocket?.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
  };
}

export interface ResponsesWebSockets {
  /** Shutdown began: idle sockets close now (1001), busy ones after their response. */
  drain(): void;
  /** The drain deadline passed: stop what is in flight and close everything. */
  cut(): void;
}

export const connectionLimitReached = (max: number) =>
  new RateLimitError(
    `this credential already has ${max} open WebSocket connections (gateway.http.websocket.maxConnectionsPerCredential): close one, or use HTTP`,
    { code: "websocket_connection_limit_reached" },
  );

/**
 * `GET /v1/responses` with `Upgrade: websocket` on the gateway's one port. Everything that can
 * refuse (connection limit per client, path, origin, auth with its lockout, the endpoint switch)
 * answers with an HTTP error before the upgrade completes, so a refused client never sees `open`.
 * Only the `upgrade` event is listened to: plain HTTP requests pay nothing for this.
 */
export function attachResponsesWebSocket(
  server: Server,
  ctx: GatewayContext,
  options: { isRefused: (socket: Socket) => boolean; track: (work: Promise<void>) => void },
): ResponsesWebSockets {
  let loaded: Loaded | undefined;
  const open = new Set<ResponsesConnection>();
  const perCredential = new Map<string, number>();
  let draining = false;

  /** Every refusal as an error; the caller (an API key, or null for the gateway token) when admitted. */
  const admit = (request: IncomingMessage): Caller => {
    const path = (request.url ?? "/").split("?")[0];
    if (options.isRefused(request.socket))
      throw new RateLimitError("too many open connections from this client (gateway.http.maxConnectionsPerClient)", {
        retryAfterSeconds: 1,
        code: "too_many_connections",
      });
    if (path !== PATH) throw new NotFoundError(`no WebSocket endpoint at ${path?.slice(0, 256)}; use ${PATH}`, { code: "unknown_url" });
    if ((request.headers.upgrade ?? "").toLowerCase() !== "websocket")
      throw new InvalidRequestError(`${PATH} upgrades only to websocket`, { code: "unsupported_upgrade" });
    if (draining) throw new OpenClawError("the gateway is shutting down", { status: 503, type: "server_error", code: "shutting_down" });
    checkOrigin(ctx, request);
    adoptProtocolToken(request);
    const caller = ctx.auth.check(request);
    if (!ctx.endpoints.responses) {
      const key = "gateway.http.endpoints.responses.enabled";
      throw new NotFoundError(`${PATH} is disabled: set ${key} to true (openclaw config set ${key} true)`, { code: "endpoint_disabled" });
    }
    return caller;
  };

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    let caller: Caller;
    try {
      caller = admit(request);
    } catch (error) {
      refuseUpgrade(socket, error);
      return;
    }
    if (!loaded) {
      loadWebSocketCode().then(
        ({ ws, connection }) => {
          loaded ??= {
            wss: new ws.WebSocketServer({ noServer: true, clientTracking: false, handleProtocols: selectProtocol }),
            connection,
          };
          upgrade(loaded, request, socket, head, caller);
        },
        (error: Error) => refuseUpgrade(socket, new OpenClawError(`WebSocket support failed to load: ${error.message}`, { status: 500 })),
      );
      return;
    }
    upgrade(loaded, request, socket, head, caller);
  });

  const upgrade = ({ wss, connection: code }: Loaded, request: IncomingMessage, socket: Duplex, head: Buffer, caller: Caller) => {
    const settings = settingsOf(ctx);
    const credential = credentialKey(request);
    // The bound is per message, as a POST body's: a response.create is that body.
    wss.options.maxPayload = ctx.maxBodyBytes;
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      const count = (perCredential.get(credential) ?? 0) + 1;
      if (count > settings.maxPerCredential) {
        ws.send(JSON.stringify(errorEvent(connectionLimitReached(settings.maxPerCredential))));
        ws.close(1013, "connection limit reached for this credential");
        return;
      }
      perCredential.set(credential, count);
      const connection = new code.ResponsesConnection(ctx, ws, request, settings, options.track, caller);
      open.add(connection);
      ws.once("close", () => {
        open.delete(connection);
        const left = (perCredential.get(credential) ?? 1) - 1;
        if (left > 0) perCredential.set(credential, left);
        else perCredential.delete(credential);
      });
      if (draining) connection.closeWhenIdle(code.CLOSE_SHUTDOWN);
    });
  };

  return {
    drain() {
      draining = true;
      // No code loaded means no connection was ever opened.
      if (loaded) for (const connection of open) connection.closeWhenIdle(loaded.connection.CLOSE_SHUTDOWN);
    },
    cut() {
      draining = true;
      for (const connection of open) connection.cut();
    },
  };
}
