import { AppsV1Api, AutoscalingV2Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { ChildObject } from "./manifests.js";

/** A live Kubernetes object, as far as the operator looks at it. */
export interface LiveObject {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Read, create, replace and delete of one kind of child object. */
export interface ChildApi {
  read(namespace: string, name: string): Promise<LiveObject | undefined>;
  create(namespace: string, body: object): Promise<void>;
  replace(namespace: string, name: string, body: object): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

/** True for an API error with HTTP status `code`. */
export function isStatus(error: unknown, code: number): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

async function ignoreMissing(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
  }
}

/** The typed client-node APIs for each kind of child, behind one shape. */
export function createChildApis(kubeConfig: KubeConfig): Record<ChildObject["kind"], ChildApi> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
  // The typed APIs want their model classes; the plain bodies built by manifests.ts match them.
  // biome-ignore lint/suspicious/noExplicitAny: bodies are plain objects shaped like the models.
  type Body = any;
  return {
    ConfigMap: {
      read: (namespace, name) => orUndefined(() => core.readNamespacedConfigMap({ namespace, name })),
      create: async (namespace, body) => void (await core.createNamespacedConfigMap({ namespace, body: body as Body })),
      replace: async (namespace, name, body) =>
        void (await core.replaceNamespacedConfigMap({ namespace, name, body: body as Body })),
      delete: (namespace, name) => ignoreMissing(() => core.deleteNamespacedConfigMap({ namespace, name })),
    },
    Service: {
      read: (namespace, name) =>
        orUndefined(() => core.readNamespacedService({ namespace, name })) as Promise<LiveObject | undefined>,
      create: async (namespace, body) => void (await core.createNamespacedService({ namespace, body: body as Body })),
      replace: async (namespace, name, body) =>
        void (await core.replaceNamespacedService({ namespace, name, body: body as Body })),
      delete: (namespace, name) => ignoreMissing(() => core.deleteNamespacedService({ namespace, name })),
    },
    Deployment: {
      read: (namespace, name) =>
        orUndefined(() => apps.readNamespacedDeployment({ namespace, name })) as Promise<LiveObject | undefined>,
      create: async (namespace, body) =>
        void (await apps.createNamespacedDeployment({ namespace, body: body as Body })),
      replace: async (namespace, name, body) =>
        void (await apps.replaceNamespacedDeployment({ namespace, name, body: body as Body })),
      delete: (namespace, name) => ignoreMissing(() => apps.deleteNamespacedDeployment({ namespace, name })),
    },
    HorizontalPodAutoscaler: {
      read: (namespace, name) =>
        orUndefined(() => autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name })) as Promise<
          LiveObject | undefined
        >,
      create: async (namespace, body) =>
        void (await autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace, body: body as Body })),
      replace: async (namespace, name, body) =>
        void (await autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body: body as Body })),
      delete: (namespace, name) =>
        ignoreMissing(() => autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace, name })),
    },
  };
}
