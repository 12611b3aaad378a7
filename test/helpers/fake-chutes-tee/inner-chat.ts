/**
 * The model server inside a fake instance: what `/v1/chat/completions` would answer, before the
 * instance encrypts it. Tests swap it for their own.
 */
export interface InnerRequest {
  path: string;
  body: Record<string, unknown>;
}

export type InnerAnswer =
  /** A non-streamed JSON answer. */
  | { json: unknown; status?: number }
  /** A streamed answer: each item is one SSE fragment as the model server wrote it (`data: {...}\n\n`). */
  | { fragments: string[] };

export type InnerHandler = (request: InnerRequest) => InnerAnswer | Promise<InnerAnswer>;

export const ENCLAVE_REPLY = "hello from the enclave";
export const INNER_USAGE = { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 };

/** A plain OpenAI chat answer, streamed when the request asks (with a usage chunk and `[DONE]`). */
export const plainChatHandler: InnerHandler = ({ body }) => {
  const model = typeof body.model === "string" ? body.model : "fake-tee-model";
  const base = { id: "chatcmpl-tee", created: 1_785_077_000, model };
  if (body.stream !== true) {
    return {
      json: {
        ...base,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: ENCLAVE_REPLY }, finish_reason: "stop" }],
        usage: INNER_USAGE,
      },
    };
  }
  const chunk = (extra: Record<string, unknown>) => `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", ...extra })}\n\n`;
  const words = ENCLAVE_REPLY.split(" ");
  return {
    fragments: [
      chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
      ...words.map((word, i) => chunk({ choices: [{ index: 0, delta: { content: i === 0 ? word : ` ${word}` }, finish_reason: null }] })),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
      chunk({ choices: [], usage: INNER_USAGE }),
      "data: [DONE]\n\n",
    ],
  };
};
