/**
 * @packageDocumentation
 * The Kubernetes side of `@espmesh/registry` (`@espmesh/registry/kubernetes`): the
 * EndpointSlice registry, the self-healing informer it is built on (the operator uses it too)
 * and the slice-to-member merge. Kept apart from the main entry so that processes that never
 * talk to Kubernetes do not load `@kubernetes/client-node`.
 */
export * from "./endpoint-slice-members.js";
export * from "./kube-informer.js";
export * from "./kubernetes-registry.js";
