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
export {
  createNetworkOperations,
  createPlatformOperations,
  type NetworkOperationsWithControl,
  networkResourceCount,
  type PlatformOperations,
} from "./operations/network-operations";
export { localPassphrase } from "./operations/passphrase";
export { defaultCliRoot, resolvePulumiCommand, sdkVersion } from "./operations/pulumi-cli";
export * from "./operations/types";
export { ENVIRONMENT_PROJECT, NETWORK_PROJECT, networkStackReferenceName } from "./projects";
export {
  awsRegionSchema,
  CACHE_KIND_LABELS,
  CACHE_KIND_LOCAL_MEANING,
  CACHE_KINDS,
  CACHE_NODE_TYPES,
  type CacheKind,
  cacheOptionsSchema,
  DATABASE_BACKUP_RETENTION_DAYS,
  DATABASE_ENGINE_LABELS,
  DATABASE_ENGINES,
  DATABASE_INSTANCE_CLASSES,
  DATABASE_STORAGE_GB,
  databaseOptionsSchema,
  defaultNetworkName,
  environmentRefSchema,
  environmentSpecSchema,
  existingNetworkSchema,
  networkNameSchema,
  networkRefSchema,
  networkSpecSchema,
  operationsConfigSchema,
} from "./spec";
