/**
 * Stands in for the `yaml` package in the Worker bundle (wrangler.toml `[alias]`): the Worker
 * reads bundles of parsed documents and refuses YAML text before any parser is called
 * (`yaml: "refuse"`), so this only keeps ~200 KiB of parser out of the upload.
 */
export function parseAllDocuments(): never {
  throw new Error("the Worker bundle has no YAML parser: publish bundles parsed documents (meshgate publish)");
}
