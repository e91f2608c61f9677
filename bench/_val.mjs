import { readFileSync } from "node:fs";
import { fastYamlValues } from "../dist/runtime/node/fast-yaml.js";
import { validateDocuments } from "../dist/snapshot/validate.js";
const text = readFileSync("/tmp/prof/pol/routes.yaml", "utf8");
for (let r = 0; r < 5; r++) {
  let t = performance.now(); const vals = fastYamlValues(text); const y = performance.now() - t;
  const raws = vals.map((value, index) => ({ file: "routes.yaml", index, value }));
  t = performance.now(); const set = validateDocuments(raws); const v = performance.now() - t;
  console.log(`yaml ${y.toFixed(1)} validate ${v.toFixed(1)} routes ${set.routes.length} issues ${set.issues.length}`);
}
