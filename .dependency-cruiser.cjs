// The layer order of src/, written once: a folder may import only from folders before it.
// `npm run lint` runs this (dependency-cruiser) beside the Web-Standards check of the core.
const LAYERS = ["http", "policy", "hygiene", "identity", "ratelimit", "resilience", "upstream", "routing", "snapshot", "telemetry", "config", "admin", "import", "<top>", "runtime", "cli"];
const pathOf = (layer) => (layer === "<top>" ? "^src/[^/]+\\.tsx?$" : `^src/${layer}/`);

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer === "<top>" ? "top" : layer}`,
  comment: `src/${layer} sits below ${LAYERS.slice(i + 1).join(", ")} and must not import from them`,
  severity: "error",
  from: { path: pathOf(layer) },
  to: { path: LAYERS.slice(i + 1).map(pathOf).join("|") },
}));

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "imports never run in a circle", severity: "error", from: {}, to: { circular: true } },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test\\.tsx?$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js"] },
  },
};
