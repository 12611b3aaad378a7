/**
 * Labelled histograms and counters kept in plain arrays and Maps on the request path, rendered by
 * prom-client's registry at scrape time (it asks each metric for `get()`). prom-client's own
 * `observe` validates and sorts its label object on every call (≈ 5 µs with six labels on this
 * machine, several per request); here an observation is one string join, one Map lookup and a
 * bucket scan (well under 1 µs). Label values must come from bounded sets: each distinct
 * combination is a series kept for the life of the process.
 */

type Labels = Record<string, string>;
interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

const SEPARATOR = "\u0000";

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string;
  return labels;
}

interface HistogramSeries {
  labels: Labels;
  /** Observations per bucket (not cumulative), then the ones above the last bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class FastHistogram {
  readonly type = "histogram";
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[],
  ) {}

  /** `values` in the order of the label names. */
  observe(values: readonly string[], value: number): void {
    const key = values.join(SEPARATOR);
    let series = this.series.get(key);
    if (!series) {
      series = { labels: labelsOf(this.labelNames, values), counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    const { buckets } = this;
    let index = 0;
    while (index < buckets.length && value > (buckets[index] as number)) index++;
    (series.counts[index] as number)++;
    series.sum += value;
    series.count++;
  }

  async get() {
    const values: MetricValue[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += series.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: String(this.buckets[i]) }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: "+Inf" }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

export class FastCounter {
  readonly type: "counter" | "gauge" = "counter";
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  inc(values: readonly string[], by = 1): void {
    const key = values.join(SEPARATOR);
    const series = this.series.get(key);
    if (series) series.value += by;
    else this.series.set(key, { labels: labelsOf(this.labelNames, values), value: by });
  }

  async get() {
    const values: MetricValue[] = [...this.series.values()].map(({ labels, value }) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

/** A counter that may go down (open streams). */
export class FastGauge extends FastCounter {
  override readonly type = "gauge";

  dec(values: readonly string[]): void {
    this.inc(values, -1);
  }
}
