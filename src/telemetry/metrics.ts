/**
 * A small Prometheus registry that runs on any runtime (prom-client needs node:*).
 * Series are keyed by their label values, joined once per observation.
 */
type Labels = readonly string[];

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelText(names: Labels, values: Labels, extra = ""): string {
  const parts = names.map((n, i) => `${n}="${escape(values[i] ?? "")}"`);
  if (extra !== "") parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

interface Metric {
  render(): string;
}

/** One counter series; `count` is what a scrape shows. */
export interface CounterSeries {
  count: number;
}

/** One histogram series: cumulative bucket counts, sum and count. */
export class HistogramSeries {
  readonly values: Labels;
  readonly buckets: number[];
  sum = 0;
  count = 0;
  constructor(values: Labels, private readonly bounds: readonly number[]) {
    this.values = [...values];
    this.buckets = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) if (value <= bounds[i]!) this.buckets[i]!++;
  }
}

export class Counter implements Metric {
  /** Sets an absolute value (for counters kept elsewhere and read at scrape time). */
  setTotal(values: Labels, total: number): void {
    this.series.set(values.join("\u0000"), { values: [...values], count: total });
  }

  private readonly series = new Map<string, CounterSeries & { readonly values: Labels }>();
  constructor(readonly name: string, readonly help: string, readonly labels: Labels = []) {}

  inc(values: Labels = [], by = 1): void {
    this.seriesOf(values).count += by;
  }

  /** The series for `values`, made at 0 if new: a caller on the request path keeps it and adds to `count`. */
  seriesOf(values: Labels): CounterSeries {
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { values: [...values], count: 0 }));
    return s;
  }

  get(values: Labels = []): number {
    return this.series.get(values.join("\u0000"))?.count ?? 0;
  }

  /** Sum over the series whose labels satisfy `where` (for dashboards). */
  sum(where: (values: Labels) => boolean): number {
    let total = 0;
    for (const s of this.series.values()) if (where(s.values)) total += s.count;
    return total;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const s of this.series.values()) out += `${this.name}${labelText(this.labels, s.values)} ${s.count}\n`;
    return out;
  }
}

export class Gauge implements Metric {
  private readonly series = new Map<string, { values: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string, readonly labels: Labels = []) {}

  set(values: Labels, value: number): void {
    this.series.set(values.join("\u0000"), { values: [...values], value });
  }

  reset(): void {
    this.series.clear();
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const s of this.series.values()) out += `${this.name}${labelText(this.labels, s.values)} ${s.value}\n`;
    return out;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, HistogramSeries>();
  constructor(readonly name: string, readonly help: string, readonly labels: Labels, readonly bounds: readonly number[]) {}

  observe(values: Labels, value: number): void {
    this.seriesOf(values).observe(value);
  }

  /** The series for `values` (made empty if new), to observe into without looking it up again. */
  seriesOf(values: Labels): HistogramSeries {
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = new HistogramSeries(values, this.bounds)));
    return s;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      this.bounds.forEach((b, i) => (out += `${this.name}_bucket${labelText(this.labels, s.values, `le="${b}"`)} ${s.buckets[i]}\n`));
      out += `${this.name}_bucket${labelText(this.labels, s.values, 'le="+Inf"')} ${s.count}\n`;
      out += `${this.name}_sum${labelText(this.labels, s.values)} ${s.sum}\n`;
      out += `${this.name}_count${labelText(this.labels, s.values)} ${s.count}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  private readonly collectors: (() => void)[] = [];
  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }
  /** Runs before every render: for values read from elsewhere (upstream state) at scrape time. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }
  render(): string {
    for (const c of this.collectors) c();
    return this.metrics.map((m) => m.render()).join("");
  }
}
