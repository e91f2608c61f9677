// Values the vitest global setup hands to test projects (the Workers pool reads them in vitest.config.ts).
declare module "vitest" {
  export interface ProvidedContext {
    upstreamPort: number;
    collectorPort: number;
  }
}
export {};
