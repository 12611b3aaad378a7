import { exceedsJsonDepth } from "../../../../shared/json-depth.js";
import { DEFAULT_MAX_EVENT_CHARS, SseDecoder, SseEventTooLargeError } from "../../../openai-compatible/sse-decoder.js";
import {
  decapsulate,
  decodeBase64Strict,
  deriveKey,
  INFO_STREAM,
  MLKEM_CIPHERTEXT_BYTES,
  NONCE_BYTES,
  open,
  type ResponseKey,
} from "./e2ee-crypto.js";
import { E2eeError } from "./e2ee-error.js";

/**
 * Chunks one stream may carry (far above the longest generation, a chunk per token); each one's
 * nonce is remembered to refuse a replayed chunk, so this also bounds that memory (~12 MiB).
 */
export const DEFAULT_MAX_STREAM_CHUNKS = 262_144;
/** The protocol's own events nest two levels (`{"usage":{"prompt_tokens_details":{}}}`). */
const MAX_ENVELOPE_DEPTH = 8;
const MAX_ERROR_TEXT = 300;
const DONE = /^data: ?\[DONE\]\s*$/m;

export interface StreamDecryptorOptions {
  /** Bound on one encrypted SSE line/event (and so on one decrypted fragment). */
  maxEventChars?: number;
  maxChunks?: number;
}

function errorText(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the relay's text goes into one log line
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, " ");
  return line.length > MAX_ERROR_TEXT ? `${line.slice(0, MAX_ERROR_TEXT)}…` : line;
}

/**
 * Turns Chutes' encrypted SSE stream (`{"e2e_init"}`, then `{"e2e"}` chunks, plaintext
 * `{"usage"}` for the relay's billing, `{"e2e_error"}`) back into the model server's own SSE text,
 * for the ordinary OpenAI stream parser. Each chunk is opened under the stream key from
 * `e2e_init`; anything that is not the protocol, or does not authenticate, throws an `E2eeError`
 * and nothing of it is passed on.
 *
 * The protocol seals each chunk alone (no sequence number): a relay can drop or reorder chunks
 * undetected. A replayed chunk is refused (its nonce was seen), and `complete` tells whether the
 * encrypted `[DONE]` arrived, so truncation is visible.
 */
export class E2eeStreamDecryptor {
  private readonly outer: SseDecoder;
  private readonly text = new TextDecoder("utf-8", { fatal: true });
  private readonly seenNonces = new Set<string>();
  private readonly maxChunks: number;
  private key: Uint8Array | undefined;
  /** The encrypted `data: [DONE]` arrived: the instance ended the stream itself. */
  complete = false;
  /** The last plaintext `usage` the relay was sent (unauthenticated; the encrypted chunks carry their own). */
  relayUsage: unknown;

  constructor(
    private readonly responseKey: ResponseKey,
    options: StreamDecryptorOptions = {},
  ) {
    this.outer = new SseDecoder(options.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS);
    this.maxChunks = options.maxChunks ?? DEFAULT_MAX_STREAM_CHUNKS;
  }

  /** Encrypted bytes in (split anywhere); the plaintext SSE text they complete out (maybe ""). */
  push(bytes: Uint8Array | string): string {
    return this.decryptEvents(() => this.outer.push(bytes));
  }

  /** The upstream ended: flush, and refuse a stream that never began. */
  end(): string {
    const out = this.decryptEvents(() => this.outer.end());
    if (!this.key) throw new E2eeError("the E2EE stream ended before its `e2e_init` event", "e2ee_protocol");
    try {
      return out + this.text.decode();
    } catch (error) {
      throw new E2eeError("the E2EE stream ended inside a UTF-8 character", "e2ee_protocol", error);
    }
  }

  private decryptEvents(read: () => ReturnType<SseDecoder["push"]>): string {
    let events: ReturnType<SseDecoder["push"]>;
    try {
      events = read();
    } catch (error) {
      if (error instanceof SseEventTooLargeError)
        throw new E2eeError(`an E2EE stream event exceeded ${error.limit} characters`, "e2ee_too_large", error);
      throw error;
    }
    let out = "";
    for (const event of events) out += this.decryptEvent(event.data);
    return out;
  }

  private decryptEvent(data: string): string {
    // A plaintext [DONE] is the relay's word, not the instance's: the encrypted one counts.
    if (data === "" || data === "[DONE]") return "";
    let envelope: unknown;
    if (!exceedsJsonDepth(data, MAX_ENVELOPE_DEPTH)) {
      try {
        envelope = JSON.parse(data);
      } catch {
        envelope = undefined;
      }
    }
    if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
      throw new E2eeError("the E2EE stream carried an event that is not part of the protocol", "e2ee_protocol");
    }
    const fields = envelope as Record<string, unknown>;
    if (typeof fields.e2e === "string") return this.openChunk(fields.e2e);
    if (typeof fields.e2e_init === "string") {
      this.init(fields.e2e_init);
      return "";
    }
    if ("e2e_error" in fields)
      throw new E2eeError(`the E2EE stream reported an error: ${errorText(fields.e2e_error)}`, "e2ee_upstream_error");
    // The relay's own error (FastAPI `detail`, OpenAI `error`), sent in clear: an error, never content.
    if ("detail" in fields || "error" in fields) {
      throw new E2eeError(`the relay reported an error mid-stream: ${errorText(fields.detail ?? fields.error)}`, "e2ee_upstream_error");
    }
    if ("usage" in fields && Object.keys(fields).length === 1) {
      this.relayUsage = fields.usage;
      return "";
    }
    throw new E2eeError("the E2EE stream carried an event that is not part of the protocol", "e2ee_protocol");
  }

  private init(kemCiphertextB64: string): void {
    if (this.key) throw new E2eeError("the E2EE stream sent a second `e2e_init`", "e2ee_protocol");
    const kemCiphertext = decodeBase64Strict(kemCiphertextB64, "the stream's `e2e_init`");
    if (kemCiphertext.length !== MLKEM_CIPHERTEXT_BYTES) {
      throw new E2eeError(`the stream's \`e2e_init\` has ${kemCiphertext.length} bytes, not ${MLKEM_CIPHERTEXT_BYTES}`, "e2ee_protocol");
    }
    this.key = deriveKey(decapsulate(kemCiphertext, this.responseKey), kemCiphertext, INFO_STREAM);
  }

  private openChunk(chunkB64: string): string {
    if (!this.key) throw new E2eeError("the E2EE stream sent an encrypted chunk before `e2e_init`", "e2ee_protocol");
    const box = decodeBase64Strict(chunkB64, "an E2EE stream chunk");
    const nonce = Buffer.from(box.buffer, box.byteOffset, Math.min(NONCE_BYTES, box.length)).toString("latin1");
    if (this.seenNonces.has(nonce)) throw new E2eeError("the E2EE stream repeated a chunk", "e2ee_protocol");
    if (this.seenNonces.size >= this.maxChunks) throw new E2eeError(`the E2EE stream exceeded ${this.maxChunks} chunks`, "e2ee_too_large");
    const plaintext = open(this.key, box, "an E2EE stream chunk");
    this.seenNonces.add(nonce);
    let fragment: string;
    try {
      fragment = this.text.decode(plaintext, { stream: true });
    } catch (error) {
      throw new E2eeError("a decrypted stream chunk is not UTF-8", "e2ee_protocol", error);
    }
    if (!this.complete && fragment.includes("[DONE]") && DONE.test(fragment)) this.complete = true;
    return fragment;
  }
}

/**
 * An encrypted SSE body as plaintext SSE text, for code that consumes async iterables. Stopping
 * early returns the source iterator too (for an undici body, that aborts the request).
 */
export async function* decryptSseStream(
  source: AsyncIterable<Uint8Array>,
  responseKey: ResponseKey,
  options: StreamDecryptorOptions = {},
): AsyncGenerator<string, void, undefined> {
  const decryptor = new E2eeStreamDecryptor(responseKey, options);
  for await (const bytes of source) {
    const text = decryptor.push(bytes);
    if (text) yield text;
  }
  const tail = decryptor.end();
  if (tail) yield tail;
}
