import type { Located } from "../policy/located.js";
import type { PolicyIssue } from "../policy/issues.js";
import type { CompiledBackend } from "../upstream/compiled-backend.js";
import type { RouteEntry } from "./compiled-rule.js";
import { compileRoute, type RuleContext, type ServicePolicies } from "./compile-rule.js";
import type { HTTPRoute } from "./httproute.js";
import type { MeshRef } from "./mesh.js";

/** One question a route's compile asked of its context, and the answer it got. */
type Call =
  | { readonly kind: "backend"; readonly key: string; readonly answer: CompiledBackend | undefined }
  | { readonly kind: "resolve"; readonly key: string; readonly backend: CompiledBackend; readonly port: number | undefined; readonly service: boolean | undefined; readonly answer: CompiledBackend | string }
  | { readonly kind: "discover"; readonly key: string; readonly port: number | undefined; readonly answer: CompiledBackend | string | null }
  | { readonly kind: "traffic" | "security" | "rateLimit"; readonly ruleName: string | undefined; readonly answer: unknown }
  | { readonly kind: "destination"; readonly service: string; readonly answer: ServicePolicies | null };

interface CompiledRoute {
  readonly file: string;
  readonly index: number;
  readonly hostnames: readonly (string | null)[];
  readonly mesh: readonly MeshRef[];
  readonly protocol: RuleContext["protocol"];
  readonly calls: readonly Call[];
  readonly issues: readonly PolicyIssue[];
  readonly entries: RouteEntry[];
}

/**
 * The compiled routes of the last snapshot, for the next compile to reuse. A route compiles from
 * its document and what it asks its context (backends, Service ports, attached policies); both
 * are recorded, and a route is reused only when its document is the same object (a reload hands
 * unchanged documents back as they were: parse-cache.ts, policy-wire.ts), at the same place, and
 * every question asked again gets the identical answer. Its warnings are repeated as they were
 * given. Anything else compiles afresh, so a reuse is exactly what a compile would have built.
 */
export class RouteCompileCache {
  private last = new Map<HTTPRoute, CompiledRoute>();
  /** Routes the last committed compile took from the one before (the bench and tests read it). */
  lastReused = 0;

  /** One snapshot compile: `compile` each route, then `commit` once the snapshot is built. */
  begin(): RouteCompileRun {
    const next = new Map<HTTPRoute, CompiledRoute>();
    let reused = 0;
    return {
      compile: (located, ctx, hostnames, mesh = []) => {
        const before = this.last.get(located.doc);
        const protocol = ctx.protocol;
        if (before !== undefined && before.file === located.file && before.index === located.index && before.protocol === protocol && sameList(before.hostnames, hostnames) && sameMesh(before.mesh, mesh) && answersAgain(before.calls, ctx, located.doc)) {
          ctx.issues.push(...before.issues);
          next.set(located.doc, before);
          reused++;
          return before.entries;
        }
        const calls: Call[] = [];
        const from = ctx.issues.length;
        const entries = compileRoute(located, recording(ctx, calls), hostnames, mesh);
        next.set(located.doc, { file: located.file, index: located.index, hostnames, mesh, protocol, calls, issues: ctx.issues.slice(from), entries });
        return entries;
      },
      reused: () => reused,
      commit: () => {
        this.last = next;
        this.lastReused = reused;
      },
    };
  }
}

export interface RouteCompileRun {
  compile(located: Located<HTTPRoute>, ctx: RuleContext, hostnames: readonly (string | null)[], mesh?: readonly MeshRef[]): RouteEntry[];
  /** Routes this run took from the last one. */
  reused(): number;
  /** The snapshot was built: its routes are what the next compile may reuse. */
  commit(): void;
}

/** `ctx`, writing down every question asked of it and its answer. */
function recording(ctx: RuleContext, calls: Call[]): RuleContext {
  const services = ctx.services;
  const destination = ctx.destination;
  return {
    ...ctx,
    backends: {
      get: (key) => {
        const answer = ctx.backends.get(key);
        calls.push({ kind: "backend", key, answer });
        return answer;
      },
    },
    ...(services !== undefined
      ? {
          services: {
            resolve: (key, backend, port, service) => {
              const answer = services.resolve(key, backend, port, service);
              calls.push({ kind: "resolve", key, backend, port, service, answer });
              return answer;
            },
            discover: (key, port) => {
              const answer = services.discover(key, port);
              calls.push({ kind: "discover", key, port, answer });
              return answer;
            },
          },
        }
      : {}),
    traffic: (route, ruleName) => {
      const answer = ctx.traffic(route, ruleName);
      calls.push({ kind: "traffic", ruleName, answer });
      return answer;
    },
    security: (route, ruleName) => {
      const answer = ctx.security(route, ruleName);
      calls.push({ kind: "security", ruleName, answer });
      return answer;
    },
    rateLimit: (route, ruleName) => {
      const answer = ctx.rateLimit(route, ruleName);
      calls.push({ kind: "rateLimit", ruleName, answer });
      return answer;
    },
    ...(destination !== undefined
      ? {
          destination: (service: string) => {
            const answer = destination(service);
            calls.push({ kind: "destination", service, answer });
            return answer;
          },
        }
      : {}),
  };
}

/** Asks `ctx` every recorded question again, in order: true when each answer is the one recorded. */
function answersAgain(calls: readonly Call[], ctx: RuleContext, route: HTTPRoute): boolean {
  for (const c of calls) {
    switch (c.kind) {
      case "backend":
        if (ctx.backends.get(c.key) !== c.answer) return false;
        break;
      case "resolve":
        if (ctx.services?.resolve(c.key, c.backend, c.port, c.service) !== c.answer) return false;
        break;
      case "discover":
        if ((ctx.services?.discover(c.key, c.port) ?? null) !== c.answer) return false;
        break;
      case "traffic":
      case "security":
      case "rateLimit":
        if (ctx[c.kind](route, c.ruleName) !== c.answer) return false;
        break;
      case "destination":
        if (!samePolicies(ctx.destination?.(c.service) ?? null, c.answer)) return false;
        break;
    }
  }
  return true;
}

/** A Service's policies are rebuilt per compile; what they hold is compiled once per document. */
function samePolicies(a: ServicePolicies | null, b: ServicePolicies | null): boolean {
  if (a === null || b === null) return a === b;
  return a.security === b.security && a.rateLimit === b.rateLimit && a.traffic === b.traffic;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameMesh(a: readonly MeshRef[], b: readonly MeshRef[]): boolean {
  return a.length === b.length && a.every((x, i) => x.service === b[i]!.service && x.host === b[i]!.host && x.role === b[i]!.role && x.port === b[i]!.port && x.parent === b[i]!.parent);
}
