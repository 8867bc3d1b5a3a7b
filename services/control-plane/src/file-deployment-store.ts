import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { MeshError } from "@espmesh/telemetry";
import type { DeploymentStore, StoredDeployment } from "./deployment-store.js";

interface FileContents {
  version: 1;
  deployments: StoredDeployment[];
}

/**
 * Deployments in one JSON file (the embedded mode). The file is read once when opened and
 * rewritten whole on every change, through a temporary file and a rename, so a crash leaves
 * either the old or the new contents.
 */
export async function createFileDeploymentStore(path: string): Promise<DeploymentStore> {
  const deployments = new Map<string, StoredDeployment>();
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Partial<FileContents>;
    for (const deployment of parsed.deployments ?? []) deployments.set(deployment.name, deployment);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new MeshError(
        "FAILED_PRECONDITION",
        `cannot read the deployments file ${path}: ${(error as Error).message}`,
        {
          cause: error,
          details: { file: path },
        },
      );
    }
  }
  let writing: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const contents: FileContents = {
      version: 1,
      deployments: [...deployments.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
    const text = `${JSON.stringify(contents, null, 2)}\n`;
    writing = writing.then(async () => {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, text, "utf8");
      await rename(temporary, path);
    });
    return writing;
  };
  return {
    list: async () => [...deployments.values()].sort((a, b) => a.name.localeCompare(b.name)),
    get: async (name) => deployments.get(name),
    put: async (deployment) => {
      deployments.set(deployment.name, { ...deployment });
      await save();
    },
    delete: async (name) => {
      const existed = deployments.delete(name);
      if (existed) await save();
      return existed;
    },
    close: async () => {
      await writing;
    },
  };
}
