import { InvalidRequestError, UpstreamError } from "../../shared/errors.js";
import type { EmbeddingsRequest, EmbeddingsResponse } from "../../shared/wire.js";
import type { CallOptions, ProviderHttpClient } from "../provider.js";

const isNumbers = (value: unknown): value is number[] => Array.isArray(value) && value.every((item) => typeof item === "number");

/** One text's answer → one vector: a sentence vector as is, token vectors mean-pooled. */
function toVector(value: unknown): number[] {
  if (isNumbers(value)) return value;
  if (Array.isArray(value) && value.length > 0 && value.every(isNumbers)) {
    const rows = value as number[][];
    const width = rows[0]?.length ?? 0;
    const mean = new Array<number>(width).fill(0);
    for (const row of rows) for (let i = 0; i < width; i++) mean[i] = (mean[i] as number) + (row[i] ?? 0) / rows.length;
    return mean;
  }
  throw new UpstreamError("huggingface feature extraction answered with something that is not a vector", {
    status: 502,
    code: "upstream_bad_response",
  });
}

/**
 * Hugging Face's router has no `/v1/embeddings`: embeddings come from the hf-inference
 * feature-extraction pipeline (`{ inputs }` in, bare arrays out), translated to the OpenAI shape.
 */
export async function featureExtraction(
  client: ProviderHttpClient,
  base: string,
  request: EmbeddingsRequest,
  options: CallOptions,
): Promise<EmbeddingsResponse> {
  const { input } = request;
  const texts = typeof input === "string" ? [input] : input;
  if (!Array.isArray(texts) || !texts.every((text) => typeof text === "string")) {
    throw new InvalidRequestError("huggingface feature extraction takes text (a string or a list of strings), not token arrays", {
      param: "input",
    });
  }
  if (request.dimensions !== undefined)
    throw new InvalidRequestError("huggingface feature extraction does not support dimensions", { param: "dimensions" });
  // The model id becomes path segments: each is encoded, and an id with `.`/`..` segments or other
  // characters never gets this far (model-ref.ts), so the token cannot be sent to another path.
  const segments = request.model.split("/");
  if (segments.some((segment) => !segment || segment === "." || segment === ".."))
    throw new InvalidRequestError(`invalid model id ${JSON.stringify(request.model)}`, { code: "invalid_model", param: "model" });
  const url = `${base.replace(/\/+$/, "")}/${segments.map(encodeURIComponent).join("/")}/pipeline/feature-extraction`;
  const answer = await client.json<unknown>("POST", url, { inputs: typeof input === "string" ? input : texts }, options);
  const vectors = typeof input === "string" ? [toVector(answer)] : Array.isArray(answer) ? answer.map(toVector) : [];
  if (vectors.length !== texts.length) {
    throw new UpstreamError(`huggingface returned ${vectors.length} vectors for ${texts.length} inputs`, {
      status: 502,
      code: "upstream_bad_response",
    });
  }
  return {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
    model: request.model,
    // The pipeline does not report token counts.
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

/** `https://router.huggingface.co/v1` → `https://router.huggingface.co/hf-inference/models`. */
export function defaultFeatureExtractionBase(routerBaseUrl: string): string {
  return `${new URL(routerBaseUrl).origin}/hf-inference/models`;
}
