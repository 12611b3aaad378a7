import { AuthenticationError, InvalidRequestError } from "../../shared/errors.js";

/**
 * What the user pasted after signing in: the full redirect URL or just its query string.
 * A bare code is refused (without the state we cannot tell it belongs to this sign-in).
 */
export function parseCallbackInput(input: string, expectedState: string): string {
  const text = input.trim();
  if (!text) throw new InvalidRequestError("nothing was pasted; paste the whole URL your browser was sent to", { code: "oauth_no_input" });
  let params: URLSearchParams;
  if (/^https?:\/\//i.test(text)) params = new URL(text).searchParams;
  else if (text.includes("=")) params = new URLSearchParams(text.startsWith("?") ? text.slice(1) : text);
  else {
    throw new InvalidRequestError(
      "that looks like a bare code: paste the whole redirect URL (or its ?code=…&state=… part) so the sign-in can be checked",
      {
        code: "oauth_bare_code",
      },
    );
  }
  return checkCallback(params, expectedState);
}

/** The authorization code from callback parameters, after checking error and state. */
export function checkCallback(params: URLSearchParams, expectedState: string): string {
  const error = params.get("error");
  if (error) {
    const description = params.get("error_description");
    const message =
      error === "access_denied"
        ? "sign-in was denied at Chutes; nothing was written"
        : `Chutes sign-in failed: ${error}${description ? ` (${description})` : ""}; nothing was written`;
    throw new AuthenticationError(message, { code: `oauth_${error}` });
  }
  if (params.get("state") !== expectedState) {
    throw new AuthenticationError(
      "the state in the redirect does not match this sign-in (an old or foreign link?); nothing was written. Start again",
      {
        code: "oauth_state_mismatch",
      },
    );
  }
  const code = params.get("code");
  if (!code)
    throw new InvalidRequestError("the redirect has no code; paste the whole URL your browser was sent to", { code: "oauth_no_code" });
  return code;
}
