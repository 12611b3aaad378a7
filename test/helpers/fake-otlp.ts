import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One received span, flattened from OTLP/HTTP JSON (attribute values unwrapped). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP's enum: 2 SERVER, 3 CLIENT. */
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  status: { code?: number; message?: string };
}

export interface FakeCollector {
  /** What to put in OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Export requests received, and their content types. */
  requests: Array<{ path: string; contentType: string | undefined }>;
  close(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

function unwrap(value: AnyValue): unknown {
  if ("stringValue" in value) return value.stringValue;
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return value.doubleValue;
  if ("boolValue" in value) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(unwrap);
  return undefined;
}

const attributesOf = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((entry) => [entry.key, unwrap(entry.value)]));

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
}

/** A real OTLP/HTTP collector on 127.0.0.1 that accepts JSON trace exports at /v1/traces and keeps the spans. */
export async function startFakeCollector(): Promise<FakeCollector> {
  const spans: ReceivedSpan[] = [];
  const requests: FakeCollector["requests"] = [];
  const server = createServer(async (request, response) => {
    requests.push({ path: request.url ?? "", contentType: request.headers["content-type"] });
    if (request.method !== "POST" || request.url !== "/v1/traces" || !request.headers["content-type"]?.includes("json")) {
      response.writeHead(415).end();
      return;
    }
    const payload = JSON.parse(await bodyOf(request)) as {
      resourceSpans?: Array<{
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: Array<{ spans?: Array<Omit<ReceivedSpan, "attributes" | "resource"> & { attributes?: KeyValue[] }> }>;
      }>;
    };
    for (const group of payload.resourceSpans ?? []) {
      const resource = attributesOf(group.resource?.attributes);
      for (const scope of group.scopeSpans ?? [])
        for (const span of scope.spans ?? [])
          spans.push({
            ...span,
            parentSpanId: span.parentSpanId ?? "",
            attributes: attributesOf(span.attributes),
            resource,
            status: span.status ?? {},
          });
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
