import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { summarize } from "./stats.js";

export interface LoadTarget {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  latency: ReturnType<typeof summarize>;
  /** Time to the first body byte (for streams, the first event). */
  ttfb: ReturnType<typeof summarize>;
  /** CPU time this process (the load generator) spent, in ms, so we can tell whether it was the bottleneck. */
  loaderCpuMs: number;
}

/** Live counts of a run, readable while it goes (the slow-stream bench samples memory mid-run). */
export interface LoadProgress {
  firstBytes: number;
  completed: number;
  errors: number;
}

function requestBytes(target: LoadTarget): Buffer {
  const url = new URL(target.url);
  const body = Buffer.from(target.body);
  const lines = [
    `POST ${url.pathname}${url.search} HTTP/1.1`,
    `host: ${url.host}`,
    "content-type: application/json",
    `content-length: ${body.length}`,
    ...Object.entries(target.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

type State = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-trailer" | "until-close";

/**
 * One keep-alive HTTP/1.1 connection sending a fixed, pre-serialised request over and over. It
 * parses only what it must to find where a response ends (content-length or chunked framing),
 * which costs a few µs per request: a general-purpose client (undici) costs about as much CPU as
 * the proxy it measures, and on a 2-core machine that would make the load generator the ceiling.
 */
class Connection {
  private socket: Socket | undefined;
  private pending: Buffer | undefined;
  private state: State = "head";
  private busy = false;
  private remaining = 0;
  private status = 0;
  private closeAfter = false;
  private sentAt = 0;
  private firstAt = 0;
  private sent = 0;

  constructor(
    private readonly port: number,
    private readonly host: string,
    private readonly request: Buffer,
    private readonly again: (sent: number) => boolean,
    private readonly record: (ok: boolean, latency: number, ttfb: number) => void,
    private readonly onFirstByte: () => void,
    private readonly done: () => void,
  ) {}

  start() {
    if (!this.again(this.sent)) return this.done();
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    this.socket = socket;
    this.pending = undefined;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.busy && this.state === "until-close") {
        this.closeAfter = true;
        this.finish();
        return;
      }
      // A connection that closes mid-answer, or is refused before anything was sent, is one failed request.
      if (this.busy) this.busy = false;
      else this.sent++;
      this.record(false, 0, 0);
      setTimeout(() => this.start(), 10); // no busy loop against a target that is down
    });
    socket.on("connect", () => this.send());
  }

  private send(): void {
    this.busy = true;
    this.sent++;
    this.state = "head";
    this.firstAt = 0;
    this.sentAt = performance.now();
    this.socket?.write(this.request);
  }

  private body(n: number): void {
    if (n > 0 && !this.firstAt) {
      this.firstAt = performance.now();
      this.onFirstByte();
    }
  }

  private onData(chunk: Buffer) {
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    for (;;) {
      if (this.state === "head") {
        const end = buffer.indexOf("\r\n\r\n", offset);
        if (end < 0) return this.keep(buffer, offset);
        const head = buffer.toString("latin1", offset, end).toLowerCase();
        this.status = Number(head.slice(9, 12));
        this.closeAfter = /\r\nconnection:\s*close/.test(head);
        offset = end + 4;
        const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
        if (/\r\ntransfer-encoding:\s*chunked/.test(head)) this.state = "chunk-size";
        else if (length) {
          this.state = "length";
          this.remaining = Number(length[1]);
          if (this.remaining === 0) return this.finish();
        } else this.state = "until-close";
      } else if (this.state === "length" || this.state === "chunk-data") {
        const n = Math.min(this.remaining, buffer.length - offset);
        this.body(n);
        this.remaining -= n;
        offset += n;
        if (this.remaining > 0) return;
        if (this.state === "length") return this.finish();
        this.state = "chunk-size";
      } else if (this.state === "chunk-size" || this.state === "chunk-trailer") {
        const end = buffer.indexOf("\r\n", offset);
        if (end < 0) return this.keep(buffer, offset);
        if (this.state === "chunk-trailer") {
          const empty = end === offset;
          offset = end + 2;
          if (empty) return this.finish();
          continue;
        }
        const size = Number.parseInt(buffer.toString("latin1", offset, end), 16);
        offset = end + 2;
        if (size === 0) this.state = "chunk-trailer";
        else {
          this.state = "chunk-data";
          this.remaining = size + 2; // the data and its CRLF
        }
      } else {
        this.body(buffer.length - offset);
        return;
      }
    }
  }

  private keep(buffer: Buffer, offset: number): void {
    if (offset < buffer.length) this.pending = buffer.subarray(offset);
  }

  private finish(): void {
    const end = performance.now();
    this.busy = false;
    this.record(this.status === 200, end - this.sentAt, (this.firstAt || end) - this.sentAt);
    if (this.closeAfter || !this.again(this.sent)) {
      const socket = this.socket;
      this.socket = undefined;
      socket?.destroy();
      if (this.closeAfter) this.start();
      else this.done();
      return;
    }
    this.send();
  }
}

function run(
  target: LoadTarget,
  connections: number,
  again: (sent: number) => boolean,
  progress: LoadProgress,
  batch = connections,
): Promise<Omit<LoadResult, "seconds" | "rps">> {
  const url = new URL(target.url);
  const request = requestBytes(target);
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve) => {
    let open = connections;
    const record = (ok: boolean, latency: number, ttfb: number) => {
      if (!ok) {
        progress.errors++;
        if (launched < connections && progress.firstBytes + progress.errors >= launched) launch();
      } else {
        progress.completed++;
        latencies.push(latency);
        ttfbs.push(ttfb);
      }
    };
    const done = () => {
      if (--open > 0) return;
      const cpu = process.cpuUsage(cpuBefore);
      resolve({
        requests: latencies.length,
        errors: progress.errors,
        latency: summarize(latencies),
        ttfb: summarize(ttfbs),
        loaderCpuMs: (cpu.user + cpu.system) / 1000,
      });
    };
    // Connections open in batches, the next when the last has its first bytes: a thousand SYNs at
    // once overflow the listen backlog, and the kernel's 1 s / 3 s SYN retries would be measured.
    let launched = 0;
    const launch = () => {
      const end = Math.min(connections, launched + batch);
      for (; launched < end; launched++) new Connection(Number(url.port), url.hostname, request, again, record, onFirstByte, done).start();
    };
    const onFirstByte = () => {
      progress.firstBytes++;
      if (launched < connections && progress.firstBytes + progress.errors >= launched) launch();
    };
    launch();
  });
}

/**
 * A closed-loop load generator: `connections` keep-alive connections, each sending the next
 * request as soon as the previous answer has been read to the end, for `seconds`.
 */
export async function runLoad(options: LoadTarget & { connections: number; seconds: number }): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const result = await run(options, options.connections, () => performance.now() < deadline, { firstBytes: 0, completed: 0, errors: 0 });
  const seconds = (performance.now() - started) / 1000;
  return { ...result, seconds, rps: result.requests / seconds };
}

/** `connections` requests at once, one per connection, each read to its end (slow streams). */
export function runOnce(options: LoadTarget & { connections: number; batch?: number }): {
  progress: LoadProgress;
  result: Promise<LoadResult>;
} {
  const progress: LoadProgress = { firstBytes: 0, completed: 0, errors: 0 };
  const started = performance.now();
  const result = run(options, options.connections, (sent) => sent === 0, progress, options.batch).then((partial) => {
    const seconds = (performance.now() - started) / 1000;
    return { ...partial, seconds, rps: partial.requests / seconds };
  });
  return { progress, result };
}
