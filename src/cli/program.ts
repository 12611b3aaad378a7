import { createRequire } from "node:module";
import { Command } from "commander";

// Keep this file light: every command's code is imported only when that command runs,
// so `openclaw --help` and quick commands start fast.
const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

type Action = (...args: never[]) => Promise<void> | void;
function lazy<M>(load: () => Promise<M>, pick: (module: M) => Action) {
  return async (...args: unknown[]) => {
    const action = pick(await load()) as (...args: unknown[]) => Promise<void> | void;
    await action(...args);
  };
}

const configCommands = () => import("./commands/config.js");
const authCommands = () => import("./commands/models-auth.js");
const modelsCommands = () => import("./commands/models-list.js");
const statusCommands = () => import("./commands/models-status.js");

export function createProgram(): Command {
  const program = new Command("openclaw")
    .description("OpenClaw: one OpenAI-compatible gateway and CLI for Chutes, Hugging Face and any OpenAI-compatible provider")
    .version(version, "-V, --version", "print the version")
    .option("-v, --verbose", "show the cause and stack of errors (also DEBUG=1)")
    .showHelpAfterError("(run with --help for usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      "after",
      `
State lives in ~/.openclaw (OPENCLAW_STATE_DIR); the config file is <state>/openclaw.json
(OPENCLAW_CONFIG_PATH). Secrets live only in <state>/credentials/auth-profiles.json.`,
    );

  const config = program.command("config").description("read and change openclaw.json (validated, atomic, comments kept)");
  config
    .command("get")
    .description("print the value at a config path (secrets redacted); no path prints the whole file")
    .argument("[path]", 'dot path, e.g. gateway.port or auth.profiles."chutes:manual"')
    .option("--json", "print JSON (also for plain strings)")
    .action(lazy(configCommands, (m) => m.runConfigGet));
  config
    .command("set")
    .description("set the value at a config path; the whole config is validated before it is written")
    .argument("<path>", "dot path; quote keys with dots or colons: models.providers.chutes.baseUrl")
    .argument("<value>", "the value: true/false/numbers are typed, anything else is a string")
    .option("--json", 'parse <value> as JSON (JSON5 accepted), e.g. --json \'{"alias": "chutes/zai-org/GLM-4.7-Flash"}\'')
    .action(lazy(configCommands, (m) => m.runConfigSet));
  config
    .command("unset")
    .description("remove the value at a config path")
    .argument("<path>", "dot path")
    .action(lazy(configCommands, (m) => m.runConfigUnset));
  config
    .command("validate")
    .description("load the config as the gateway would (env block, ${VAR} substitution, schema) and report problems")
    .option("--json", "print the result as JSON")
    .action(lazy(configCommands, (m) => m.runConfigValidate));
  config
    .command("file")
    .description("print the path of the config file in use")
    .action(lazy(configCommands, (m) => m.runConfigFile));

  const models = program.command("models").description("models, providers and their credentials");
  models
    .command("list")
    .description("list the models you can use: discovered (cached 4 h), built-in and configured")
    .option("--provider <id>", "only this provider (e.g. chutes, huggingface)")
    .option("--tee", "only models that run in a Trusted Execution Environment")
    .option("--json", "print JSON with every field")
    .option("--refresh", "discover again now instead of using the cache")
    .action(lazy(modelsCommands, (m) => m.runModelsList));
  models
    .command("status")
    .description("default model, fallbacks, aliases, and each provider's credential and catalog (no network)")
    .option("--json", "print JSON (secrets redacted)")
    .option("--check", "exit 1 when the default model's provider has no usable credential")
    .action(lazy(statusCommands, (m) => m.runModelsStatus));
  const auth = models.command("auth").description("manage provider credentials in the credential store");
  auth
    .command("paste-token")
    .description("store a provider API key or token: piped on stdin, or typed at a masked prompt")
    .requiredOption("--provider <id>", "provider id, e.g. chutes or huggingface")
    .option("--profile-id <id>", "profile id to store it under (default <provider>:manual)")
    .addHelpText(
      "after",
      '\nExamples:\n  openclaw models auth paste-token --provider chutes\n  echo "$CHUTES_API_KEY" | openclaw models auth paste-token --provider chutes',
    )
    .action(lazy(authCommands, (m) => m.runPasteToken));
  auth
    .command("list")
    .description("list stored credential profiles (redacted)")
    .option("--json", "print JSON")
    .action(lazy(authCommands, (m) => m.runAuthList));
  auth
    .command("remove")
    .description("remove a stored credential profile and its config entry")
    .argument("<profile-id>", "profile id, e.g. chutes:manual")
    .action(lazy(authCommands, (m) => m.runAuthRemove));

  return program;
}
