export const API_GATEWAY = "gateway.networking.k8s.io/v1";
export const API_MESHGATE = "meshgate.dev/v1alpha1";

export { httpRouteSchema } from "./httproute.js";
export type { HTTPRoute, HTTPRouteRule, HTTPBackendRef, HTTPRouteFilter, HTTPPathModifier, HTTPRouteMatch, HTTPHeaderMatch, HTTPQueryParamMatch } from "./httproute.js";
export { backendSchema, type Backend, type BackendEndpoint } from "./backend.js";
export { metadataSchema, type ObjectMeta } from "./meta.js";
export { durationSchema, parseDuration } from "./duration.js";
export { trafficPolicySchema, type TrafficPolicy, type TrafficRetry } from "./traffic-policy.js";
export { targetRefSchema, type TargetRef } from "./target-ref.js";
export { securityPolicySchema, ASYMMETRIC_ALGORITHMS, type SecurityPolicy, type JwtProviderSpec, type ApiKeySpec, type AuthorizationRuleSpec, type ExtractFrom } from "./security-policy.js";
export { rateLimitPolicySchema, type RateLimitPolicy, type RateLimitRuleSpec } from "./rate-limit-policy.js";
export { gatewaySchema, type Gateway, type GatewayListener } from "./gateway.js";
