import { compileSnapshot } from "../snapshot/compile-snapshot.js";
import { PreparedSnapshotHolder, type SnapshotHolderOptions } from "./prepared-snapshot-holder.js";

export { PreparedSnapshotHolder, type CompileSources, type ReloadFailure, type ReloadResult, type SnapshotHolderOptions } from "./prepared-snapshot-holder.js";

/**
 * Holds the snapshot in force and loads policy sources into it: parse, validate and compile
 * (compileSnapshot), then swap. See PreparedSnapshotHolder for what a reload keeps and refuses.
 */
export class SnapshotHolder extends PreparedSnapshotHolder {
  constructor(options: SnapshotHolderOptions = {}) {
    super({ compileSources: compileSnapshot, ...options });
  }
}
