/**
 * Builds the dashboard (ui/) into dist/ui: one script and one stylesheet, content-hashed (served
 * as immutable), an index.html naming them, and a gzip and a brotli copy of each text file so the
 * gateway never compresses on a request. Run by `npm run build` (and so by `prepare` on install).
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.join(root, "dist/ui");
const assetsDir = path.join(out, "assets");

await rm(out, { recursive: true, force: true });
await mkdir(assetsDir, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: "ui/src/main.ts", style: "ui/src/style.css" },
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  entryNames: "[name]-[hash]",
  outdir: assetsDir,
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((file) => file.startsWith("app-") && file.endsWith(".js"));
const style = outputs.find((file) => file.startsWith("style-") && file.endsWith(".css"));
if (!script || !style) throw new Error(`the UI build did not produce app-*.js and style-*.css: ${outputs.join(", ")}`);

const template = await readFile(path.join(root, "ui/index.html"), "utf8");
await writeFile(path.join(out, "index.html"), template.replace("%SCRIPT%", script).replace("%STYLE%", style));

async function compressAll(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await compressAll(file);
    else if (/\.(html|js|css|svg|json)$/.test(entry.name)) {
      const data = await readFile(file);
      await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }));
      await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    }
  }
}
await compressAll(out);
