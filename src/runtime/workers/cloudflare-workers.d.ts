// The part of the `cloudflare:workers` module meshgate uses, for the Node-typed build of src/.
// (The Workers test project type-checks against @cloudflare/workers-types instead.)
declare module "cloudflare:workers" {
  export interface DurableObjectStorageLike {
    get<T>(key: string): Promise<T | undefined>;
    put<T>(key: string, value: T, options?: { allowUnconfirmed?: boolean }): Promise<void>;
    setAlarm(scheduledTime: number): Promise<void>;
    getAlarm(): Promise<number | null>;
    deleteAll(): Promise<void>;
  }
  export interface DurableObjectStateLike {
    readonly storage: DurableObjectStorageLike;
    blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
  }
  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectStateLike;
    protected readonly env: Env;
    constructor(ctx: DurableObjectStateLike, env: Env);
    alarm?(): void | Promise<void>;
  }
}
