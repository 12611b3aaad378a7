import { createRequire } from "node:module";
import { Command } from "commander";
import { addKeyCommands } from "./program-keys.js";
import { addStateCommands } from "./program-state.js";

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
const chatCommands = () => import("./commands/chat.js");
const onboardCommands = () => import("./commands/onboard.js");
const gatewayCommands = () => import("./commands/gateway.js");
const sessionCommands = () => import("./commands/sessions.js");
const teeCommands = () => import("./commands/tee-verify.js");
const gatewayStatusCommands = () => import("./commands/gateway-status.js");
const modelConfigCommands = () => import("./commands/models-config.js");
const logsCommands = () => import("./commands/logs.js");

/** `--verbose` is a global option: read it from the root command. */
const isVerbose = (command: Command) => {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts().verbose === true || Boolean(process.env.DEBUG);
};

function withGatewayOptions(command: Command): Command {
  return command
    .option("--port <port>", "port to listen on (default gateway.port or 18789; 0 picks a free one)")
    .option("--bind <address>", "loopback (default), lan, or an address (default gateway.bind)")
    .option("--enable-endpoints", "serve /v1/chat/completions and /v1/responses for this run even if disabled in config")
    .option("--drain-timeout <ms>", "on SIGTERM/SIGINT, how long in-flight requests may finish (default 10000)")
    .option("--log-format <format>", "pretty or json (default gateway.logs.format; pretty on a terminal, json otherwise)")
    .action(
      lazy(gatewayCommands, (m) => (options: import("./commands/gateway.js").GatewayOptions) => m.runGateway(options, isVerbose(command))),
    );
}

function rootOptions(command: Command) {
  let root = command;
  while (root.parent) root = root.parent;
  return root === command ? [] : root.options.filter((option) => !option.hidden);
}

export function createProgram(): Command {
  const program = new Command("openclaw")
    .description("OpenClaw: one OpenAI-compatible gateway and CLI for Chutes, Hugging Face and any OpenAI-compatible provider")
    .version(version, "-V, --version", "print the version")
    .option("-v, --verbose", "show the cause and stack of errors (also DEBUG=1)")
    .showHelpAfterError("(run with --help for usage)")
    // "Global" options are the program's own (--verbose, --version); without this, Commander
    // lists every ancestor's options, so `gateway token --help` showed the gateway's run options.
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true, visibleGlobalOptions: rootOptions })
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

  const gateway = withGatewayOptions(
    program.command("gateway").description("run the OpenAI-compatible gateway in the foreground (same as `gateway run`)"),
  );
  withGatewayOptions(gateway.command("run").description("run the gateway in the foreground"));
  gateway
    .command("token")
    .description("print the gateway's bearer token (generated and stored on first use)")
    // Commander lets a parent's options follow the subcommand: refuse the gateway's run options here
    // rather than ignore them silently.
    .hook("preAction", (command) => {
      const given = Object.keys(command.parent?.opts() ?? {});
      if (given.length) command.error(`error: unknown option '--${given[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}'`);
    })
    .action(lazy(gatewayCommands, (m) => m.runGatewayToken));
  gateway
    .command("status")
    .description("whether a gateway runs for this state dir: its address, version and health (exit 1 when not)")
    .option("--json", "print JSON")
    .hook("preAction", (command) => {
      const given = Object.keys(command.parent?.opts() ?? {});
      if (given.length) command.error(`error: unknown option '--${given[0]?.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}'`);
    })
    .action(lazy(gatewayStatusCommands, (m) => m.runGatewayStatus));

  const sessions = program.command("sessions").description("conversations recorded by the gateway");
  sessions
    .command("list")
    .description("recent sessions with turns, tokens and cost")
    .option("--json", "print JSON")
    .option("--limit <n>", "how many (default 50)")
    .option("--agent <id>", "only this agent's sessions")
    .action(lazy(sessionCommands, (m) => m.runSessionsList));
  sessions
    .command("show")
    .description("one session's transcript")
    .argument("<key>", "session key, e.g. agent:main:openai-user:alice")
    .option("--json", "print JSON")
    .action(lazy(sessionCommands, (m) => m.runSessionsShow));

  program
    .command("logs")
    .description("the gateway's log (<state>/logs/gateway.log): the last lines, readable; -f follows it across rotations")
    .option("-f, --follow", "keep printing new lines until Ctrl-C")
    .option("--json", "print the stored JSON lines")
    .option("-n, --lines <n>", `how many of the last lines (default 20)`)
    .action(lazy(logsCommands, (m) => m.runLogs));

  program
    .command("onboard")
    .description("set up a provider: store its credential, write its config, pick the default model")
    .option("--non-interactive", "no prompts: take everything from flags (needs --accept-risk or --mode local)")
    .option("--accept-risk", "acknowledge that the gateway token grants operator access to your providers")
    .option("--mode <mode>", "where the gateway runs: local (loopback)")
    .option("--auth-choice <choice>", "chutes (Sign in with Chutes, OAuth), chutes-api-key, or huggingface-api-key")
    .option("--chutes-api-key <key>", "Chutes API key (cpk_…); default $CHUTES_API_KEY")
    .option("--huggingface-api-key <token>", "Hugging Face token (hf_…); default $HF_TOKEN or $HUGGINGFACE_HUB_TOKEN")
    .option("--model <ref>", "default model to set (default: the provider's recommended one)")
    .option("--e2ee", "Chutes: end-to-end encrypt to attested TEE instances only (the default model must be a TEE model)")
    .option("--no-e2ee", "Chutes: plain requests; do not ask about end-to-end encryption")
    .option("--no-browser", "Sign in with Chutes: print the sign-in URL and paste the redirect back (for SSH / headless)")
    .option("--timeout <seconds>", "Sign in with Chutes: how long to wait for the browser before asking to paste (default 300)")
    .addHelpText(
      "after",
      '\nExamples:\n  openclaw onboard\n  openclaw onboard --non-interactive --accept-risk --auth-choice chutes-api-key --chutes-api-key "$CHUTES_API_KEY" --e2ee\n  openclaw onboard --non-interactive --mode local --auth-choice huggingface-api-key --huggingface-api-key "$HF_TOKEN"',
    )
    .action(lazy(onboardCommands, (m) => m.runOnboard));

  program
    .command("chat")
    .description("chat with a model: streams the answer; without a prompt on a terminal, a multi-turn conversation")
    .argument("[prompt...]", "the prompt (or pipe it on stdin)")
    .option("-m, --model <ref>", "provider/model or alias (default: agents.defaults.model.primary)")
    .option("-s, --system <text>", "a system prompt")
    .option("--no-fallback", "do not try agents.defaults.model.fallbacks when the model fails")
    .option("--reasoning", "also print the model's reasoning (to stderr)")
    .addHelpText(
      "after",
      '\nExamples:\n  openclaw chat --model chutes/zai-org/GLM-4.7-TEE "Hello!"\n  openclaw chat -m chutes-fast "Explain TEEs"\n  echo "Summarise this" | openclaw chat',
    )
    .action(
      lazy(
        chatCommands,
        (m) => (prompt: string[], options: import("./commands/chat.js").ChatOptions, command: Command) =>
          m.runChat(prompt, { ...options, verbose: isVerbose(command) }),
      ),
    );

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
    .option(
      "--check",
      "exit 1 when the default model's provider has no usable credential or a sign-in expired, 2 when one expires within 24 h",
    )
    .option(
      "--probe",
      "also make a live call per provider: lists its models, then a one-token chat (may cost a token); exit 1 if one fails",
    )
    .option("--probe-timeout <ms>", "how long each provider may take to answer the probe (default 15000)")
    .action(lazy(statusCommands, (m) => m.runModelsStatus));
  models
    .command("set")
    .description("set the default model (agents.defaults.model.primary)")
    .argument("<model>", "provider/model or alias")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runModelsSet));
  const aliases = models.command("aliases").description("short names for models (agents.defaults.models)");
  aliases
    .command("list")
    .description("built-in and configured aliases")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runAliasesList));
  aliases
    .command("add")
    .description("add or redefine an alias")
    .argument("<alias>", "the short name, e.g. fast")
    .argument("<model>", "the provider/model it stands for")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runAliasesAdd));
  aliases
    .command("remove")
    .description("remove an alias from the config")
    .argument("<alias>", "the short name")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runAliasesRemove));
  const fallbacks = models
    .command("fallbacks")
    .description("models tried in order when the default fails (agents.defaults.model.fallbacks)");
  fallbacks
    .command("list")
    .description("the fallbacks, in order")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runFallbacksList));
  fallbacks
    .command("add")
    .description("add a fallback at the end")
    .argument("<model>", "provider/model or alias")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runFallbacksAdd));
  fallbacks
    .command("remove")
    .description("remove a fallback")
    .argument("<model>", "as listed by `models fallbacks list`")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runFallbacksRemove));
  fallbacks
    .command("clear")
    .description("remove every fallback")
    .option("--json", "print JSON")
    .action(lazy(modelConfigCommands, (m) => m.runFallbacksClear));
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
    .command("logout")
    .description("sign out: revoke a provider's OAuth tokens (best effort) and remove the profile")
    .requiredOption("--provider <id>", "provider id, e.g. chutes")
    .option("--profile-id <id>", "only this profile (default: every signed-in profile of the provider)")
    .action(lazy(authCommands, (m) => m.runAuthLogout));
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

  const tee = program.command("tee").description("Trusted Execution Environments: check the hardware attestation of TEE models");
  tee
    .command("verify")
    .description("attest the instances serving a TEE model now: TDX quote, TCB, key and certificate bindings, measurements, GPUs")
    .argument("<model>", "provider/model or alias (e.g. chutes/zai-org/GLM-4.7-TEE), or a Chutes chute id or name")
    .option("--json", "print the report as JSON")
    .addHelpText("after", "\nExits 1 when no instance passes every check.\n\nExample:\n  openclaw tee verify chutes/zai-org/GLM-4.7-TEE")
    .action(lazy(teeCommands, (m) => m.runTeeVerify));
  addKeyCommands(program, lazy);
  addStateCommands(program, lazy);

  return program;
}
