import { appendFileSync } from "node:fs";

/** Module loader hook (runs on the loader thread): records each URL as it is loaded. */
export async function load(url, context, nextLoad) {
  const file = process.env.OPENCLAW_TEST_LOAD_TRACE;
  if (file) appendFileSync(file, `${url}\n`);
  return nextLoad(url, context);
}
