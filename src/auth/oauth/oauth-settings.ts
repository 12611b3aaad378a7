import { InvalidRequestError } from "../../shared/errors.js";

/** A "Sign in with …" identity provider and OAuth app, as a provider definition resolves them. */
export interface OAuthSettings {
  authorizeUrl: string;
  tokenUrl: string;
  userinfoUrl: string;
  revokeUrl: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  redirectUri: string;
  scopes: string;
}

export const DEFAULT_REDIRECT_URI = "http://127.0.0.1:1456/oauth-callback";

/** Only `http` on a loopback address: the code must never travel to another machine. */
export function assertLoopbackRedirect(uri: string, variable = "the OAuth redirect URI"): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidRequestError(`${variable} is not a URL: ${uri}`, { param: "redirect_uri" });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "http:" || !loopback || !url.port) {
    throw new InvalidRequestError(
      `the OAuth redirect must be http on a loopback address with a port (like ${DEFAULT_REDIRECT_URI}), not ${uri}`,
      {
        param: "redirect_uri",
      },
    );
  }
  return url;
}

export function authorizeUrl(settings: OAuthSettings, clientId: string, state: string, challenge: string): string {
  const url = new URL(settings.authorizeUrl);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: settings.redirectUri,
    response_type: "code",
    scope: settings.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  return url.toString();
}
