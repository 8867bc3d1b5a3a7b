import type { EspClient } from "@espmesh/client";
import type { Logger } from "@espmesh/telemetry";
import type { GatewayMetrics } from "../gateway-metrics.js";
import type { MeshWindows } from "../mesh-windows.js";
import type { CompiledGatewayOptions } from "../options.js";

/** What the route modules share: the mesh client, the window cache, options and lifecycle. */
export interface RouteContext {
  readonly client: EspClient;
  readonly windows: MeshWindows;
  readonly config: CompiledGatewayOptions;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Aborted when the gateway stops: ends every subscription. */
  readonly stopping: AbortSignal;
  /** Whether the gateway is running (not starting, draining or stopped), for `/readyz`. */
  isRunning(): boolean;
}
