/**
 * Merges the Prometheus text of several processes (`serve --workers N`) into one scrape:
 * counters and histograms (buckets, _sum, _count) are summed series by series, so rates stay
 * right; gauges are not additive (a config version, a breaker state), so each process keeps
 * its own series with a `worker` label.
 */
export function mergeExpositions(texts: readonly string[]): string {
  interface Family {
    readonly head: string[];
    type: string;
    readonly series: Map<string, number>;
  }
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { head: [], type: "untyped", series: new Map() }));
    return f;
  };
  texts.forEach((text, worker) => {
    const types = new Map<string, string>();
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (meta !== null) {
        const f = familyOf(meta[2]!);
        if (meta[1] === "TYPE") {
          types.set(meta[2]!, meta[3] ?? "untyped");
          f.type = meta[3] ?? "untyped";
        }
        if (worker === 0 || f.head.length < 2) if (!f.head.includes(line)) f.head.push(line);
        continue;
      }
      if (line.startsWith("#")) continue;
      const space = line.lastIndexOf(" ");
      const key = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      const brace = key.indexOf("{");
      const sample = brace === -1 ? key : key.slice(0, brace);
      const name = familyName(sample, types);
      const f = familyOf(name);
      if (f.type === "gauge" || f.type === "untyped") {
        const labelled = brace === -1 ? `${key}{worker="${worker}"}` : `${key.slice(0, -1)},worker="${worker}"}`;
        f.series.set(labelled, value);
      } else f.series.set(key, (f.series.get(key) ?? 0) + value);
    }
  });
  let out = "";
  for (const f of families.values()) {
    for (const h of f.head) out += `${h}\n`;
    for (const [key, value] of f.series) out += `${key} ${value}\n`;
  }
  return out;
}

/** A histogram's `x_bucket`, `x_sum` and `x_count` samples belong to family `x`. */
function familyName(sample: string, types: ReadonlyMap<string, string>): string {
  if (types.has(sample)) return sample;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (types.has(base)) return base;
    }
  }
  return sample;
}
