import * as z from "./zod.js";
import { strictObject } from "./strict-object.js";
import { suggestField } from "./suggest.js";

const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** The API group of each kind a policy can target ("" = Kubernetes core, where Service lives). */
const TARGET_GROUPS: ReadonlyMap<string, string> = new Map([
  ["HTTPRoute", GATEWAY_GROUP],
  ["GRPCRoute", GATEWAY_GROUP],
  ["Gateway", GATEWAY_GROUP],
  ["Service", ""],
]);

/**
 * Gateway API policy attachment: which object (and optionally which rule) a policy applies to.
 * `group` defaults to the kind's own group (`""` for Service, Gateway API's otherwise), so
 * `{kind: Service, name: reviews}` means the core Service. A kind one typo away from a known one,
 * or a known kind in the wrong group, is refused: the policy would otherwise apply nowhere.
 */
export const targetRefSchema = z.pipe(strictObject({
  group: z.optional(z.string().check(z.maxLength(253))),
  kind: z._default(z.string().check(z.minLength(1), z.maxLength(63)), "HTTPRoute"),
  name: z.string().check(z.minLength(1), z.maxLength(253)),
  /** For an HTTPRoute: the `name` of one rule; absent = every rule. */
  sectionName: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
}).check(z.superRefine((ref, ctx) => {
    const group = TARGET_GROUPS.get(ref.kind);
    if (group === undefined) {
      const guess = suggestField(ref.kind, [...TARGET_GROUPS.keys()]);
      if (guess !== null) ctx.addIssue({ code: "custom", path: ["kind"], message: `unknown target kind "${ref.kind}" (did you mean "${guess}"?)` });
      return;
    }
    if (ref.group !== undefined && ref.group !== group) {
      const expected = group === "" ? '"" (the Kubernetes core group)' : group;
      ctx.addIssue({ code: "custom", path: ["group"], message: `${ref.kind} is in group ${expected}, not "${ref.group}"` });
    }
    if (ref.kind === "Service" && ref.sectionName !== undefined) {
      ctx.addIssue({ code: "custom", path: ["sectionName"], message: "sectionName (a Service port name) is not supported on Service targets: the policy applies to every port of the Service" });
    }
  })), z.transform((ref) => ({ ...ref, group: ref.group ?? TARGET_GROUPS.get(ref.kind) ?? GATEWAY_GROUP })));

export type TargetRef = z.output<typeof targetRefSchema>;
