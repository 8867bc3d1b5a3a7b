/**
 * @packageDocumentation
 * The espmesh control plane: the Control gRPC API over validated, persisted deployments
 * ({@link createControlPlane}), the deployment settings ({@link compileDeploymentSettings}),
 * the local driver (processes + HPA-rule autoscaling, {@link localDriver}) and the Kubernetes
 * operator for EspProject resources ({@link createOperator}).
 */
export * from "./control-plane.js";
export * from "./deployment-manager.js";
export * from "./deployment-settings.js";
export * from "./deployment-store.js";
export * from "./driver.js";
export * from "./file-deployment-store.js";
export * from "./kubernetes/esp-project.js";
export * from "./kubernetes/kubernetes-driver.js";
export * from "./kubernetes/manifests.js";
export * from "./kubernetes/operator.js";
export * from "./local/cpu-meter.js";
export * from "./local/hpa.js";
export * from "./local/local-driver.js";
export * from "./local/supervised-process.js";
export * from "./project-shape.js";
export * from "./redis-deployment-store.js";
export * from "./worker-probe.js";
