// Loaded with `node --import` into a spawned process: records every module it resolves (one URL a
// line) in the file named by RECORD_IMPORTS_TO, so a test can see what a process loaded and what
// it never did, without any hook in the product.
import { register } from "node:module";

if (process.env.RECORD_IMPORTS_TO)
  register("./record-imports-hooks.mjs", import.meta.url, { data: { file: process.env.RECORD_IMPORTS_TO } });
