import { createRequire } from "node:module";

// Pulumi serializes the dynamic provider's closures and runs inline programs in this process: load the
// compiled package with Node's own require, not through vitest's transform (pulumi/pulumi#6390).
const load = createRequire(__filename);
export const infra: typeof import("../../src/index") = load("../../dist/index.js");
export const processControl: typeof import("../../src/local/process-control") = load(
  "../../dist/local/process-control.js",
);
export const haproxy: typeof import("../../src/local/haproxy") = load("../../dist/local/haproxy.js");
export const selfHealing: typeof import("../../src/local/self-healing") = load(
  "../../dist/local/self-healing.js",
);
export const supervisor: typeof import("../../src/local/supervisor") = load("../../dist/local/supervisor.js");
