import { api } from "../api.js";
import { formatCount, formatTime, formatUsd, h, replace, table } from "../dom.js";
import type { Page } from "../main.js";
import { loadInto } from "./load.js";

interface SessionSummary {
  key: string;
  agentId: string;
  channel: string | null;
  updatedAt: number;
  turns: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  lastModel: string | null;
}
interface Message {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
}
interface Turn {
  at: number;
  model: string;
  endpoint: string;
  status: string;
  error?: string;
  input: Message[];
  output: Message | null;
  usage: { total_tokens?: number } | null;
  cost: number | null;
}

const text = (content: unknown) => (typeof content === "string" ? content : JSON.stringify(content, null, 2));

export const renderSessions: Page = (root) => {
  const agent = h("input", { type: "search", id: "filter-agent", placeholder: "Agent id" });
  const query = h("input", { type: "search", id: "filter-text", placeholder: "Search key, agent, model" });
  const list = h("div", {});
  const load = () => {
    const params = new URLSearchParams();
    if (agent.value.trim()) params.set("agent", agent.value.trim());
    if (query.value.trim()) params.set("q", query.value.trim());
    return loadInto(
      list,
      () => api<{ data: SessionSummary[] }>(`sessions?${params}`),
      ({ data }) =>
        table(
          ["Updated", "Session", "Agent", "Turns", "Tokens", "Spend", "Last model"],
          data.map((session) => [
            formatTime(session.updatedAt),
            h("a", { href: `#/sessions/${encodeURIComponent(session.key)}`, class: "session-link" }, session.key),
            session.agentId,
            formatCount(session.turns),
            formatCount(session.promptTokens + session.completionTokens),
            formatUsd(session.cost),
            session.lastModel ?? "—",
          ]),
          { empty: "No sessions match.", id: "sessions-table" },
        ),
    );
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 250);
  };
  agent.addEventListener("input", later);
  query.addEventListener("input", later);
  replace(root, h("header", { class: "page-header" }, h("h1", {}, "Sessions"), h("div", { class: "filters" }, agent, query)), list);
  void load();
  return () => clearTimeout(timer);
};

function message(role: string, content: unknown): HTMLElement {
  return h("div", { class: `message ${role}` }, h("div", { class: "role" }, role), h("pre", {}, text(content)));
}

export function renderTranscript(root: HTMLElement, key: string): undefined {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  root.append(
    h("header", { class: "page-header" }, h("h1", {}, "Transcript"), h("a", { href: "#/sessions", class: "back" }, "← All sessions")),
    body,
  );
  void loadInto(
    body,
    () => api<{ session: SessionSummary; turns: Turn[] }>(`sessions/${encodeURIComponent(key)}`),
    ({ session, turns }) =>
      h(
        "div",
        { id: "transcript" },
        h(
          "div",
          { class: "card meta" },
          h("code", {}, session.key),
          h(
            "span",
            { class: "muted" },
            ` · agent ${session.agentId} · ${session.turns} turns · ${formatCount(session.promptTokens + session.completionTokens)} tokens · ${formatUsd(session.cost)}`,
          ),
        ),
        ...turns.map((turn) =>
          h(
            "article",
            { class: "turn card" },
            h(
              "div",
              { class: "turn-meta muted" },
              `${formatTime(turn.at)} · ${turn.model} · ${turn.status}${turn.usage?.total_tokens ? ` · ${turn.usage.total_tokens} tokens` : ""}`,
            ),
            ...turn.input.map((entry) => message(entry.role, entry.content)),
            turn.output ? message("assistant", turn.output.content ?? turn.output.tool_calls) : null,
            turn.error ? h("p", { class: "error" }, turn.error) : null,
          ),
        ),
      ),
  );
  return undefined;
}
