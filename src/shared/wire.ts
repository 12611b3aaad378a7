/**
 * OpenAI wire shapes, typed only as far as we read them. Everything else a client sends is
 * carried through untouched (`[field: string]: unknown`), never silently dropped.
 */
export interface ChatMessage {
  role: string;
  content?: unknown;
  [field: string]: unknown;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [field: string]: unknown } | null;
  [field: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{ index: number; message: ChatMessage; finish_reason: string | null; [field: string]: unknown }>;
  usage?: Usage | null;
  [field: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

export interface ChatDelta {
  role?: string | null;
  content?: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCallDelta[];
  [field: string]: unknown;
}

export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{ index: number; delta: ChatDelta; finish_reason: string | null; [field: string]: unknown }>;
  usage?: Usage | null;
  [field: string]: unknown;
}

export interface ModelListEntry {
  id: string;
  object?: string;
  [field: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: "float" | "base64";
  dimensions?: number;
  [field: string]: unknown;
}

export interface EmbeddingsResponse {
  object: "list";
  data: Array<{ object: "embedding"; index: number; embedding: number[] | string }>;
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number };
}

/** What a served answer proves about where it was computed (an attested enclave), for the caller to pass on. */
export interface AttestationReceipt {
  /** The serving instance. */
  instanceId: string;
  /** SHA-256 (hex) of the hardware quote that was verified for it. */
  quoteSha256: string;
  tcbStatus: string;
  /** Epoch ms of that verification. */
  verifiedAt: number;
  /** What was attested, in the provider's terms (Chutes: the chute). */
  target: string;
}
