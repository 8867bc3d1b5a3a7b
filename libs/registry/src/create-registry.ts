import type { KubernetesRegistryOptions } from "./kubernetes-registry.js";
import { createLocalRegistry, type LocalRegistryOptions } from "./local-registry.js";
import { createStaticRegistry, type StaticRegistryOptions } from "./static-registry.js";
import type { MembershipSnapshot, Registry } from "./types.js";

/** Which registry {@link createRegistry} builds, with that kind's options. */
export type RegistryOptions =
  | ({ kind: "kubernetes" } & KubernetesRegistryOptions)
  | ({ kind: "local" } & LocalRegistryOptions)
  | ({ kind: "static" } & StaticRegistryOptions);

/** A registry built on first use by an async factory (keeps heavy modules unloaded until then). */
function lazyRegistry(build: () => Promise<Registry>): Registry {
  let built: Promise<Registry> | undefined;
  let closed = false;
  return {
    async *watch(signal?: AbortSignal): AsyncGenerator<MembershipSnapshot, void, undefined> {
      if (closed) return;
      built ??= build();
      yield* (await built).watch(signal);
    },
    async close() {
      closed = true;
      if (built !== undefined) await (await built).close();
    },
  };
}

/**
 * Builds the registry of the given kind: `kubernetes` (EndpointSlices of a Service; the
 * Kubernetes client is loaded at the first `watch`, where bad options are reported), `local`
 * (a RegistryService's Watch) or `static` (a fixed list).
 */
export function createRegistry(options: RegistryOptions): Registry {
  switch (options.kind) {
    case "kubernetes":
      return lazyRegistry(async () => (await import("./kubernetes-registry.js")).createKubernetesRegistry(options));
    case "local":
      return createLocalRegistry(options);
    case "static":
      return createStaticRegistry(options);
  }
}
