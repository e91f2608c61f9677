import * as z from "./zod.js";
import { suggestField } from "./suggest.js";

/**
 * The one way a policy schema declares an object: unknown fields are refused, never dropped.
 * A dropped field is a silent change of meaning (`authorisation:` removed every DENY rule,
 * `consumer:` made an ALLOW rule allow everyone), so every kind, meshgate's and Gateway API's,
 * is strict, as Kubernetes' strict field validation is. The issue names each unknown field and
 * suggests the closest known one; `zodIssuesToPolicy` turns it into one issue per field.
 *
 * @example
 * const limit = strictObject({ requests: z.number(), burst: z.number().optional() });
 * limit.safeParse({ requests: 1, burstt: 3 }); // unknown field "burstt" (did you mean "burst"?)
 */
export function strictObject<Shape extends z.core.$ZodShape>(shape: Shape): z.ZodMiniObject<Shape, z.core.$strict> {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownFieldMessages(issue.keys, knownKeys(issue.inst) ?? known) : undefined),
  });
}

/** One line per unknown key, in the order of `keys`; the issue formatter splits them again. */
function unknownFieldMessages(keys: readonly string[], known: readonly string[]): string {
  return keys.map((key) => unknownFieldMessage(key, known)).join("\n");
}

/** `unknown field "burstt" (did you mean "burst"?)`, or the list of fields when nothing is close. */
export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const guess = suggestField(key, known);
  if (guess !== null) return `unknown field "${key}" (did you mean "${guess}"?)`;
  return `unknown field "${key}" (known fields: ${known.join(", ")})`;
}

/** An extended schema (`.extend()`) keeps this error map; its own shape is the one to suggest from. */
function knownKeys(inst: unknown): string[] | null {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : null;
}
