// @platform/infra: one voting-app environment as a Pulumi program (AWS Fargate or the local target) and the
// operations that run it through the Automation API.

export * from "./aws";
export {
  environmentNameSchema,
  existingEnvironmentNameSchema,
  MAX_ENV_NAME_LENGTH,
  RESERVED_ENVIRONMENT_NAMES,
} from "./environment-name";
export { localEnvironmentProgram, localResourceCount } from "./local/program";
export {
  createEnvironmentOperations,
  type EnvironmentOperationsWithControl,
  PROJECT_NAME,
} from "./operations/create-operations";
export { classifyError, EnvironmentOperationError } from "./operations/errors";
export { EngineEventMapper } from "./operations/events";
export { localPassphrase } from "./operations/passphrase";
export { defaultCliRoot, resolvePulumiCommand, sdkVersion } from "./operations/pulumi-cli";
export * from "./operations/types";
export {
  environmentRefSchema,
  environmentSpecSchema,
  operationsConfigSchema,
} from "./spec";
