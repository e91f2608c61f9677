import type { SecurityPolicy } from "./security-policy.js";
import type { Authorization } from "./authorization.js";
import type { CidrSet } from "../http/cidr.js";

/** A SecurityPolicy as the pipeline needs it; its runtime parts (key sets, caches) are built per pipeline. */
export interface CompiledSecurity {
  /** "namespace/name" */
  readonly name: string;
  readonly spec: SecurityPolicy["spec"];
  readonly authorization: Authorization | null;
  readonly dryRun: boolean;
  /** Peers whose x-forwarded-client-cert is believed; null: nobody's. */
  readonly forwardedCertificateFrom: CidrSet | null;
}
