import { z } from "zod";
import type { BudgetPeriod } from "./key-store.js";

// Imports nothing but zod (and a type): its text is part of the validation memo's schema version.
const PERIODS = ["1d", "7d", "30d", "total"] as const satisfies readonly BudgetPeriod[];
const positive = z.number().int().positive();
const KeyRecordSchema = z.strictObject({
  id: z.string().regex(/^[0-9A-Za-z]{12}$/),
  name: z.string().min(1),
  hash: z.string().min(1),
  salt: z.string().min(1),
  prefix: z.string(),
  models: z.array(z.string().min(1)).optional(),
  agents: z.array(z.string().min(1)).optional(),
  rpm: positive.optional(),
  tpm: positive.optional(),
  maxParallel: positive.optional(),
  budget: z.strictObject({ usd: z.number().nonnegative(), period: z.enum(PERIODS) }).optional(),
  expiresAt: z.number().optional(),
  createdAt: z.number(),
  revokedAt: z.number().optional(),
});

/** `<state>/keys.json`. */
export const KeyFileSchema = z.strictObject({ version: z.literal(1), keys: z.array(KeyRecordSchema) });
