import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./fake-idp.js";

const run = promisify(execFile);
const BIN = process.env.OPENCLAW_TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PostgresServer {
  port: number;
  /** A URL for `database` (created by `createDatabase`), with a password that trust auth ignores (to see it redacted). */
  url(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** One query on `database`, for assertions. */
  query<Row = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<Row[]>;
  /** Fast shutdown (clients are cut); `start` brings it back on the same port and data dir. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop and remove the data dir. */
  destroy(): Promise<void>;
}

/** PostgreSQL refuses to run as root: as root we run its programs as the `postgres` user. */
async function asPostgres(program: string, args: string[]): Promise<void> {
  const file = path.join(BIN, program);
  if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", file, ...args]);
  else await run(file, args);
}

/** A real PostgreSQL on a free loopback port, in a temp dir (initdb, trust auth, fsync off: a test cluster). */
export async function startPostgres(): Promise<PostgresServer> {
  const root = await mkdtemp(path.join(os.tmpdir(), "openclaw-pg-"));
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(root, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(root, 0o700);
  const data = path.join(root, "data");
  await asPostgres("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => asPostgres("pg_ctl", ["-D", data, "-l", path.join(root, "log"), "-w", "-t", "30", "-o", options, "start"]);
  const stop = () => asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "30", "stop"]);
  await start();
  const url = (database: string) => `postgres://postgres:not-a-real-password@127.0.0.1:${port}/${database}`;
  const query = async <Row>(database: string, sql: string, params: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: url(database) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Row[];
    } finally {
      await client.end();
    }
  };
  let running = true;
  return {
    port,
    url,
    query,
    async createDatabase(name) {
      await query("postgres", `CREATE DATABASE "${name.replaceAll('"', "")}"`);
      return url(name);
    },
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      running = false;
      await rm(root, { recursive: true, force: true });
    },
  };
}
