import type { Command } from "commander";

// Like program.ts: command code is imported only when the command runs.
type Lazy = <M>(
  load: () => Promise<M>,
  pick: (module: M) => (...args: never[]) => Promise<void> | void,
) => (...args: unknown[]) => Promise<void>;
const keysCommands = () => import("./commands/keys.js");
const usageCommands = () => import("./commands/usage.js");

function withScopeFlags(command: Command, update: boolean): Command {
  command
    .option("--models <refs...>", "models the key may use: provider/model refs or aliases (space or comma separated; default any)")
    .option("--agents <ids...>", "agents the key may use (default any)")
    .option("--rpm <n>", "requests per minute")
    .option("--tpm <n>", "tokens per minute (prompt + completion)")
    .option("--max-parallel <n>", "requests in progress at once")
    .option("--budget <usd>", "spend limit in USD per budget period (catalog prices × real usage)")
    .option("--budget-period <period>", "1d, 7d, 30d or total; periods start when the key was created (default 30d)")
    .option("--expires <duration>", "expire after a duration from now: 30m, 12h, 7d, 2w")
    .option("--json", "print JSON");
  if (update)
    command
      .option("--name <name>", "rename the key")
      .option("--no-models", "allow any model")
      .option("--no-agents", "allow any agent")
      .option("--no-rpm", "remove the requests-per-minute limit")
      .option("--no-tpm", "remove the tokens-per-minute limit")
      .option("--no-max-parallel", "remove the parallel limit")
      .option("--no-budget", "remove the budget")
      .option("--no-expires", "never expire");
  return command;
}

/** `openclaw keys …` and `openclaw usage`. */
export function addKeyCommands(program: Command, lazy: Lazy): void {
  const keys = program
    .command("keys")
    .description("gateway keys for users and apps: scoped to models/agents, rate-limited, with budgets (the secret is shown once)");
  withScopeFlags(
    keys.command("create").description("create a key and print it once").requiredOption("--name <name>", "a name to find it by"),
    false,
  )
    .addHelpText(
      "after",
      "\nExamples:\n  openclaw keys create --name open-webui --models chutes-fast --rpm 60 --budget 10 --budget-period 30d\n  openclaw keys create --name ci --tpm 100000 --expires 7d --json",
    )
    .action(lazy(keysCommands, (m) => m.runKeysCreate));
  keys
    .command("list")
    .description("every key with its limits and use (requests and tokens in the last minute, spend this budget period); never a secret")
    .option("--json", "print JSON")
    .action(lazy(keysCommands, (m) => m.runKeysList));
  keys
    .command("show")
    .description("one key's scope, limits and use")
    .argument("<key>", "id or name")
    .option("--json", "print JSON")
    .action(lazy(keysCommands, (m) => m.runKeysShow));
  withScopeFlags(keys.command("update").description("change a key's name, scope or limits (--no-<limit> removes one)"), true)
    .argument("<key>", "id or name")
    .action(lazy(keysCommands, (m) => m.runKeysUpdate));
  keys
    .command("revoke")
    .description("revoke a key: the gateway refuses it from then on (its usage stays in the ledger)")
    .argument("<key>", "id or name")
    .option("--json", "print JSON")
    .action(lazy(keysCommands, (m) => m.runKeysRevoke));

  program
    .command("usage")
    .description("requests, tokens, spend and latency from the usage ledger, grouped")
    .option("--by <group>", "key, model, agent, provider or day (default key)")
    .option("--since <when>", "a duration ago (7d, 12h) or a date (2026-11-01) (default 7d)")
    .option("--until <when>", "same forms; default now")
    .option("--key <key>", "only this key's requests (id or name)")
    .option("--json", "print JSON")
    .option("--csv", "print CSV")
    .action(lazy(usageCommands, (m) => m.runUsage));
}
