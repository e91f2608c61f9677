import * as z from "../policy/zod.js";
import { metadataSchema } from "../policy/meta.js";
import { strictObject } from "../policy/strict-object.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { BACKEND_SETTINGS } from "./backend.js";

/**
 * meshgate.dev/v1alpha1 BackendTrafficPolicy (in the style of Envoy Gateway's): a Backend's own
 * settings — TLS, connection limits, timeouts, circuit breaker, outlier detection, health checks,
 * load balancing — written for a Service. It applies wherever that Service is reached: a Backend
 * document of that name (its settings are replaced field by field, with a warning), or the
 * endpoints DNS discovery finds for it.
 */
export const backendTrafficPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("BackendTrafficPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
    targetRefs: z.array(targetRefSchema).check(z.minLength(1, { message: "a BackendTrafficPolicy needs at least one targetRef" }), z.maxLength(16), z.superRefine((refs, ctx) => {
        refs.forEach((r, i) => {
          if (r.kind !== "Service" || r.group !== "") ctx.addIssue({ code: "custom", path: [i, "kind"], message: `a BackendTrafficPolicy targets Services ({group: "", kind: Service}), not ${r.group === "" ? "" : `${r.group}/`}${r.kind}` });
        });
      })),
    ...BACKEND_SETTINGS,
  }),
});

export type BackendTrafficPolicy = z.output<typeof backendTrafficPolicySchema>;
