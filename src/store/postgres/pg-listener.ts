import type { Client } from "pg";
import { loadPg } from "./pg-pool.js";

type Handler = (payload: string) => void;

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * One connection that LISTENs on our channels for the whole process, reconnecting (with backoff)
 * when the server goes away. After a reconnect every handler is called once: a change made while
 * the connection was down sent a NOTIFY nobody heard.
 */
export class PgListener {
  private client: Client | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private closed = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;

  constructor(private readonly url: string) {}

  /** Call `handler` on each NOTIFY on `channel` (payload as sent); returns a stop function. */
  listen(channel: string, handler: Handler): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      if (this.client) this.client.query(`LISTEN ${channel}`).catch(() => undefined);
    }
    set.add(handler);
    void this.ensureConnected();
    return () => {
      set.delete(handler);
    };
  }

  private ensureConnected(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const pg = await loadPg();
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 3_000 });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.retry();
    };
    client.on("error", lost);
    client.on("end", lost);
    client.on("notification", (message) => {
      for (const handler of this.handlers.get(message.channel) ?? []) handler(message.payload ?? "");
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    } catch {
      client.end().catch(() => undefined);
      this.retry();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasRetrying = this.reconnectMs !== RECONNECT_MIN_MS;
    this.client = client;
    this.reconnectMs = RECONNECT_MIN_MS;
    // Missed while down: let everyone re-read.
    if (wasRetrying) for (const set of this.handlers.values()) for (const handler of set) handler("");
  }

  private retry(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.ensureConnected(), this.reconnectMs);
    this.timer.unref();
    this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
