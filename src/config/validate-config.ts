import { configValidationError } from "./issues.js";
import { type OpenClawConfig, OpenClawConfigSchema } from "./schema.js";

/** Check a raw document against the schema (used before every write); loads zod. */
export function validateRawConfig(raw: unknown, file: string): OpenClawConfig {
  const result = OpenClawConfigSchema.safeParse(raw);
  if (!result.success) throw configValidationError(file, result.error.issues);
  return result.data;
}
