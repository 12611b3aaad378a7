import type { ModelRuntime } from "../models/model-runtime.js";
import { UpstreamError } from "../shared/errors.js";
import { redactSecret } from "../shared/redact.js";

/** An upstream that echoes our request may quote the key: never print it, whatever the provider layer did. */
function scrub(text: string, secret: string | undefined): string {
  return secret && secret.length >= 8 ? text.split(secret).join(redactSecret(secret)) : text;
}

/** Turn an upstream failure into one line that says what to do about it. */
export function explainUpstreamError(error: unknown, runtime: ModelRuntime): unknown {
  if (!(error instanceof UpstreamError) || error.upstreamStatus === undefined) return error;
  const model = error.modelRef ?? "the model";
  const provider = model.includes("/") ? model.slice(0, model.indexOf("/")) : "the provider";
  const credential = runtime.credential(provider);
  const because = scrub(error.message.replace(/^\S+ returned /, ""), credential?.secret);
  let hint: string;
  switch (error.upstreamStatus) {
    case 401:
    case 403:
      hint = `${provider} rejected the credential${credential ? ` from ${credential.source} ${credential.origin} (${credential.redacted})` : ""} (${because}): check it, or store a new one with \`openclaw models auth paste-token --provider ${provider}\``;
      break;
    case 402:
      hint = `${provider} says payment is required (${because}): your balance or quota is used up; add credit to your account, or pick a model from another provider`;
      break;
    case 404:
      hint = `${provider} does not serve ${model} (${because}): see \`openclaw models list --provider ${provider} --refresh\``;
      break;
    case 429:
      hint = `${provider} is rate-limiting requests (${because}): wait a moment, or configure agents.defaults.model.fallbacks`;
      break;
    case 503:
      hint = `${provider} has no instances available for ${model} right now (${because}): try again shortly, pick another model, or configure agents.defaults.model.fallbacks`;
      break;
    default: {
      const message = scrub(error.message, credential?.secret);
      if (message === error.message) return error;
      return new UpstreamError(message, { status: error.status, type: error.type, code: error.code, retryable: error.retryable });
    }
  }
  // With --verbose the cause is printed too: leave out one that quotes the key.
  const quoted = credential?.secret !== undefined && error.message.includes(credential.secret);
  return new UpstreamError(hint, {
    status: error.status,
    type: error.type,
    code: error.code,
    retryable: error.retryable,
    ...(quoted ? {} : { cause: error }),
  });
}
