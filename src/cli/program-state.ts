import type { Command } from "commander";

// Like program.ts: command code is imported only when the command runs.
type Lazy = <M>(
  load: () => Promise<M>,
  pick: (module: M) => (...args: never[]) => Promise<void> | void,
) => (...args: unknown[]) => Promise<void>;
const migrateCommands = () => import("./commands/state-migrate.js");

export function addStateCommands(program: Command, lazy: Lazy): void {
  const state = program.command("state").description("the gateway's state: move it to a shared PostgreSQL for several replicas");
  state
    .command("migrate")
    .description(
      "copy this machine's SQLite state (sessions, responses, usage), keys and credentials to PostgreSQL; running it again adds nothing",
    )
    .option("--to <postgres-url>", "the database (default gateway.state.postgres or OPENCLAW_DATABASE_URL)")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nCredentials are encrypted with OPENCLAW_STATE_KEY (or gateway.state.credentialsKey): set the same key on every replica.",
    )
    .action(lazy(migrateCommands, (m) => m.runStateMigrate));
}
