import uPlot from "uplot";
import { api } from "../api.js";
import { formatCount, formatUsd, h, replace, table } from "../dom.js";
import type { Page } from "../main.js";
import { loadInto } from "./load.js";

interface Point {
  start: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
}
interface Series {
  bucket_ms: number;
  points: Point[];
}
interface UsageRow {
  group: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  p50LatencyMs: number | null;
}

const RANGES = ["1h", "6h", "24h", "7d"];
const RANGE_MS: Record<string, number> = { "1h": 3_600_000, "6h": 21_600_000, "24h": 86_400_000, "7d": 604_800_000 };
const COLORS = ["#4f8cff", "#f5a524", "#e5484d", "#30a46c"];

/** `gappy`: the series is null where there were no requests (latency, error rate): points show lone values. */
function chart(
  title: string,
  xs: number[],
  lines: Array<{ label: string; values: Array<number | null> }>,
  format: (v: number) => string,
  gappy = false,
) {
  const holder = h("div", { class: "chart card" }, h("h3", {}, title));
  const width = () => Math.max(280, holder.clientWidth - 24);
  const plot = new uPlot(
    {
      width: 400,
      height: 180,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: "#9aa4b2", grid: { stroke: "#2a3140" }, ticks: { stroke: "#2a3140" } },
        {
          stroke: "#9aa4b2",
          grid: { stroke: "#2a3140" },
          ticks: { stroke: "#2a3140" },
          // Wide enough for the longest label ("1,250 ms", "$0.000075"): a fixed width clipped them.
          size: (_u: uPlot, values: string[] | null) => 24 + 7 * Math.max(3, ...(values ?? []).map((value) => value.length)),
          values: (_u, ticks) => ticks.map(format),
        },
      ],
      series: [
        {},
        ...lines.map((line, index) => ({
          label: line.label,
          stroke: COLORS[index % COLORS.length],
          width: 2,
          fill: index === 0 ? `${COLORS[0]}22` : undefined,
          spanGaps: false,
          points: { show: gappy, size: 6 },
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : format(v)),
        })),
      ],
    },
    [xs, ...lines.map((line) => line.values)] as uPlot.AlignedData,
    holder,
  );
  requestAnimationFrame(() => plot.setSize({ width: width(), height: 180 }));
  return { holder, plot };
}

function summary(points: Point[]) {
  const requests = points.reduce((sum, p) => sum + p.requests, 0);
  const errors = points.reduce((sum, p) => sum + p.errors, 0);
  const tokens = points.reduce((sum, p) => sum + p.promptTokens + p.completionTokens, 0);
  const cost = points.reduce((sum, p) => sum + p.cost, 0);
  const p50s = points.map((p) => p.p50LatencyMs).filter((v): v is number => v !== null);
  const p99s = points.map((p) => p.p99LatencyMs).filter((v): v is number => v !== null);
  const stat = (label: string, value: string, id: string) =>
    h("div", { class: "stat card", id }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
  return h(
    "div",
    { class: "stats" },
    stat("Requests", formatCount(requests), "stat-requests"),
    stat("Error rate", requests ? `${((errors / requests) * 100).toFixed(1)}%` : "—", "stat-errors"),
    stat("p50 latency", p50s.length ? `${Math.round(Math.max(...p50s))} ms` : "—", "stat-p50"),
    stat("p99 latency", p99s.length ? `${Math.round(Math.max(...p99s))} ms` : "—", "stat-p99"),
    stat("Tokens", formatCount(tokens), "stat-tokens"),
    stat("Spend", formatUsd(cost), "stat-spend"),
  );
}

export const renderOverview: Page = (root) => {
  let range = "1h";
  let plots: uPlot[] = [];
  const picker = h("div", { class: "range-picker", role: "group" });
  const body = h("div", {});
  const byModel = h("div", {});
  const draw = async () => {
    for (const button of picker.querySelectorAll("button")) button.classList.toggle("active", button.textContent === range);
    const series = await api<Series>(`series?range=${range}`);
    for (const plot of plots) plot.destroy();
    const { points, bucket_ms: bucketMs } = series;
    const xs = points.map((p) => p.start / 1000);
    const perSecond = bucketMs / 1000;
    const charts = [
      chart("Requests / s", xs, [{ label: "req/s", values: points.map((p) => p.requests / perSecond) }], (v) => v.toFixed(v < 1 ? 3 : 1)),
      chart(
        "Latency",
        xs,
        [
          { label: "p50", values: points.map((p) => p.p50LatencyMs) },
          { label: "p99", values: points.map((p) => p.p99LatencyMs) },
        ],
        (v) => `${Math.round(v)} ms`,
        true,
      ),
      chart(
        "Error rate",
        xs,
        [{ label: "errors", values: points.map((p) => (p.requests ? (p.errors / p.requests) * 100 : null)) }],
        (v) => `${v.toFixed(0)}%`,
        true,
      ),
      chart(
        "Tokens",
        xs,
        [
          { label: "prompt", values: points.map((p) => p.promptTokens) },
          { label: "completion", values: points.map((p) => p.completionTokens) },
        ],
        (v) => formatCount(Math.round(v)),
      ),
      chart("Spend", xs, [{ label: "USD", values: points.map((p) => p.cost) }], (v) =>
        v === 0 ? "$0" : `$${v < 0.01 ? v.toPrecision(2) : v.toFixed(2)}`,
      ),
    ];
    plots = charts.map((entry) => entry.plot);
    replace(body, summary(points), h("div", { class: "charts" }, ...charts.map((entry) => entry.holder)));
    const since = Math.floor((Date.now() - (RANGE_MS[range] ?? 3_600_000)) / 1000);
    await loadInto(
      byModel,
      () => api<{ rows: UsageRow[] }>(`usage?by=model&since=${since}`),
      ({ rows }) =>
        table(
          ["Model", "Requests", "Errors", "Prompt tokens", "Completion tokens", "Spend", "p50"],
          rows.map((row) => [
            row.group ?? "(none)",
            formatCount(row.requests),
            formatCount(row.errors),
            formatCount(row.promptTokens),
            formatCount(row.completionTokens),
            formatUsd(row.cost),
            row.p50LatencyMs === null ? "—" : `${Math.round(row.p50LatencyMs)} ms`,
          ]),
          { empty: "No requests in this range.", id: "usage-by-model" },
        ),
    );
  };
  for (const name of RANGES)
    picker.appendChild(
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            range = name;
            void draw();
          },
        },
        name,
      ),
    );
  replace(root, h("header", { class: "page-header" }, h("h1", {}, "Overview"), picker), body, h("h2", {}, "By model"), byModel);
  void draw();
  const timer = setInterval(() => void draw(), 15_000);
  return () => {
    clearInterval(timer);
    for (const plot of plots) plot.destroy();
  };
};
