import { api } from "../api.js";
import { formatCount, formatTime, formatUsd, h, replace, table } from "../dom.js";
import type { Page } from "../main.js";
import { loadInto } from "./load.js";

interface KeyView {
  id: string;
  name: string;
  prefix: string;
  state: string;
  created_at: number | null;
  expires_at: number | null;
  models: string[] | null;
  agents: string[] | null;
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget: { usd: number; period: string } | null;
  budget_spent_usd: number | null;
}

const seconds = (value: number | null) => (value === null ? null : value * 1000);

function budget(key: KeyView): string {
  if (!key.budget) return "—";
  return `${formatUsd(key.budget_spent_usd ?? 0)} of ${formatUsd(key.budget.usd)} / ${key.budget.period}`;
}

export const renderKeys: Page = (root) => {
  const list = h("div", {});
  const notice = h("div", { id: "key-notice" });
  const load = () =>
    loadInto(
      list,
      () => api<{ data: KeyView[] }>("keys"),
      ({ data }) =>
        table(
          ["Name", "Key", "State", "Models", "RPM", "TPM", "Parallel", "Budget", "Created", "Expires", ""],
          data.map((key) => [
            key.name,
            h("code", {}, `${key.prefix}…`),
            h("span", { class: `badge ${key.state}` }, key.state),
            key.models?.join(", ") ?? "any",
            formatCount(key.rpm),
            formatCount(key.tpm),
            formatCount(key.max_parallel),
            budget(key),
            formatTime(seconds(key.created_at)),
            formatTime(seconds(key.expires_at)),
            key.state === "revoked"
              ? ""
              : h(
                  "button",
                  {
                    type: "button",
                    class: "danger small",
                    "data-revoke": key.name,
                    onclick: async () => {
                      if (!confirm(`Revoke key ${key.name}? Clients using it are refused at once.`)) return;
                      await api(`keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
                      replace(notice, h("p", { class: "ok" }, `Key ${key.name} revoked.`));
                      await load();
                    },
                  },
                  "Revoke",
                ),
          ]),
          { empty: "No keys yet.", id: "keys-table" },
        ),
    );

  const name = h("input", { name: "name", id: "key-name", required: true, placeholder: "name (e.g. ci-bot)", maxlength: 64 });
  const rpm = h("input", { name: "rpm", type: "number", min: 1, placeholder: "RPM" });
  const tpm = h("input", { name: "tpm", type: "number", min: 1, placeholder: "TPM" });
  const usd = h("input", { name: "budget", type: "number", min: 0, step: "0.01", placeholder: "Budget $" });
  const period = h("select", { name: "period" }, ...["30d", "7d", "1d", "total"].map((p) => h("option", { value: p }, p)));
  const days = h("input", { name: "expires", type: "number", min: 1, placeholder: "Expires in days" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { id: "create-key", class: "card create-key" },
    name,
    rpm,
    tpm,
    usd,
    period,
    days,
    h("button", { type: "submit" }, "Create key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body: Record<string, unknown> = { name: name.value.trim() };
    if (rpm.value) body.rpm = Number(rpm.value);
    if (tpm.value) body.tpm = Number(tpm.value);
    if (usd.value) body.budget = { usd: Number(usd.value), period: period.value };
    if (days.value) body.expires_in = Number(days.value) * 86_400;
    try {
      const created = await api<{ key: KeyView; secret: string }>("keys", { method: "POST", body });
      form.reset();
      // The secret exists only in this answer: shown once, never fetched again.
      const secret = h("input", { readonly: true, value: created.secret, id: "new-key-secret", class: "secret" });
      replace(
        notice,
        h(
          "div",
          { class: "card secret-box" },
          h("strong", {}, `Key ${created.key.name} created. Copy its secret now: it is not shown again.`),
          secret,
          h("button", { type: "button", onclick: () => void navigator.clipboard?.writeText(secret.value) }, "Copy"),
          h("button", { type: "button", class: "link", onclick: () => replace(notice) }, "Done"),
        ),
      );
      await load();
    } catch (failure) {
      error.textContent = failure instanceof Error ? failure.message : String(failure);
    }
  });
  replace(root, h("header", { class: "page-header" }, h("h1", {}, "Keys")), form, error, notice, list);
  void load();
  return () => replace(notice);
};
