import { readdir, readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NotFoundError, OpenClawError } from "../../shared/errors.js";

interface Asset {
  type: string;
  /** Content-hashed file names never change: cached for a year. */
  immutable: boolean;
  identity: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

/** Both `src/gateway/ui` (tsx) and `dist/gateway/ui` are three levels below the package root. */
export const DEFAULT_UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../dist/ui");

/** Most bytes of built files held in memory (they are < 200 KB compressed; this guards against a wrong directory). */
const MAX_TOTAL_BYTES = 8 * 1024 * 1024;

async function walk(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) files.push(...(await walk(path.join(dir, entry.name), `${prefix}${entry.name}/`)));
    else if (entry.isFile()) files.push(`${prefix}${entry.name}`);
  }
  return files;
}

/** The built dashboard (`npm run build` → dist/ui), read once into memory with its precompressed copies. */
export async function loadAssets(dir = DEFAULT_UI_DIR): Promise<Map<string, Asset>> {
  let files: string[];
  try {
    files = await walk(dir);
  } catch {
    return new Map();
  }
  const assets = new Map<string, Asset>();
  let total = 0;
  for (const file of files.filter((name) => !name.endsWith(".gz") && !name.endsWith(".br"))) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const identity = await readFile(path.join(dir, file));
    const asset: Asset = { type, immutable: file.startsWith("assets/"), identity };
    if (files.includes(`${file}.gz`)) asset.gzip = await readFile(path.join(dir, `${file}.gz`));
    if (files.includes(`${file}.br`)) asset.br = await readFile(path.join(dir, `${file}.br`));
    total += identity.length + (asset.gzip?.length ?? 0) + (asset.br?.length ?? 0);
    if (total > MAX_TOTAL_BYTES) throw new Error(`${dir} holds more than ${MAX_TOTAL_BYTES} bytes: not the dashboard's build`);
    assets.set(file, asset);
  }
  return assets;
}

/** Accept-Encoding, for the encodings we have copies in: br, then gzip (a q=0 refuses one). */
function pickEncoding(request: IncomingMessage, asset: Asset): "br" | "gzip" | undefined {
  const header = request.headers["accept-encoding"];
  if (typeof header !== "string") return undefined;
  const accepted = new Set(
    header
      .split(",")
      .map((part) => part.trim().toLowerCase())
      .filter((part) => !/;\s*q=0(\.0*)?$/.test(part))
      .map((part) => part.split(";")[0]?.trim()),
  );
  if (asset.br && accepted.has("br")) return "br";
  if (asset.gzip && accepted.has("gzip")) return "gzip";
  return undefined;
}

export function sendAsset(request: IncomingMessage, response: ServerResponse, assets: Map<string, Asset>, file: string): void {
  if (assets.size === 0)
    throw new OpenClawError("the dashboard is not built: run npm run build (it writes dist/ui)", {
      status: 503,
      type: "server_error",
      code: "ui_not_built",
    });
  const asset = assets.get(file);
  if (!asset) throw new NotFoundError(`no such file: /ui/${file.slice(0, 200)}`, { code: "unknown_url" });
  const encoding = pickEncoding(request, asset);
  const body = encoding === "br" ? asset.br! : encoding === "gzip" ? asset.gzip! : asset.identity;
  response.writeHead(200, {
    "content-type": asset.type,
    "content-length": body.length,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    vary: "Accept-Encoding",
    ...(encoding ? { "content-encoding": encoding } : {}),
  });
  response.end(request.method === "HEAD" ? undefined : body);
}
