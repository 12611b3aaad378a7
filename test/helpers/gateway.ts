import { type ChildProcess, spawn } from "node:child_process";
import OpenAI from "openai";
import { CLI, type TestState } from "./cli.js";

export const GATEWAY_TOKEN = "test-gateway-token-0123456789";

export interface RunningGateway {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  client(options?: { apiKey?: string; headers?: Record<string, string> }): OpenAI;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** Start the real `openclaw gateway` process on a free port and wait until it listens. */
export async function startGateway(
  state: TestState,
  args: string[] = ["--enable-endpoints"],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningGateway> {
  const child = spawn(process.execPath, [CLI, "gateway", "--port", "0", ...args], {
    env: { OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, ...state.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${stderr}`)), 15_000);
    child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.on("close", () => reject(new Error(`gateway exited:\n${stderr}`)));
  });
  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    client: (options = {}) =>
      new OpenAI({
        baseURL: `${url}/v1`,
        apiKey: options.apiKey ?? GATEWAY_TOKEN,
        maxRetries: 0,
        timeout: 15_000,
        defaultHeaders: options.headers ?? {},
      }),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The request log lines the gateway printed (JSON on stdout). */
export function requestLogs(gateway: RunningGateway): Array<Record<string, unknown>> {
  return gateway
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.msg === "request");
}

/** A fetch response's JSON body, for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected by assertions
export async function jsonOf(response: Response): Promise<any> {
  return response.json();
}
