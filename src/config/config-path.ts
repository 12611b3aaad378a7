import { z } from "zod";
import { InvalidRequestError } from "../shared/errors.js";
import { formatConfigPath } from "./issues.js";
import { OpenClawConfigSchema } from "./schema.js";

/**
 * Config paths as users type them: `gateway.port`, `auth.profiles."chutes:manual"`,
 * `agents.list[0].id`, `models.providers["my.provider"]`. The shell usually strips the
 * quotes, so keys of maps (model refs such as `huggingface/Qwen/Qwen2.5-7B`) are also
 * recognised by the schema: a map key runs on until the next segment names a field.
 */
export type PathKey = string | number;

interface Token {
  text: string;
  quoted: boolean;
}

export function tokenizeConfigPath(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new InvalidRequestError(`invalid config path ${JSON.stringify(input)}: ${why}`, { param: "path" });
  };
  const readQuoted = (): string => {
    const quote = input[i];
    let out = "";
    i++;
    while (i < input.length && input[i] !== quote) {
      if (input[i] === "\\" && i + 1 < input.length) i++;
      out += input[i];
      i++;
    }
    if (i >= input.length) fail("unterminated quote");
    i++;
    return out;
  };
  if (!input.trim()) fail("empty path");
  while (i < input.length) {
    const char = input[i];
    if (char === "[") {
      i++;
      const next = input[i];
      if (next === '"' || next === "'") tokens.push({ text: readQuoted(), quoted: true });
      else {
        const end = input.indexOf("]", i);
        if (end < 0) fail("missing ]");
        tokens.push({ text: input.slice(i, end).trim(), quoted: false });
        i = end;
      }
      if (input[i] !== "]") fail("missing ]");
      i++;
    } else if (char === '"' || char === "'") {
      tokens.push({ text: readQuoted(), quoted: true });
    } else {
      let end = i;
      while (end < input.length && input[end] !== "." && input[end] !== "[") end++;
      const text = input.slice(i, end);
      if (!text) fail("empty segment");
      tokens.push({ text, quoted: false });
      i = end;
    }
    if (input[i] === ".") {
      i++;
      if (i >= input.length) fail("trailing dot");
    }
  }
  return tokens;
}

type SchemaNode = z.ZodType | undefined;

function unwrap(schema: SchemaNode): SchemaNode {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The object shape(s) a node can take (a union contributes each object member). */
function objectShapes(schema: SchemaNode): z.ZodObject[] {
  const node = unwrap(schema);
  if (node instanceof z.ZodObject) return [node];
  if (node instanceof z.ZodUnion) return (node.options as z.ZodType[]).flatMap((option) => objectShapes(option));
  return [];
}

function fieldNames(schema: SchemaNode): Set<string> {
  return new Set(objectShapes(schema).flatMap((shape) => Object.keys(shape.shape)));
}

/** Resolve a typed path into keys, checked against the schema. */
export function resolveConfigPath(input: string): PathKey[] {
  const tokens = tokenizeConfigPath(input);
  const keys: PathKey[] = [];
  let schema: SchemaNode = OpenClawConfigSchema;
  let index = 0;
  while (index < tokens.length) {
    const token = tokens[index] as Token;
    const node = unwrap(schema);
    if (node instanceof z.ZodArray) {
      if (token.quoted || !/^\d+$/.test(token.text)) {
        throw new InvalidRequestError(`${formatConfigPath(keys)} is a list: use an index such as ${formatConfigPath([...keys, 0])}`, {
          param: "path",
        });
      }
      keys.push(Number(token.text));
      schema = node.element as z.ZodType;
      index++;
      continue;
    }
    if (node instanceof z.ZodRecord) {
      const valueSchema = node.valueType as z.ZodType;
      const fields = fieldNames(valueSchema);
      let key = token.text;
      index++;
      // Unquoted map keys may contain dots ("Qwen2.5"): join until a field name follows.
      while (!token.quoted && index < tokens.length && !(tokens[index] as Token).quoted && !fields.has((tokens[index] as Token).text)) {
        key += `.${(tokens[index] as Token).text}`;
        index++;
      }
      keys.push(key);
      schema = valueSchema;
      continue;
    }
    const shapes = objectShapes(node);
    const field = shapes.find((shape) => token.text in shape.shape);
    if (field) {
      keys.push(token.text);
      schema = field.shape[token.text] as z.ZodType;
      index++;
      continue;
    }
    const catchall = shapes.map((shape) => shape.def.catchall).find((value) => value && !(value instanceof z.ZodNever));
    if (catchall) {
      keys.push(token.text);
      schema = catchall as z.ZodType;
      index++;
      continue;
    }
    const known = [...fieldNames(node)];
    const where = keys.length ? `under ${formatConfigPath(keys)}` : "at the top level";
    throw new InvalidRequestError(
      known.length
        ? `unknown config key ${JSON.stringify(token.text)} ${where} (known: ${known.join(", ")})`
        : `${formatConfigPath(keys)} holds a plain value: nothing lives below it`,
      { param: "path" },
    );
  }
  return keys;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function getAtPath(root: unknown, keys: readonly PathKey[]): { found: boolean; value: unknown } {
  let current: unknown = root;
  for (const key of keys) {
    if (typeof key === "number" ? !Array.isArray(current) : !isRecord(current)) return { found: false, value: undefined };
    const container = current as Record<PathKey, unknown>;
    if (!Object.hasOwn(container, key)) return { found: false, value: undefined };
    current = container[key];
  }
  return { found: true, value: current };
}

/** Set a value, creating objects and lists on the way. */
export function setAtPath(root: Record<string, unknown>, keys: readonly PathKey[], value: unknown): void {
  if (keys.length === 0) throw new InvalidRequestError("cannot replace the whole config with config set", { param: "path" });
  let current: Record<PathKey, unknown> = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i] as PathKey;
    const nextKey = keys[i + 1] as PathKey;
    let child = current[key];
    // `model: "ref"` is shorthand for `model: { primary: "ref" }` (the only string|object union).
    if (key === "model" && typeof child === "string" && typeof nextKey === "string") child = { primary: child };
    if (child === undefined) child = typeof nextKey === "number" ? [] : {};
    const wantsList = typeof nextKey === "number";
    if (wantsList ? !Array.isArray(child) : !isRecord(child)) {
      throw new InvalidRequestError(`${formatConfigPath(keys.slice(0, i + 1))} is not ${wantsList ? "a list" : "an object"}`, {
        param: "path",
      });
    }
    if (wantsList && (nextKey as number) > (child as unknown[]).length) {
      throw new InvalidRequestError(
        `${formatConfigPath(keys.slice(0, i + 2))} is past the end of the list (length ${(child as unknown[]).length})`,
        { param: "path" },
      );
    }
    current[key] = child;
    current = child as Record<PathKey, unknown>;
  }
  current[keys[keys.length - 1] as PathKey] = value;
}

/** Remove a value; returns false when nothing was there. Emptied parents are pruned. */
export function unsetAtPath(root: Record<string, unknown>, keys: readonly PathKey[]): boolean {
  if (keys.length === 0) return false;
  const parent = getAtPath(root, keys.slice(0, -1));
  const last = keys[keys.length - 1] as PathKey;
  if (!parent.found) return false;
  if (Array.isArray(parent.value) && typeof last === "number") {
    if (last >= parent.value.length) return false;
    parent.value.splice(last, 1);
  } else if (isRecord(parent.value) && Object.hasOwn(parent.value, last)) {
    delete parent.value[last as string];
  } else return false;
  for (let depth = keys.length - 1; depth > 0; depth--) {
    const holder = getAtPath(root, keys.slice(0, depth));
    if (isRecord(holder.value) && Object.keys(holder.value).length === 0) {
      unsetAtPath(root, keys.slice(0, depth));
    } else break;
  }
  return true;
}
