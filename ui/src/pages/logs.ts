import { ApiError, api } from "../api.js";
import { h, replace } from "../dom.js";
import type { Page } from "../main.js";

interface Tail {
  present: boolean;
  cursor: string;
  lines: Array<Record<string, unknown>>;
}

/** Lines kept on the page; older ones scroll away. */
const MAX_LINES = 1000;
const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

const str = (value: unknown) => (value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value));

function row(line: Record<string, unknown>): HTMLElement {
  const level = typeof line.level === "number" ? (LEVELS[line.level] ?? String(line.level)) : str(line.level) || "info";
  const time = typeof line.time === "number" || typeof line.time === "string" ? new Date(line.time).toLocaleTimeString() : "";
  const request = [line.method, line.path, line.status, line.ms === undefined ? undefined : `${str(line.ms)} ms`]
    .filter((v) => v !== undefined)
    .map(str)
    .join(" ");
  const extra = [line.model, line.error ?? line.err]
    .filter((v) => v !== undefined)
    .map(str)
    .join(" · ");
  return h(
    "tr",
    { class: `log ${level}` },
    h("td", { class: "time" }, time),
    h("td", { class: "level" }, level),
    h("td", {}, str(line.msg)),
    h("td", { class: "rid" }, str(line.requestId)),
    h("td", {}, request),
    h("td", { class: "muted" }, extra),
  );
}

export const renderLogs: Page = (root) => {
  const status = h("p", { class: "muted", id: "log-status" }, "Reading the log…");
  const body = h("tbody", {});
  const pause = h("input", { type: "checkbox", id: "log-pause" });
  let cursor: string | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    if (!pause.checked) {
      try {
        const tail = await api<Tail>(`logs${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
        if (!tail.present)
          status.textContent = "No log file yet (the gateway writes <state>/logs/gateway.log unless gateway.logs.file is false).";
        else {
          status.textContent = "Following gateway.log";
          cursor = tail.cursor;
          for (const line of tail.lines) body.appendChild(row(line));
          while (body.childElementCount > MAX_LINES) body.firstElementChild?.remove();
          if (tail.lines.length) body.lastElementChild?.scrollIntoView({ block: "nearest" });
        }
      } catch (error) {
        // A session that ended goes back to the sign-in form (main.ts listens for the rejection).
        if (error instanceof ApiError && error.status === 401) {
          stopped = true;
          throw error;
        }
        status.textContent = error instanceof Error ? error.message : String(error);
      }
    }
    if (!stopped) timer = setTimeout(() => void poll(), 2000);
  };
  replace(
    root,
    h("header", { class: "page-header" }, h("h1", {}, "Live log"), h("label", { class: "pause" }, pause, " Pause")),
    status,
    h(
      "div",
      { class: "log-box" },
      h(
        "table",
        { class: "grid logs", id: "log-table" },
        h("thead", {}, h("tr", {}, ...["Time", "Level", "Message", "Request id", "Request", ""].map((t) => h("th", {}, t)))),
        body,
      ),
    ),
  );
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
