import type { ToolCallDelta } from "../shared/wire.js";

/** What a terminal shows of a call is a summary: keep this much of each, however much streams in. */
const MAX_CALLS = 64;
const MAX_ARGUMENTS_CHARS = 16_384;

interface PendingCall {
  name: string;
  arguments: string;
  truncated: boolean;
}

/**
 * Tool calls arrive as deltas (a name, then the arguments in pieces, keyed by `index`); the chat
 * command prints them once the answer is complete, so an answer that only calls tools is not blank.
 */
export class ToolCallLines {
  private readonly calls = new Map<number, PendingCall>();

  add(deltas: ToolCallDelta[] | undefined): void {
    if (!Array.isArray(deltas)) return;
    for (const delta of deltas) {
      const index = typeof delta?.index === "number" ? delta.index : 0;
      let call = this.calls.get(index);
      if (!call) {
        if (this.calls.size >= MAX_CALLS) continue;
        call = { name: "", arguments: "", truncated: false };
        this.calls.set(index, call);
      }
      const name = delta.function?.name;
      if (typeof name === "string" && call.name.length < 256) call.name = (call.name + name).slice(0, 256);
      const piece = delta.function?.arguments;
      if (typeof piece === "string") {
        const room = MAX_ARGUMENTS_CHARS - call.arguments.length;
        if (piece.length > room) call.truncated = true;
        call.arguments += piece.slice(0, Math.max(0, room));
      }
    }
  }

  get size(): number {
    return this.calls.size;
  }

  /** `tool call: get_weather {"city":"Paris"}`, one line per call, in index order. */
  lines(): string[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => {
        const args = call.arguments.replace(/\s*\n\s*/g, " ").trim();
        return `tool call: ${call.name || "(unnamed)"} ${args || "{}"}${call.truncated ? " …" : ""}`;
      });
  }
}
