import type { WindowDef } from "./project-model.js";

/** A project as written, before resolution: what the XML and YAML readers produce. */
export interface ProjectDef {
  readonly name: string;
  readonly description: string | undefined;
  readonly queries: readonly { readonly name: string; readonly windows: readonly WindowDef[] }[];
}
