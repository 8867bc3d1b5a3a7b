import type { Command } from "commander";

/** `host:port` of the control plane `espmesh up` serves by default. */
export const DEFAULT_CONTROL_PORT = 7400;

/** The control-plane address the mesh commands use when `--address` is not given. */
export function defaultAddress(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ESPMESH_ADDRESS?.trim();
  return fromEnv === undefined || fromEnv === "" ? `127.0.0.1:${DEFAULT_CONTROL_PORT}` : fromEnv;
}

/** Adds the `--address` option every mesh command shares. */
export function addAddressOption(command: Command): Command {
  return command.option(
    "-a, --address <host:port>",
    `gRPC address of the mesh's control plane [default: $ESPMESH_ADDRESS, or 127.0.0.1:${DEFAULT_CONTROL_PORT} as \`espmesh up\` serves it]`,
  );
}

/** The address a mesh command was given, or the default. */
export function addressOf(options: { readonly [option: string]: unknown }): string {
  return typeof options.address === "string" && options.address.trim() !== ""
    ? options.address.trim()
    : defaultAddress();
}
