import WebSocket, { type ClientOptions } from "ws";
import { GATEWAY_TOKEN } from "./gateway.js";
import { waitUntil } from "./wait.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON events, inspected by assertions
export type WsEvent = Record<string, any>;

export interface WsClient {
  ws: WebSocket;
  /** Every event received, in order. */
  events: WsEvent[];
  closed: Promise<{ code: number; reason: string }>;
  send(event: unknown): void;
  /** Events from index `from` up to and including the first one `until` accepts. */
  collect(from: number, until: (event: WsEvent) => boolean): Promise<WsEvent[]>;
  /** One response.create: its events up to the terminal one (or an `error`). */
  create(body: Record<string, unknown>): Promise<WsEvent[]>;
}

export const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed", "error"]);

/** The gateway's ws:// address for the Responses WebSocket. */
export const wsUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, "ws")}/v1/responses`;

/** The outcome of an upgrade attempt: open, or the HTTP answer that refused it. */
export function tryConnect(
  url: string,
  options: ClientOptions & { protocols?: string[] } = {},
): Promise<
  | { ws: WebSocket; events: WsEvent[]; closed: Promise<{ code: number; reason: string }>; opened: true }
  | { opened: false; status: number; body: string; headers: Record<string, unknown> }
> {
  const { protocols, ...rest } = options;
  const ws = new WebSocket(url, protocols ?? [], rest);
  // Recorded from the start: a frame can arrive in the same read as the 101, before `open` resolves.
  const events: WsEvent[] = [];
  ws.on("message", (data: Buffer) => events.push(JSON.parse(data.toString("utf8"))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })),
  );
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve({ ws, events, closed, opened: true }));
    ws.once("unexpected-response", (_request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (text: string) => {
        body += text;
      });
      response.on("end", () => resolve({ opened: false, status: response.statusCode ?? 0, body, headers: response.headers }));
    });
    ws.once("error", (error) => reject(error));
  });
}

/** A connected client that records every event. */
export async function connectWs(
  httpUrl: string,
  options: ClientOptions & { protocols?: string[]; token?: string } = {},
): Promise<WsClient> {
  const { token, headers, ...rest } = options;
  const attempt = await tryConnect(wsUrl(httpUrl), {
    ...rest,
    headers: { authorization: `Bearer ${token ?? GATEWAY_TOKEN}`, ...headers },
  });
  if (!attempt.opened) throw new Error(`upgrade refused: ${attempt.status} ${attempt.body}`);
  const { ws, events, closed } = attempt;
  const collect = async (from: number, until: (event: WsEvent) => boolean) => {
    const end = await waitUntil(
      () => {
        const index = events.findIndex((event, i) => i >= from && until(event));
        return index >= 0 ? index + 1 : 0;
      },
      { what: "an event" },
    );
    return events.slice(from, end);
  };
  return {
    ws,
    events,
    closed,
    send: (event) => ws.send(JSON.stringify(event)),
    collect,
    async create(body) {
      const from = events.length;
      ws.send(JSON.stringify({ type: "response.create", ...body }));
      return collect(from, (event) => TERMINAL.has(event.type));
    },
  };
}
