import { createClient, type EspClient } from "@espmesh/client";
import { MeshError } from "@espmesh/telemetry";
import { addressOf } from "./address.js";

/**
 * A failure to reach the control plane, said so a user can act on it; any other failure as is.
 * grpc-js words an unreachable server as "No connection established. Last error: ..." naming the
 * address it tried.
 */
export function explainUnreachable(error: unknown, address: string): MeshError {
  const failure = MeshError.from(error);
  if (failure.code !== "UNAVAILABLE" || !failure.message.includes(address)) return failure;
  return new MeshError(
    "UNAVAILABLE",
    `cannot reach the mesh at ${address}: is \`espmesh up\` running there? (set --address or ESPMESH_ADDRESS)`,
    { details: failure.details, cause: failure },
  );
}

/**
 * Runs `work` with a client of the mesh at the command's `--address` (or the default), closes
 * the client afterwards, and turns "cannot connect" into a message naming the address.
 */
export async function withClient<T>(
  options: { readonly [option: string]: unknown },
  work: (client: EspClient) => Promise<T>,
): Promise<T> {
  const address = addressOf(options);
  const client = createClient({ address });
  try {
    return await work(client);
  } catch (error) {
    throw explainUnreachable(error, address);
  } finally {
    client.close();
  }
}
