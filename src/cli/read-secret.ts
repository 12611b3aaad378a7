import { CancelledError, InvalidRequestError } from "../shared/errors.js";

/** Everything piped on a stream, as text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A secret from piped stdin (`echo KEY | openclaw …`) or, on a terminal, a masked prompt.
 * Surrounding whitespace and the trailing newline are trimmed; empty input is an error.
 */
export async function readSecret(prompt: string): Promise<string> {
  let value: string;
  if (process.stdin.isTTY) {
    const { password, isCancel } = await import("@clack/prompts");
    const answer = await password({ message: prompt, mask: "*" });
    if (isCancel(answer)) throw new CancelledError("cancelled; nothing was written");
    value = answer ?? "";
  } else {
    value = await readAll(process.stdin);
  }
  const secret = value.trim();
  if (!secret) throw new InvalidRequestError("no token given (empty input); nothing was written", { param: "token" });
  if (/\s/.test(secret))
    throw new InvalidRequestError("the token contains whitespace; paste exactly one token. Nothing was written", { param: "token" });
  return secret;
}
