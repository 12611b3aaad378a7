import { loadConfig } from "../../config/load.js";
import { NotFoundError } from "../../shared/errors.js";
import { openStateReader } from "../../store/state-reader.js";
import { printJson } from "../output.js";
import { renderTable } from "../table.js";

export async function runSessionsList(options: { json?: boolean; limit?: string; agent?: string }): Promise<void> {
  const { config, paths } = await loadConfig();
  const store = await openStateReader(paths.stateDir, config, { create: true });
  try {
    const sessions = await store.listSessions({
      limit: options.limit ? Number(options.limit) : 50,
      ...(options.agent ? { agentId: options.agent } : {}),
    });
    if (options.json) return printJson({ sessions });
    if (sessions.length === 0) {
      process.stdout.write("No sessions yet.\n");
      return;
    }
    const lines = renderTable(
      [
        { header: "UPDATED", values: sessions.map((s) => new Date(s.updatedAt).toISOString().slice(0, 19).replace("T", " ")) },
        { header: "TURNS", values: sessions.map((s) => String(s.turns)), align: "right" },
        { header: "TOKENS", values: sessions.map((s) => String(s.promptTokens + s.completionTokens)), align: "right", dropOrder: 2 },
        { header: "COST $", values: sessions.map((s) => s.cost.toFixed(4)), align: "right", dropOrder: 1 },
        { header: "SESSION", values: sessions.map((s) => s.key), minWidth: 20 },
      ],
      process.stdout.columns || 100,
    );
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await store.close();
  }
}

export async function runSessionsShow(key: string, options: { json?: boolean }): Promise<void> {
  const { config, paths } = await loadConfig();
  const store = await openStateReader(paths.stateDir, config, { create: true });
  try {
    const found = await store.getSession(key);
    if (!found) throw new NotFoundError(`no session ${JSON.stringify(key)}: see openclaw sessions list`);
    if (options.json) return printJson(found);
    const { session, turns } = found;
    const lines = [
      `Session ${session.key} (agent ${session.agentId}${session.channel ? `, channel ${session.channel}` : ""})`,
      `${session.turns} turns, ${session.promptTokens} prompt + ${session.completionTokens} completion tokens, $${session.cost.toFixed(6)}`,
    ];
    for (const turn of turns) {
      lines.push(
        "",
        `— ${new Date(turn.at).toISOString()} ${turn.model} [${turn.status}]${turn.usage ? ` ${turn.usage.total_tokens} tokens` : ""}${turn.requestId ? ` ${turn.requestId}` : ""}`,
      );
      for (const message of turn.input)
        lines.push(`${message.role}: ${typeof message.content === "string" ? message.content : JSON.stringify(message.content)}`);
      if (turn.output)
        lines.push(
          `assistant: ${typeof turn.output.content === "string" ? turn.output.content : JSON.stringify(turn.output.tool_calls ?? turn.output.content)}`,
        );
      if (turn.error) lines.push(`error: ${turn.error}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await store.close();
  }
}
