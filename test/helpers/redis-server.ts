import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./fake-idp.js";
import { waitUntil } from "./wait.js";

/** A real `redis-server` on 127.0.0.1, no persistence, in a temp dir; it can be killed and started again on the same port. */
export interface RedisServer {
  url: string;
  port: number;
  /** SIGKILL: the clients see their connections drop. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: nothing was saved). */
  restart(): Promise<void>;
  /** One command over a fresh connection (RESP), for assertions: the reply as text. */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const encode = (args: string[]) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`;

/** A minimal RESP exchange (after AUTH when a password is set): enough for PING, GET, KEYS in tests, without a client library. */
function sendCommand(port: number, args: string[], password: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const authReply = password ? "+OK\r\n" : "";
    let reply = "";
    const done = () => resolve(reply.startsWith(authReply) ? reply.slice(authReply.length) : reply);
    socket.setEncoding("utf8");
    socket.once("error", reject);
    socket.on("data", (chunk: string) => {
      reply += chunk;
      const own = reply.slice(authReply.length);
      // Simple, error and integer replies end at the first CRLF; bulk and array replies are read whole by the short timeout below.
      if (reply.startsWith(authReply) && /^[+\-:]/.test(own) && own.endsWith("\r\n")) socket.end();
    });
    socket.on("end", done);
    socket.on("close", done);
    socket.write((password ? encode(["AUTH", password]) : "") + encode(args));
    socket.setTimeout(300, () => socket.end());
  });
}

/** `password`: the server requires it (`--requirepass`); `url` then carries it, as a deployment's would. */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "openclaw-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(
      "redis-server",
      [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"],
        ...(options.password ? ["--requirepass", options.password] : []),
      ],
      { stdio: "ignore" },
    );
    child = started;
    await waitUntil(async () => started.exitCode === null && (await reachable(port)), { what: "redis-server to listen" });
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    url: options.password ? `redis://:${options.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    command: (...args) => sendCommand(port, args, options.password),
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
