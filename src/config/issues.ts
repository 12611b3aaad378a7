import type { z } from "zod";
import { ConfigError } from "../shared/errors.js";

/** `models.providers."a.b".models[0].id`: how we print a path back to the user. */
export function formatConfigPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      const safe = /^[A-Za-z0-9_$/-]+$/.test(key);
      out += `${out ? "." : ""}${safe ? key : JSON.stringify(key)}`;
    }
  }
  return out || "(root)";
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}`;
    case "invalid_key":
      return `invalid key: ${issue.issues[0]?.message ?? issue.message}`;
    case "invalid_type":
      return issue.message.replace(/^Invalid input: /, "");
    case "invalid_format":
      return issue.format === "url" ? "expected an http(s) URL" : issue.message;
    case "invalid_union":
      return "expected a string or an object of the documented shape";
    default:
      return issue.message;
  }
}

export function describeConfigIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${formatConfigPath(issue.path)}: ${describeIssue(issue)}`);
}

/** One error for a config that fails validation: the first problem, and a count of the rest. */
export function configValidationError(file: string, issues: readonly z.core.$ZodIssue[]): ConfigError {
  const lines = describeConfigIssues(issues);
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more: ${lines.slice(1).join("; ")})` : "";
  return new ConfigError(`invalid config ${file}: ${lines[0]}${more}`, { code: "config_invalid" });
}
