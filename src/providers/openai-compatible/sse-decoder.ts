import { StringDecoder } from "node:string_decoder";

/**
 * Incremental Server-Sent Events decoding: bytes in (split anywhere, even mid-line or
 * mid-UTF-8 character), events out. Handles `\n`, `\r\n` and `\r`, `:` comments, multi-line
 * `data:`, and a last event without a trailing blank line.
 */
export interface SseEvent {
  event: string | undefined;
  data: string;
  id: string | undefined;
}

/** An SSE line or event longer than the decoder's limit: the upstream is not sending events. */
export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`an SSE event exceeded ${limit} characters`);
    this.name = "SseEventTooLargeError";
  }
}

/** Default cap on one line, and on one event's data: far above any real chunk. */
export const DEFAULT_MAX_EVENT_CHARS = 1024 * 1024;

export class SseDecoder {
  private readonly text = new StringDecoder("utf8");
  /**
   * Text after the last line break, kept in pieces: a line that trickles in a few bytes at a
   * time is joined once, when its break arrives, never re-copied on every push.
   */
  private pending: string[] = [];
  private pendingChars = 0;
  private started = false;
  private data: string[] = [];
  private dataChars = 0;
  private event: string | undefined;
  private id: string | undefined;

  constructor(private readonly maxEventChars = DEFAULT_MAX_EVENT_CHARS) {}

  /** Feed bytes; returns the events completed by them. Throws `SseEventTooLargeError` past the cap. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let incoming = typeof chunk === "string" ? chunk : this.text.write(chunk as Buffer);
    if (!this.started && incoming) {
      this.started = true;
      // A leading UTF-8 byte-order mark is not part of the first field name.
      if (incoming.charCodeAt(0) === 0xfeff) incoming = incoming.slice(1);
    }
    if (!incoming) return [];
    if (incoming.indexOf("\n") < 0 && incoming.indexOf("\r") < 0) {
      this.keep(incoming);
      return [];
    }
    const buffer = this.pending.length ? this.pending.join("") + incoming : incoming;
    this.pending = [];
    this.pendingChars = 0;
    const events: SseEvent[] = [];
    let start = 0;
    if (!buffer.includes("\r")) {
      // The common case: "\n" line endings only, found with indexOf rather than char by char.
      for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n", start)) {
        this.line(buffer.slice(start, end), events);
        start = end + 1;
      }
    } else {
      for (let i = 0; i < buffer.length; i++) {
        const char = buffer.charCodeAt(i);
        if (char !== 10 && char !== 13) continue;
        // A lone "\r" at the end may be the first half of "\r\n": wait for more.
        if (char === 13 && i === buffer.length - 1) break;
        this.line(buffer.slice(start, i), events);
        if (char === 13 && buffer.charCodeAt(i + 1) === 10) i++;
        start = i + 1;
      }
    }
    if (start < buffer.length) this.keep(start === 0 ? buffer : buffer.slice(start));
    return events;
  }

  private keep(text: string): void {
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
  }

  /** End of stream: flush a final line and event that had no line break or blank line after them. */
  end(): SseEvent[] {
    // A last "\n" ends the last line ("\r" + "\n" stays one break); the blank line ends its event.
    const events = this.push(`${this.text.end()}\n`);
    this.line("", events);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0 || this.event !== undefined) {
        events.push({ event: this.event, data: this.data.join("\n"), id: this.id });
      }
      this.data = [];
      this.dataChars = 0;
      this.event = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ":" comment / keep-alive
    if (line.charCodeAt(0) === 123) {
      // A bare JSON line without "data:" (some servers emit their error object this way
      // once streaming has started): deliver it as an event of its own rather than drop it.
      events.push({ event: undefined, data: line, id: undefined });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") {
      // Each line counts, empty ones too (they add a "\n"): a stream of bare `data:` lines is capped.
      this.dataChars += value.length + 1;
      if (this.dataChars > this.maxEventChars) throw new SseEventTooLargeError(this.maxEventChars);
      this.data.push(value);
    } else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}
