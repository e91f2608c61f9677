import type { CompileYield } from "./compile-prepared.js";

/**
 * A CompileYield that gives the event loop a turn once `sliceMs` of compiling went by, so the
 * requests that arrived meanwhile are served between two routes instead of after the compile.
 * A macrotask (setTimeout), not a microtask: only a macrotask lets I/O callbacks run.
 */
export function timeSlices(sliceMs = 5): CompileYield {
  let since = performance.now();
  return () => {
    if (performance.now() - since < sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        since = performance.now();
        resolve();
      }, 0),
    );
  };
}
