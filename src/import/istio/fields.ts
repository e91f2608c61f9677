import { join, type DocReport } from "./report.js";

export type Obj = Record<string, unknown>;

/** Structural readers: a wrong type is invalid input with its field path. */
export function obj(r: DocReport, v: unknown, path: string): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) r.invalid(path, "must be a mapping");
  return v as Obj;
}

export function arr(r: DocReport, v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) r.invalid(path, "must be a list");
  return v;
}

export function str(r: DocReport, v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") r.invalid(path, "must be a string");
  return v;
}

export function num(r: DocReport, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) r.invalid(path, "must be a number");
  return v;
}

export function strList(r: DocReport, v: unknown, path: string): string[] {
  return arr(r, v, path).map((s, i) => str(r, s, join(path, i)) ?? r.invalid(join(path, i), "must be a string"));
}

/** Istio durations ("1s", "0.5s", "100ms", "1m", "1h") → milliseconds. */
export function durationMs(r: DocReport, v: unknown, path: string): number | undefined {
  const s = str(r, v, path);
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) return r.invalid(path, `not a duration: "${s}" (e.g. 1.5s, 100ms)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * factor);
}

/** meshgate durations are strings such as "500ms". */
export function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Istio Percent ({value: 12.5}) or the old integer percent. */
export function percent(r: DocReport, v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") return v;
  const p = obj(r, v, path);
  r.unknown(p, ["value"], path);
  return num(r, p.value, join(path, "value")) ?? 0;
}

/** A Kubernetes DNS label made from any text, for generated names. */
export function label(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return s === "" ? "x" : s;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
