// The two files of undici the HTTP/1.1 transport loads instead of undici's entry (see
// undici-transport.ts), typed as the entry exports them.
declare module "undici/lib/dispatcher/pool.js" {
  import type { Pool } from "undici";
  const PoolClass: typeof Pool;
  export default PoolClass;
}
declare module "undici/lib/core/errors.js" {
  import type { errors } from "undici";
  const undiciErrors: typeof errors;
  export default undiciErrors;
}
