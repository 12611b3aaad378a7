import { UpstreamError } from "../../shared/errors.js";
import type { ChatChunk, Usage } from "../../shared/wire.js";
import { completeResponse, newId, type OutputItem, type ResponseObject } from "./response-object.js";

type Emit = (event: string, payload: Record<string, unknown>) => Promise<void>;

interface OpenText {
  index: number;
  id: string;
  text: string;
}

interface OpenCall {
  index: number;
  id: string;
  callId: string;
  name: string;
  arguments: string;
}

/**
 * Chat chunks in, Responses API events out, in the spec's order: created, in_progress, then per
 * output item added → deltas → done, then exactly one of completed / incomplete / failed. Every
 * event carries a rising `sequence_number`.
 */
/** The most text (all output items together) one streamed response may hold. */
export const MAX_OUTPUT_CHARS = 4_000_000;

export class ResponseStreamTranslator {
  private sequence = 0;
  private readonly items: OutputItem[] = [];
  private text: OpenText | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: string | null = null;
  private usage: Usage | null = null;
  private ended = false;
  private outputChars = 0;

  constructor(
    private readonly emit: Emit,
    private response: ResponseObject,
  ) {}

  private send(type: string, fields: Record<string, unknown>, after?: Record<string, unknown>): Promise<void> {
    return this.emit(type, { type, ...fields, sequence_number: this.sequence++, ...after });
  }

  async start(): Promise<void> {
    await this.send("response.created", { response: this.response });
    await this.send("response.in_progress", { response: this.response });
  }

  async push(chunk: ChatChunk): Promise<void> {
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) return;
    const delta = choice.delta ?? {};
    if (typeof delta.content === "string" && delta.content) await this.textDelta(delta.content);
    for (const call of delta.tool_calls ?? [])
      await this.callDelta(call.index ?? 0, call.id, call.function?.name, call.function?.arguments);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /**
   * A Responses answer repeats its whole text (`output_text.done`, the final response, the stored
   * copy), so it is bounded: past the cap the response fails rather than grow without end.
   */
  private count(chars: number): void {
    this.outputChars += chars;
    if (this.outputChars > MAX_OUTPUT_CHARS) {
      throw new UpstreamError(
        `the answer is longer than ${MAX_OUTPUT_CHARS} characters, the most a response keeps; use /v1/chat/completions for longer output`,
        { status: 502, code: "output_too_large" },
      );
    }
  }

  private async textDelta(delta: string): Promise<void> {
    if (!this.text) {
      this.text = { index: this.items.length, id: newId("msg"), text: "" };
      this.items.push({ type: "message", id: this.text.id, status: "in_progress", role: "assistant", content: [] });
      await this.send("response.output_item.added", { output_index: this.text.index, item: this.items[this.text.index] });
      await this.send("response.content_part.added", {
        item_id: this.text.id,
        output_index: this.text.index,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      });
    }
    this.count(delta.length);
    this.text.text += delta;
    await this.send(
      "response.output_text.delta",
      { item_id: this.text.id, output_index: this.text.index, content_index: 0, delta },
      { logprobs: [] },
    );
  }

  private async callDelta(
    chatIndex: number,
    callId: string | undefined,
    name: string | undefined,
    args: string | undefined,
  ): Promise<void> {
    let call = this.calls.get(chatIndex);
    if (!call) {
      await this.closeText();
      call = {
        index: this.items.length,
        id: newId("fc"),
        callId: (callId ?? newId("fc")).slice(0, 256),
        name: (name ?? "").slice(0, 256),
        arguments: "",
      };
      this.calls.set(chatIndex, call);
      const item: OutputItem = {
        type: "function_call",
        id: call.id,
        call_id: call.callId,
        name: call.name,
        arguments: "",
        status: "in_progress",
      };
      this.items.push(item);
      await this.send("response.output_item.added", { output_index: call.index, item });
    } else if (name && !call.name) call.name = name.slice(0, 256);
    if (args) {
      this.count(args.length);
      call.arguments += args;
      await this.send("response.function_call_arguments.delta", { item_id: call.id, output_index: call.index, delta: args });
    }
  }

  private async closeText(): Promise<void> {
    const open = this.text;
    if (!open) return;
    this.text = undefined;
    const part = { type: "output_text" as const, text: open.text, annotations: [] };
    const item: OutputItem = { type: "message", id: open.id, status: "completed", role: "assistant", content: [part] };
    this.items[open.index] = item;
    await this.send(
      "response.output_text.done",
      { item_id: open.id, output_index: open.index, content_index: 0, text: open.text },
      { logprobs: [] },
    );
    await this.send("response.content_part.done", { item_id: open.id, output_index: open.index, content_index: 0, part });
    await this.send("response.output_item.done", { output_index: open.index, item });
  }

  private async closeCalls(): Promise<void> {
    for (const call of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      const item: OutputItem = {
        type: "function_call",
        id: call.id,
        call_id: call.callId,
        name: call.name,
        arguments: call.arguments,
        status: "completed",
      };
      this.items[call.index] = item;
      await this.send("response.function_call_arguments.done", {
        item_id: call.id,
        output_index: call.index,
        name: call.name,
        arguments: call.arguments,
      });
      await this.send("response.output_item.done", { output_index: call.index, item });
    }
    this.calls.clear();
  }

  /**
   * The upstream finished: close what is open, then `completed` (or `incomplete` when cut short).
   * `beforeEnd` sees the final response before the client is told it ended (storing it); when it
   * throws, nothing final is sent and the caller may still `fail()`.
   */
  async finish(beforeEnd?: (response: ResponseObject) => void | Promise<void>): Promise<ResponseObject> {
    await this.closeText();
    await this.closeCalls();
    this.response = completeResponse(this.response, [...this.items], this.usage, this.finishReason);
    await beforeEnd?.(this.response);
    this.ended = true;
    await this.send(this.response.status === "incomplete" ? "response.incomplete" : "response.completed", { response: this.response });
    return this.response;
  }

  /** The upstream failed mid-stream: one `failed` event, never followed by `completed`. */
  async fail(error: { code: string; message: string }): Promise<ResponseObject> {
    if (this.ended) return this.response;
    this.ended = true;
    this.response = { ...this.response, status: "failed", error, output: this.items.filter((item) => item.status === "completed") };
    await this.send("response.failed", { response: this.response });
    return this.response;
  }
}
