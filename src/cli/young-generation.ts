import { setFlagsFromString } from "node:v8";

/**
 * Start-up keeps most of what it allocates (modules, schemas), which V8 reads as a high survival
 * rate: it doubles the young generation's semi-spaces from 1 MB to 4 MB, and the gateway then
 * carries ~5 MB more resident memory at rest for no use. Growth is held while the gateway starts
 * and set back to V8's default once it listens, so under load the young generation grows as usual.
 * `--semi-space-growth-factor` is read each time V8 considers growing, so it can change at run time.
 * Left alone when the user tunes the young generation themselves (node flags or NODE_OPTIONS).
 */
const V8_DEFAULT_GROWTH_FACTOR = 2;

const tunedByUser = () => /semi[-_]space/.test(`${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`);

export function holdYoungGeneration(): void {
  if (!tunedByUser()) setFlagsFromString("--semi-space-growth-factor=1");
}

export function releaseYoungGeneration(): void {
  if (!tunedByUser()) setFlagsFromString(`--semi-space-growth-factor=${V8_DEFAULT_GROWTH_FACTOR}`);
}
