/** Readers for loosely-typed `/models` entries: anything invalid becomes undefined. */

/** A token count: a positive whole number, else undefined (negative, NaN, fractional, zero). */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** A price: a finite number ≥ 0 (free is a price), numeric strings accepted. */
export function price(value: unknown): number | undefined {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number >= 0 ? number : undefined;
}

export function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}

export const KNOWN_MODALITIES = new Set(["text", "image", "audio", "video", "file"]);

export function modalities(value: unknown): string[] {
  const list = stringList(value)?.filter((item) => KNOWN_MODALITIES.has(item));
  return list?.length ? list : ["text"];
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

/** `deepseek-ai/DeepSeek-R1` → "DeepSeek R1"; `Qwen/Qwen2.5-7B-Instruct` → "Qwen2.5 7B Instruct". */
export function displayNameFromId(id: string): string {
  const base = id.slice(id.lastIndexOf("/") + 1);
  return base.replace(/[-_]+/g, " ").trim() || id;
}

/** Drop undefined fields so merged records stay readable in JSON. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
