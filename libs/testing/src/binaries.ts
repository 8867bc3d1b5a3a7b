import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { MeshError } from "@espmesh/telemetry";

/** Directories searched after `PATH`: Debian puts nats-server in /usr/sbin, which users' PATH may omit. */
const extraDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    // Not there or not executable: the caller tries the next candidate.
    return false;
  }
}

/**
 * The absolute path of an executable: `name` itself when it contains a slash, else the first match
 * on `PATH` or in the usual system directories. Rejects with FAILED_PRECONDITION naming the binary
 * and the apt-get command that installs it.
 */
export function findBinary(name: string): string {
  if (name.includes("/")) {
    if (isExecutable(name)) return isAbsolute(name) ? name : join(process.cwd(), name);
  } else {
    const path = process.env.PATH ?? "";
    for (const directory of [...path.split(delimiter), ...extraDirectories]) {
      if (directory === "") continue;
      const candidate = join(directory, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  throw new MeshError(
    "FAILED_PRECONDITION",
    `${name} was not found (searched PATH and /usr/sbin); install it with: apt-get install redis-server nats-server`,
    { details: { binary: name } },
  );
}
