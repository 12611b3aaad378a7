import { InvalidRequestError } from "../shared/errors.js";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `90s`, `30m`, `12h`, `7d`, `2w` → milliseconds (> 0); a clear error naming the flag otherwise. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? 0) : 0;
  if (!match || ms <= 0)
    throw new InvalidRequestError(`${flag} ${JSON.stringify(text)} is not a duration: use a number and a unit, e.g. 30m, 12h, 7d, 2w`, {
      param: flag,
    });
  return ms;
}

/** A point in time: a duration before `now` (`7d`), or an ISO date (`2026-11-01`, `2026-11-01T12:00:00Z`). */
export function parseTimePoint(text: string, flag: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const at = Date.parse(text.trim());
    if (Number.isFinite(at)) return at;
  } else if (/^\d+[smhdw]$/.test(text.trim())) return now - parseDuration(text, flag);
  throw new InvalidRequestError(`${flag} ${JSON.stringify(text)} is neither a duration (7d, 12h) nor a date (2026-11-01)`, { param: flag });
}

/** A whole number ≥ 1 (`--rpm`, `--tpm`, `--max-parallel`). */
export function parsePositiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidRequestError(`${flag} ${JSON.stringify(text)} must be a whole number of at least 1`, { param: flag });
  return value;
}

/** A USD amount ≥ 0 with at most 6 decimals (`--budget 10`, `--budget 0.001`). */
export function parseUsd(text: string, flag: string): number {
  const trimmed = text.trim().replace(/^\$/, "");
  const value = Number(trimmed);
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(trimmed) || !Number.isFinite(value))
    throw new InvalidRequestError(`${flag} ${JSON.stringify(text)} must be an amount in USD, e.g. 10 or 0.50`, { param: flag });
  return value;
}
