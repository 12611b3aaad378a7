import { createServer, type Server } from "node:http";
import { errorCode } from "../../shared/errors.js";

const PAGE = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:system-ui;margin:3rem"><h1>${title}</h1><p>${text}</p></body></html>`;

export interface LoopbackListener {
  /** Resolves with the callback's query parameters. */
  result: Promise<URLSearchParams>;
  close(): void;
}

/**
 * Listen on the redirect URI's host and port for the browser's one callback, answer it with a
 * small page, and hand the parameters over. Rejects with `EADDRINUSE` (and the like) when it
 * cannot listen, so the caller can fall back to pasting.
 */
export async function listenForCallback(redirectUri: string, expectedState: string): Promise<LoopbackListener> {
  const url = new URL(redirectUri);
  let deliver: (params: URLSearchParams) => void = () => undefined;
  const result = new Promise<URLSearchParams>((resolve) => {
    deliver = resolve;
  });
  const server: Server = createServer((request, response) => {
    const incoming = new URL(request.url ?? "/", redirectUri);
    if (incoming.pathname !== url.pathname) {
      response.writeHead(404, { "content-type": "text/plain" });
      response.end("not found");
      return;
    }
    // A visit that is not this sign-in's answer (another attempt's link, a stray reload) is
    // turned away and the wait goes on.
    if (incoming.searchParams.get("state") !== expectedState) {
      response.writeHead(400, { "content-type": "text/html; charset=utf-8", connection: "close" });
      response.end(PAGE("Not this sign-in", "This link belongs to another sign-in attempt. Use the one your terminal shows."));
      return;
    }
    const failed = incoming.searchParams.has("error");
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", connection: "close" });
    response.end(
      failed
        ? PAGE("Sign-in did not complete", "Return to your terminal for details.")
        : PAGE("Signed in to OpenClaw", "You can close this tab and return to your terminal."),
    );
    deliver(incoming.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ""), () => resolve());
  }).catch((error: unknown) => {
    server.close();
    throw Object.assign(new Error(`cannot listen on ${url.host}: ${errorCode(error) ?? (error as Error).message}`), {
      code: errorCode(error),
    });
  });
  return {
    result,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
