/**
 * The readable form of a JSON log line, for a person at a terminal (the gateway's stdout on a
 * TTY, and `openclaw logs`): one line per request with what matters first.
 */

type Paint = (code: string, text: string) => string;
const withColour: Paint = (code, text) => `\x1b[${code}m${text}\x1b[0m`;
const plain: Paint = (_code, text) => text;

const DIM = "2";
const LEVEL_COLOURS: Record<string, string> = { debug: "2", info: "36", warn: "33", error: "31", fatal: "41" };

function statusColour(status: number): string {
  if (status >= 500) return "31";
  if (status === 499) return "35";
  if (status >= 400) return "33";
  if (status >= 300) return "36";
  return "32";
}

const SHOWN_APART = new Set(["time", "level", "msg", "method", "path", "status", "model", "ms", "tokensIn", "tokensOut", "cost"]);
const SHOWN_LAST = ["requestId", "key", "error"];

function clock(time: unknown): string {
  if (typeof time !== "string" && typeof time !== "number") return "--:--:--.---";
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().slice(11, 23);
}

function value(text: unknown): string {
  return typeof text === "string" ? text : JSON.stringify(text);
}

function tokens(entry: Record<string, unknown>): string | undefined {
  if (entry.tokensIn === undefined && entry.tokensOut === undefined) return undefined;
  return `${value(entry.tokensIn ?? 0)}→${value(entry.tokensOut ?? 0)} tok`;
}

function cost(entry: Record<string, unknown>): string | undefined {
  return typeof entry.cost === "number" ? `$${entry.cost.toFixed(6)}` : undefined;
}

/** Whatever else the line carries, as key=value (request lines keep theirs in a fixed order). */
function rest(entry: Record<string, unknown>, paint: Paint): string[] {
  const parts: string[] = [];
  for (const [key, field] of Object.entries(entry))
    if (!SHOWN_APART.has(key) && !SHOWN_LAST.includes(key) && field !== undefined) parts.push(paint(DIM, `${key}=${value(field)}`));
  for (const key of SHOWN_LAST) {
    const field = entry[key];
    if (field === undefined) continue;
    parts.push(key === "error" ? paint("31", `error: ${value(field)}`) : paint(DIM, value(field)));
  }
  return parts;
}

/** One parsed JSON log line → one readable line (no newline); `colour` adds ANSI colours. */
export function formatLogEntry(entry: Record<string, unknown>, colour: boolean): string {
  const paint = colour ? withColour : plain;
  const level = typeof entry.level === "string" ? entry.level : "info";
  const parts = [paint(DIM, clock(entry.time))];
  if (entry.msg === "request" && typeof entry.status === "number") {
    parts.push(paint(statusColour(entry.status), String(entry.status)), value(entry.method ?? ""), value(entry.path ?? ""));
    if (entry.model !== undefined) parts.push(paint("1", value(entry.model)));
    if (typeof entry.ms === "number") parts.push(`${entry.ms}ms`);
    for (const part of [tokens(entry), cost(entry)]) if (part) parts.push(part);
  } else {
    parts.push(paint(LEVEL_COLOURS[level] ?? "0", level.toUpperCase()), value(entry.msg ?? ""));
    if (entry.model !== undefined) parts.push(paint(DIM, `model=${value(entry.model)}`));
  }
  return [...parts, ...rest(entry, paint)].join(" ");
}

/** A line as read from the log (a JSON object, or anything else, shown as it is). */
export function formatLogLine(line: string, colour: boolean): string {
  if (!line.startsWith("{")) return line;
  try {
    const entry: unknown = JSON.parse(line);
    return typeof entry === "object" && entry !== null && !Array.isArray(entry)
      ? formatLogEntry(entry as Record<string, unknown>, colour)
      : line;
  } catch {
    return line;
  }
}
