import { createInterface } from "node:readline";
import { streamChat } from "../../agents/run-chat.js";
import type { ModelRuntime } from "../../models/model-runtime.js";
import { CancelledError, InvalidRequestError, isOpenClawError } from "../../shared/errors.js";
import type { AttestationReceipt, ChatMessage } from "../../shared/wire.js";
import { loadCliContext, warn } from "../context.js";
import { explainUpstreamError } from "../explain-error.js";
import { readAll } from "../read-secret.js";
import { reportError } from "../report-error.js";
import { forTerminal } from "../terminal-text.js";
import { ToolCallLines } from "../tool-call-lines.js";

export interface ChatOptions {
  model?: string;
  system?: string;
  fallback?: boolean;
  reasoning?: boolean;
  /** The global `--verbose`: also says which attested enclave served an end-to-end encrypted answer. */
  verbose?: boolean;
}

/** Stream one reply to stdout as it arrives; returns its text (the tool calls' lines when it only called tools). */
async function streamReply(
  runtime: ModelRuntime,
  model: string | undefined,
  messages: ChatMessage[],
  options: ChatOptions,
  signal: AbortSignal,
) {
  // Whether stdout / stderr hold a partial line: a later message must start on a line of its own.
  let outOpen = false;
  let thinking = false;
  try {
    const chain = await runtime.allowedChain(model, options.fallback === false ? [] : undefined);
    const { ref, result: stream } = await streamChat(
      runtime,
      chain,
      { messages },
      {
        signal,
        onFallback: (failed, error, next) => warn(`${failed.ref} failed (${error.message}); trying ${next.ref}`),
        ...(options.verbose
          ? {
              onReceipt: (receipt: AttestationReceipt) => {
                const line = `openclaw: verified enclave ${receipt.instanceId} (${receipt.target}), TCB ${receipt.tcbStatus}, quote sha256 ${receipt.quoteSha256.slice(0, 16)}…, attested ${new Date(receipt.verifiedAt).toISOString()}\n`;
                process.stderr.write(forTerminal(line, process.stderr));
              },
            }
          : {}),
      },
    );
    let text = "";
    const toolCalls = new ToolCallLines();
    for await (const chunk of stream) {
      for (const choice of chunk.choices ?? []) {
        const reasoning = choice.delta?.reasoning_content;
        if (options.reasoning && reasoning) {
          process.stderr.write(forTerminal(reasoning, process.stderr));
          thinking = true;
        }
        toolCalls.add(choice.delta?.tool_calls);
        const content = choice.delta?.content;
        if (content) {
          if (thinking) process.stderr.write("\n");
          thinking = false;
          process.stdout.write(forTerminal(content, process.stdout));
          text += content;
          outOpen = !content.endsWith("\n");
        }
      }
    }
    if (thinking) process.stderr.write("\n");
    thinking = false;
    if (outOpen || (!text && toolCalls.size === 0)) process.stdout.write("\n");
    outOpen = false;
    const calls = toolCalls.lines();
    for (const line of calls) process.stdout.write(`${forTerminal(line, process.stdout)}\n`);
    return { text: text || calls.join("\n"), ref };
  } catch (error) {
    if (outOpen) process.stdout.write("\n");
    if (thinking) process.stderr.write("\n");
    if (signal.aborted) throw new CancelledError("interrupted", { cause: error });
    throw explainUpstreamError(error, runtime);
  }
}

export async function runChat(promptParts: string[], options: ChatOptions): Promise<void> {
  const { runtime } = await loadCliContext();
  let prompt = promptParts.join(" ").trim();
  if (!prompt && !process.stdin.isTTY) prompt = (await readAll(process.stdin)).trim();
  if (!prompt) {
    if (process.stdin.isTTY) return runInteractive(runtime, options);
    throw new InvalidRequestError("no prompt: pass it as an argument, or pipe it on stdin", { param: "prompt" });
  }
  const controller = new AbortController();
  // `openclaw chat … | head`: the reader went away; stop quietly, and stop the upstream too.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    controller.abort();
    // A token refresh in flight carries the only copy of the rotated refresh token: let it land.
    void runtime.settleRefreshes().finally(() => process.exit(0));
  });
  // Ctrl-C stops the answer and the upstream request with it.
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const messages: ChatMessage[] = [
      ...(options.system ? [{ role: "system", content: options.system }] : []),
      { role: "user", content: prompt },
    ];
    await streamReply(runtime, options.model, messages, options, controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const SLASH_COMMANDS = [
  ["/model REF", "switch to another model (provider/model or an alias); /model alone shows the current one"],
  ["/reset", "forget the conversation so far"],
  ["/help", "this list"],
  ["/exit", "leave (also /quit or Ctrl-D); Ctrl-C stops an answer"],
] as const;

const helpText = () => `${SLASH_COMMANDS.map(([name, what]) => `  ${name.padEnd(11)} ${what}`).join("\n")}\n`;

/** A multi-turn conversation on a terminal: `/model REF` switches, `/reset` forgets, Ctrl-D leaves. */
async function runInteractive(runtime: ModelRuntime, options: ChatOptions): Promise<void> {
  let model = options.model ?? runtime.defaultModel();
  const history: ChatMessage[] = options.system ? [{ role: "system", content: options.system }] : [];
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "you> " });
  let current: AbortController | undefined;
  let leftByCommand = false;
  rl.on("SIGINT", () => (current ? current.abort() : rl.close()));
  process.stdout.write(`Chatting with ${model ?? "(no model: use /model provider/model)"}. /help lists the commands, Ctrl-D leaves.\n`);
  rl.prompt();
  for await (const line of rl) {
    const input = line.trim();
    if (input === "/exit" || input === "/quit") {
      leftByCommand = true;
      break;
    }
    if (input === "/help" || input === "/?") {
      process.stdout.write(helpText());
    } else if (input === "/model" || input.startsWith("/model ")) {
      const next = input.slice("/model".length).trim();
      try {
        if (next) model = runtime.resolveRef(next).ref;
        process.stdout.write(`model: ${model ?? "(none)"}\n`);
      } catch (error) {
        reportError(error, false);
      }
    } else if (input === "/reset") {
      history.splice(options.system ? 1 : 0);
      process.stdout.write("history cleared\n");
    } else if (/^\/[a-z?]+$/i.test(input)) {
      // A mistyped command is not a question for the model.
      process.stdout.write(`unknown command ${input}: /help lists the commands\n`);
    } else if (input) {
      history.push({ role: "user", content: input });
      // The interface stays live while the answer streams, so Ctrl-C reaches it and stops the answer.
      current = new AbortController();
      try {
        const { text } = await streamReply(runtime, model, history, options, current.signal);
        history.push({ role: "assistant", content: text });
      } catch (error) {
        history.pop();
        if (!isOpenClawError(error) || !(error instanceof CancelledError)) reportError(error, false);
        else process.stdout.write("(stopped)\n");
      } finally {
        current = undefined;
      }
    }
    rl.prompt();
  }
  rl.close();
  // Ctrl-D leaves the cursor after the prompt: end that line so the shell's prompt starts clean.
  if (!leftByCommand) process.stdout.write("\n");
}
