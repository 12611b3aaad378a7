import { createRequire } from "node:module";

/** This build's version, from package.json (dist/shared/ and src/shared/ are both two levels below it). */
export const VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
