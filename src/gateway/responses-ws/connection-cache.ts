import type { Conversation } from "../responses/run-response.js";

/** Most responses one connection remembers for `previous_response_id`, whatever their size. */
export const MAX_CACHED_RESPONSES = 16;

interface Cached extends Conversation {
  bytes: number;
}

/**
 * The connection's own memory of its recent responses, so a turn continues with `store: false`
 * (OpenAI's connection-local cache). Bounded in count and in bytes (the conversations' JSON
 * size); the oldest go first, and the newest is always kept so that a loop can continue.
 */
export class ConnectionCache {
  private readonly entries = new Map<string, Cached>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries = MAX_CACHED_RESPONSES,
  ) {}

  get(id: string): Conversation | undefined {
    return this.entries.get(id);
  }

  put(id: string, conversation: Conversation): void {
    // The conversation's size was bounded when it was built (gateway.http.maxBodyBytes); one
    // serialisation per turn is what the HTTP path spends storing it.
    const bytes = JSON.stringify(conversation.history).length + JSON.stringify(conversation.output).length;
    this.entries.set(id, { ...conversation, bytes });
    this.bytes += bytes;
    while (this.entries.size > 1 && (this.entries.size > this.maxEntries || this.bytes > this.maxBytes)) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Cached];
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  /** For diagnostics and tests: how much is held. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}
