import { api } from "../api.js";
import { formatCount, h, table } from "../dom.js";
import type { Page } from "../main.js";
import { loadInto } from "./load.js";

interface ModelEntry {
  id: string;
  owned_by: string;
  context_window?: number;
  max_output_tokens?: number;
  pricing?: { input_per_1m: number | null; output_per_1m: number | null };
  tee?: boolean;
  tee_status?: "declared" | "attested" | "refused";
  tee_verified_at?: number;
  aliases: string[];
}

const price = (usd: number | null | undefined) => (usd === null || usd === undefined ? "—" : `$${usd}`);

function tee(model: ModelEntry): Node | string {
  if (!model.tee) return "—";
  const status = model.tee_status ?? "declared";
  const when = model.tee_verified_at ? ` · verified ${new Date(model.tee_verified_at * 1000).toLocaleString()}` : "";
  return h("span", { class: `badge ${status}` }, `${status}${when}`);
}

export const renderModels: Page = (root) => {
  const list = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  root.append(h("header", { class: "page-header" }, h("h1", {}, "Models")), list);
  void loadInto(
    list,
    () => api<{ data: ModelEntry[] }>("models"),
    ({ data }) =>
      table(
        ["Model", "Provider", "TEE", "Context", "Max output", "Input / 1M", "Output / 1M", "Aliases"],
        data.map((model) => [
          h("code", {}, model.id),
          model.owned_by,
          tee(model),
          formatCount(model.context_window),
          formatCount(model.max_output_tokens),
          price(model.pricing?.input_per_1m),
          price(model.pricing?.output_per_1m),
          model.aliases.join(", ") || "—",
        ]),
        { empty: "No models: set up a provider (openclaw onboard).", id: "models-table" },
      ),
  );
  return undefined;
};
