/**
 * @packageDocumentation
 * Test support of `@espmesh/registry`: a FAKE Kubernetes API server (list/watch protocol over
 * node:http) and bounded wait helpers. For tests only.
 */
export { type FakeFailureMatch, FakeKubeApi, type FakeObject, type FakeRequest, mergePatch } from "./fake-kube-api.js";
export { FakeKubeStore, matchesSelector } from "./fake-kube-store.js";
export { nextMatching, waitUntil } from "./wait.js";
