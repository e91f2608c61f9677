import { z } from "zod";
import { strictObject } from "./strict-object.js";

/** Gateway API policy attachment: which object (and optionally which rule) a policy applies to. */
export const targetRefSchema = strictObject({
  group: z.string().default("gateway.networking.k8s.io"),
  kind: z.string().default("HTTPRoute"),
  name: z.string().min(1).max(253),
  /** For an HTTPRoute: the `name` of one rule; absent = every rule. */
  sectionName: z.string().min(1).max(253).optional(),
});

export type TargetRef = z.output<typeof targetRefSchema>;
