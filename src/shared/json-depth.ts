const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Deepest JSON nesting a request body may have unless `gateway.http.maxJsonDepth` says otherwise. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests objects/arrays deeper than `maxDepth`, found before JSON.parse pays for it
 * (deep bodies cost seconds to parse and overflow the stack of whatever walks them next).
 * Linear: string contents are skipped with indexOf, so a body that is mostly message text costs
 * about one memchr. Malformed JSON is left for JSON.parse to refuse.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  // Nesting deeper than maxDepth takes maxDepth + 1 opening brackets and as many closing ones: a
  // shorter text cannot (unclosed brackets are malformed, and JSON.parse refuses them). Most
  // stream events are this short, so they skip the scan.
  if (text.length < 2 * (maxDepth + 1)) return false;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      i = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
